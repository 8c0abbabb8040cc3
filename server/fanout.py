"""Fan-out: one event-log reader per site per process, bounded buffers per socket.

The reader blocks on the site's stream (`XREAD`), decodes each event once, encodes it at
most twice (with ticket ids for staff, without for the public), filters it per socket,
and appends it to that socket's bounded buffer. Each socket's sender drains its own
buffer, so a slow client never delays the others; one that lets its buffer fill up is
cut off (it reconnects with `since` and replays what it missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import domain
from .config import Site
from .store import FAILURES, Store

log = logging.getLogger("loket.fanout")

# What a socket's buffer holds: (kind, seq, ASGI message). The message is built once
# per event (and audience) and shared by every socket that gets it.
EVENT = 0  # an encoded event to send
CATCH_UP = 1  # the socket is behind the reader: send the log's events up to seq
HEARTBEAT = 2  # a keep-alive frame; a send that fails tells us the client left
Message = dict[str, Any]
Item = tuple[int, int, Message]
HEARTBEAT_MESSAGE: Message = {"type": "websocket.send", "text": '{"type":"heartbeat"}'}
NO_MESSAGE: Message = {}
HEARTBEAT_SLICES = 15


@dataclass(eq=False, slots=True)
class Subscriber:
    site: str
    with_id: bool
    wants: Callable[[Site, dict[str, Any]], bool] | None  # None: every event
    limit: int
    ticket: str | None = None
    pending: list[Item] = field(default_factory=list)  # `limit` items at most
    wakeup: asyncio.Future[None] | None = None
    overflowed: bool = False
    quiet: bool = True  # nothing sent since the last heartbeat round
    slot: int = 0  # which slice of the heartbeat interval is this socket's
    sender: asyncio.Task[None] | None = None
    last_position: tuple[Any, ...] | None = None

    def push(self, item: Item) -> bool:
        """Buffer an item for the sender; False when the buffer is full."""
        if len(self.pending) >= self.limit:
            return False
        self.pending.append(item)
        wakeup = self.wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)
        return True

    async def take(self) -> list[Item]:
        """Everything buffered, once there is something."""
        while not self.pending:
            self.wakeup = asyncio.get_running_loop().create_future()
            await self.wakeup
        items = self.pending.copy()  # short-lived; the buffer itself lives on
        self.pending.clear()
        return items


def encode(event: dict[str, Any], with_id: bool) -> str:
    view = domain.event_view(event, with_id=with_id)
    return json.dumps(view, ensure_ascii=False, separators=(",", ":"))


class Fanout:
    def __init__(self, store: Store, heartbeat_s: float = 15.0) -> None:
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.readers: dict[str, asyncio.Task[None]] = {}
        self.position: dict[str, int] = {}  # seq of the last event each reader delivered
        self.beat: asyncio.Task[None] | None = None
        self.joined = 0

    def subscribe(self, sub: Subscriber, last: int) -> None:
        """Deliver events after `last` (the seq the socket's snapshot or replay ends at)."""
        self.subscribers.setdefault(sub.site, set()).add(sub)
        self.joined += 1
        sub.slot = self.joined % HEARTBEAT_SLICES
        reader = self.readers.get(sub.site)
        if reader is None or reader.done():
            # A restarted reader resumes where the old one stopped, for the sockets it had.
            start = min(self.position.get(sub.site, last), last)
            self.position[sub.site] = start
            self.readers[sub.site] = asyncio.create_task(self._read(sub.site, start))
        if self.position[sub.site] > last:
            sub.push((CATCH_UP, self.position[sub.site], NO_MESSAGE))
        if self.beat is None or self.beat.done():
            self.beat = asyncio.create_task(self._heartbeat())

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.get(sub.site, set()).discard(sub)

    async def close(self) -> None:
        tasks = [*self.readers.values(), *([self.beat] if self.beat else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _heartbeat(self) -> None:
        """Every few seconds a tiny frame to each socket that got nothing else: clients
        know the line is alive (they reconnect when it goes quiet), and we find the ones
        that left. Spread over the interval in slices, so that thousands of sockets never
        take their heartbeat at the same moment as a call."""
        tick = 0
        while True:
            await asyncio.sleep(self.heartbeat_s / HEARTBEAT_SLICES)
            tick = (tick + 1) % HEARTBEAT_SLICES
            for subs in self.subscribers.values():
                for sub in subs:
                    if sub.slot != tick:
                        continue
                    if sub.quiet:
                        sub.push((HEARTBEAT, 0, HEARTBEAT_MESSAGE))
                    sub.quiet = True

    async def _read(self, site_id: str, after: int) -> None:
        last = f"{after}-0"
        backoff = 0.2
        while True:
            try:
                rows = await self.store.log.read_events([site_id], {site_id: last}, block_ms=2000)
                site = await self.store.site(site_id) if rows else None
                backoff = 0.2
            except FAILURES as exc:
                log.warning("event reader for %s: %s", site_id, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for _, entry_id, raw in rows:
                last = entry_id
                event = json.loads(raw)
                self.position[site_id] = event["seq"]
                if event["type"] == "site.config_changed":
                    self.store.forget(site_id)
                    with contextlib.suppress(*FAILURES):
                        site = await self.store.site(site_id)
                assert site is not None
                self._deliver(site, event)

    def _deliver(self, site: Site, event: dict[str, Any]) -> None:
        messages: dict[bool, Message] = {}
        seq = event["seq"]
        for sub in self.subscribers.get(site.id, ()):
            if sub.wants is not None and not sub.wants(site, event):
                continue
            message = messages.get(sub.with_id)
            if message is None:
                text = encode(event, sub.with_id)
                message = messages[sub.with_id] = {"type": "websocket.send", "text": text}
            sub.quiet = False
            if not sub.push((EVENT, seq, message)) and not sub.overflowed:
                # Too slow: stop its sender (even mid-send); the socket gets closed.
                sub.overflowed = True
                if sub.sender is not None:
                    sub.sender.cancel()
