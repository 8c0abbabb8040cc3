"""Fan-out: one event-log reader per site per process, bounded buffers per socket.

The reader blocks on the site's stream (`XREAD`), decodes each event once, encodes it at
most twice (with ticket ids for staff, without for the public), filters it per socket,
and hands it on. A socket that is idle (its sender waits, its buffer is empty) and
whose transport takes more gets the frame written at once, in the reader's loop, as
`websockets.broadcast()` does: no task wakes for it (`Subscriber.write`, from the
guarded websocket protocol, server/guard.py). Any other socket gets it appended to its
bounded buffer, which its own sender drains, so a slow client never delays the others;
one that lets its buffer fill up is cut off (it reconnects with `since` and replays
what it missed).

The reader also works out visitors' positions: after each batch of events that moved a
queue some phone watches, it reads those queues once (one round trip, however many
phones) and gives each phone its own line, only when it changed. When the store is lost
(a read fails), every socket of the site is closed (1013): screens show they are offline
and catch up when they come back, instead of living on heartbeats from a dead line. A
second task re-checks the credentials of open sockets and closes revoked ones (1008).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import domain, metrics, tasks
from .config import Site
from .estimate import Load, estimates
from .eventlog import Queues
from .guard import text_frame
from .store import FAILURES, Store, service_load_of

log = logging.getLogger("loket.fanout")

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
STORE_LOST = (TRY_AGAIN_LATER, "store unavailable; reconnect")
TOO_SLOW = (TRY_AGAIN_LATER, "too slow; resume with since")
REVOKED = (POLICY_VIOLATION, "credential revoked")
SITE_EVENTS = frozenset({"site.day_reset", "site.config_changed", "site.announcement"})
SERVER_STOPPING = (1012, "server restarting; reconnect")  # uvicorn already sent it
CLIENT_GONE = (1001, "gone")  # nothing is sent: the connection is lost
DROP_REASONS = {
    TOO_SLOW: "too_slow",
    STORE_LOST: "store_lost",
    REVOKED: "revoked",
    SERVER_STOPPING: "server_stopping",
}

# What a socket's buffer holds: (kind, seq, ASGI message). The message is built once
# per event (and audience) and shared by every socket that gets it.
EVENT = 0  # an encoded event to send
CATCH_UP = 1  # the socket is behind the reader: send the log's events up to seq
HEARTBEAT = 2  # a keep-alive frame; a send that fails tells us the client left
POSITION = 3  # a phone's ticket.position (NO_MESSAGE: work it out from the store)
Message = dict[str, Any]
Item = tuple[int, int, Message]
NO_MESSAGE: Message = {}
HEARTBEAT_SLICES = 15
SAMPLED_SLOT = 0  # buffered sends are timed for the sockets of one heartbeat slice


class Outgoing(dict[str, Any]):
    """A text frame's ASGI message, with the frame itself (built once, for the sockets
    written to directly: guard.py) and when the reader received the event (perf_counter), which
    the send times are measured from (metrics.EVENT_SEND)."""

    __slots__ = ("frame", "received")

    def __init__(self, text: str, received: float = 0.0) -> None:
        super().__init__(type="websocket.send", text=text)
        self.received = received
        self.frame = text_frame(text.encode())


HEARTBEAT_MESSAGE = Outgoing('{"type":"heartbeat"}')


@dataclass(eq=False, slots=True)
class Subscriber:
    site: str
    with_id: bool
    wants: Callable[[Site, dict[str, Any]], bool] | None  # None: every event
    limit: int
    ticket: str | None = None
    # A synchronous write of a ready-made frame (Outgoing.frame) to the socket, False
    # when it cannot take it now (server/guard.py); None: every item goes through the
    # buffer.
    write: Callable[[bytes], bool] | None = None
    last: int = 0  # seq of the last event the socket got (or its snapshot's)
    # The raw credential the socket came with, and how to ask whether it still holds.
    credential: str | None = None
    verify: Callable[[str], Awaitable[bool]] | None = None
    pending: list[Item] = field(default_factory=list)  # `limit` items at most
    wakeup: asyncio.Future[None] | None = None
    closing: tuple[int, str] | None = None  # set when we cut it off: close code, reason
    quiet: bool = True  # nothing sent since the last heartbeat round
    slot: int = 0  # which slice of the heartbeat interval is this socket's
    sender: asyncio.Task[None] | None = None
    # A phone's ticket as last known (from the store, then from its events), and the
    # last ticket.position text sent, so that only changes are sent.
    ticket_status: str | None = None
    ticket_service: str | None = None
    last_position: str | None = None

    def push(self, item: Item) -> bool:
        """Write an item at once when the socket is idle and can take it; else buffer
        it for the sender. False when the buffer is full."""
        if self.write is not None and not self.pending:
            wakeup = self.wakeup
            kind, seq, message = item
            if wakeup is not None and not wakeup.done() and isinstance(message, Outgoing):
                # idle: the sender waits in take(), nothing is queued before this item
                if kind == EVENT:
                    if seq <= self.last:
                        return True  # the snapshot (or a replay) had it
                    if self.write(message.frame):
                        self.last = seq
                        return True
                elif kind != CATCH_UP and self.write(message.frame):
                    return True
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


def position_text(status: str, position: int | None, wait_s: int | None) -> str:
    """A phone's `ticket.position` (built by hand: once per phone and event, json.dumps
    cost several times this; statuses are plain ASCII words)."""
    return (
        f'{{"type": "ticket.position", "status": "{status}", '
        f'"position": {"null" if position is None else int(position)}, '
        f'"estimated_wait_s": {"null" if wait_s is None else int(wait_s)}}}'
    )


def affected_services(site: Site, event: dict[str, Any]) -> Iterable[str]:
    """The services whose queue, or whose load (open counters, service times), an event
    may have changed: what visitors' positions and estimates depend on."""
    if event["type"] in SITE_EVENTS:
        return site.service_by_id
    out = set(event.get("waiting") or ())
    ticket = event.get("ticket") or {}
    if ticket.get("service"):
        out.add(ticket["service"])
    if event["type"].startswith("counter."):
        counter = site.counter_by_id.get((event.get("counter") or {}).get("id", ""))
        out.update(counter.services if counter else ())
    return out


def load_of(site: Site, queues: Queues, service_id: str, now_ms: int) -> Load:
    """What a service's estimates are made from (server/estimate.py), from the read."""
    waiting = {s: len(ids) for s, ids in queues.waiting.items()}
    return service_load_of(site, service_id, queues.counters, waiting, queues.service_times, now_ms)


class Fanout:
    def __init__(self, store: Store, heartbeat_s: float = 15.0, *, recheck_s: float = 2.0) -> None:
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.recheck_s = recheck_s  # how often open sockets' credentials are re-checked
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.readers: dict[str, asyncio.Task[None]] = {}
        self.position: dict[str, int] = {}  # seq of the last event each reader delivered
        self.beat: asyncio.Task[None] | None = None
        self.recheck: asyncio.Task[None] | None = None
        self.joined = 0

    def subscribe(self, sub: Subscriber, last: int) -> None:
        """Deliver events after `last` (the seq the socket's snapshot or replay ends at,
        never past the log's head: realtime.py refuses a `since` ahead of it)."""
        subs = self.subscribers.setdefault(sub.site, set())
        if sub not in subs:
            subs.add(sub)
            metrics.WEBSOCKETS_OPEN.labels(sub.site).inc()
        self.joined += 1
        sub.slot = self.joined % HEARTBEAT_SLICES
        reader = self.readers.get(sub.site)
        if reader is None or reader.done():
            if reader is not None:
                metrics.STORE_RECONNECTS.inc()  # the last one lost the store
            # A restarted reader resumes where the old one stopped, for the sockets it
            # had (and never past the stored head, whatever a subscriber said: _read).
            start = min(self.position.get(sub.site, last), last)
            self.position[sub.site] = start
            self.readers[sub.site] = asyncio.create_task(self._read(sub.site, start))
        if self.position[sub.site] > last:
            sub.push((CATCH_UP, self.position[sub.site], NO_MESSAGE))
        if self.beat is None or self.beat.done():
            self.beat = asyncio.create_task(self._heartbeat())
        if sub.credential is not None and (self.recheck is None or self.recheck.done()):
            self.recheck = asyncio.create_task(self._recheck())

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.site)
        if subs is not None and sub in subs:
            subs.remove(sub)
            metrics.WEBSOCKETS_OPEN.labels(sub.site).dec()

    def kick(self, sub: Subscriber, why: tuple[int, str]) -> None:
        """Cut a socket off (even mid-send): its sender closes it with `why`. It gets
        nothing more meanwhile, heartbeats included."""
        if sub.closing is not None:
            return
        sub.closing = why
        if why is not CLIENT_GONE:  # a client leaving is no drop
            metrics.WEBSOCKET_DROPS.labels(DROP_REASONS.get(why, "other")).inc()
        if sub.sender is not None:
            sub.sender.cancel()

    async def close(self) -> None:
        await tasks.stop([*self.readers.values(), self.beat, self.recheck])

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
                    if sub.slot != tick or sub.closing is not None:
                        continue
                    if sub.quiet:
                        sub.push((HEARTBEAT, 0, HEARTBEAT_MESSAGE))
                    sub.quiet = True

    async def _recheck(self) -> None:
        """Every few seconds, ask once per distinct credential whether it still holds,
        and close the sockets of a revoked one. A store that does not answer is the
        reader's business (it closes the sockets); here the round is just skipped."""
        while True:
            await asyncio.sleep(self.recheck_s)
            holders: dict[str, list[Subscriber]] = {}
            for subs in self.subscribers.values():
                for sub in subs:
                    if sub.credential is not None and sub.closing is None:
                        holders.setdefault(sub.credential, []).append(sub)
            for credential, group in holders.items():
                verify = group[0].verify
                if verify is None:
                    continue
                try:
                    valid = await verify(credential)
                except FAILURES as exc:
                    log.warning("re-checking credentials: %s", exc)
                    break
                if not valid:
                    for sub in group:
                        self.kick(sub, REVOKED)

    def _lost(self, site_id: str, exc: BaseException) -> None:
        """The store failed under the reader: close the site's sockets (1013). The reader
        ends; the next socket to subscribe starts a new one where this one stopped."""
        metrics.store_error("fanout", exc)
        log.warning("event reader for %s: %s; closing its sockets", site_id, exc)
        for sub in self.subscribers.get(site_id, ()):
            self.kick(sub, STORE_LOST)

    async def _read(self, site_id: str, after: int) -> None:
        try:
            head = await self.store.log.last_seq(site_id)
        except FAILURES as exc:
            self._lost(site_id, exc)
            return
        if after > head:  # never wait past the real head: those seqs may never come
            after = self.position[site_id] = head
        last = f"{after}-0"
        while True:
            try:
                rows = await self.store.log.read_events([site_id], {site_id: last}, block_ms=2000)
                if not rows:
                    continue
                await self.store.replicated(site_id)  # (with --redis-wait-replicas)
                received = time.perf_counter()
                site = await self.store.site(site_id)
                batch = []
                for _, entry_id, raw in rows:
                    last = entry_id
                    event = json.loads(raw)
                    self.position[site_id] = event["seq"]
                    if event["type"] == "site.config_changed":
                        self.store.forget(site_id)
                        site = await self.store.site(site_id)
                    metrics.EVENTS_PUBLISHED.labels(event["type"]).inc()
                    self._deliver(site, event, received)
                    batch.append(event)
                await self._positions(site, batch)
            except FAILURES as exc:
                self._lost(site_id, exc)
                return

    def _push(self, sub: Subscriber, item: Item) -> None:
        if not sub.push(item):
            self.kick(sub, TOO_SLOW)  # it reconnects with since and replays

    def _deliver(self, site: Site, event: dict[str, Any], received: float) -> None:
        messages: dict[bool, Outgoing] = {}
        seq = event["seq"]
        for sub in self.subscribers.get(site.id, ()):
            if sub.closing is not None or (sub.wants is not None and not sub.wants(site, event)):
                continue
            message = messages.get(sub.with_id)
            if message is None:
                text = encode(event, sub.with_id)
                message = messages[sub.with_id] = Outgoing(text, received)
            sub.quiet = False
            # the idle socket's way of Subscriber.push, inline: most sockets, every event
            write, wakeup = sub.write, sub.wakeup
            if (
                write is not None
                and wakeup is not None
                and not wakeup.done()
                and not sub.pending
                and seq > sub.last
                and write(message.frame)
            ):
                sub.last = seq
            elif not sub.push((EVENT, seq, message)):
                self.kick(sub, TOO_SLOW)  # it reconnects with since and replays
        if messages:  # one sample per event: handed to every idle socket by now
            metrics.EVENT_SEND.observe(time.perf_counter() - received)

    async def _positions(self, site: Site, events: list[dict[str, Any]]) -> None:
        """After a batch of events: the visitors' phones whose ticket or queue moved get
        their new ticket.position. One read of the queues concerned, whatever the number
        of phones."""
        phones: dict[str, list[Subscriber]] = {}
        for sub in self.subscribers.get(site.id, ()):
            if sub.ticket is not None and sub.ticket_status is not None and not sub.closing:
                phones.setdefault(sub.ticket, []).append(sub)
        if not phones:
            return
        moved: set[str] = set()
        touched: set[str] = set()  # tickets of phones whose own ticket changed
        for event in events:
            moved.update(affected_services(site, event))
            ticket = event.get("ticket") or {}
            for sub in phones.get(ticket.get("id", ""), ()):
                sub.ticket_status, sub.ticket_service = ticket["status"], ticket["service"]
                touched.add(ticket["id"])
        subs = [sub for group in phones.values() for sub in group]
        needed = sorted(
            {
                sub.ticket_service
                for sub in subs
                if sub.ticket_status == domain.WAITING
                and sub.ticket_service is not None
                and sub.ticket_service in moved
            }
        )
        queues = Queues({}, {}, {})
        if needed:
            serving = [c for c in site.counters if set(c.services) & set(needed)]
            # the other services of those counters too: their queues set the counters'
            # shares, their service times what the counters do meanwhile (same read)
            read = sorted({s for c in serving for s in c.services} | set(needed))
            queues = await self.store.log.queues(site.id, read, [c.id for c in serving])
        ranks = {s: {t: n for n, t in enumerate(queues.waiting[s], 1)} for s in needed}
        # once per service per event: every position of its phones from one computation
        now_ms = int(self.store.clock().timestamp() * 1000)
        wanted: dict[str, set[int]] = {s: set() for s in needed}
        for sub in subs:
            rank = ranks.get(sub.ticket_service or "", {}).get(sub.ticket or "")
            if rank is not None and sub.ticket_status == domain.WAITING:
                wanted[sub.ticket_service or ""].add(rank)
        waits = {s: estimates(wanted[s], load_of(site, queues, s, now_ms)) for s in needed}
        for sub in subs:
            if sub.closing is not None or sub.ticket_status is None:
                continue
            if sub.ticket_status != domain.WAITING:
                if sub.ticket in touched:
                    text = position_text(sub.ticket_status, None, None)
                    self._send_position(sub, text)
                continue
            service = sub.ticket_service or ""
            if service not in ranks:
                continue  # its queue did not move
            position = ranks[service].get(sub.ticket or "")
            if position is None:
                # Gone from its queue by a change we have no event for yet (or none:
                # a day reset): let the socket ask the store about its own ticket.
                self._push(sub, (POSITION, 0, NO_MESSAGE))
                continue
            found = waits[service].get(position)
            wait = found.wait_s if found else None
            self._send_position(sub, position_text(domain.WAITING, position, wait))

    def _send_position(self, sub: Subscriber, text: str) -> None:
        if text != sub.last_position:
            sub.last_position = text
            self._push(sub, (POSITION, 0, Outgoing(text)))
