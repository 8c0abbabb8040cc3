"""Realtime: one event-log reader per site per process, fanned out to websockets.

Each socket has a bounded queue and its own sender task: a slow client is closed (it
reconnects and replays by seq) and never delays the others. Each event is encoded at
most twice (with ticket ids for staff, without for the public), not once per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from . import domain
from .auth import STAFF, Authenticator, require
from .config import Site
from .errors import LoketError, NotFound
from .estimate import estimate_wait_s
from .settings import Settings
from .store import STORE_ERRORS, Store

log = logging.getLogger("loket.realtime")

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
SITE_EVENTS = frozenset({"site.day_reset", "site.config_changed", "site.announcement"})


@dataclass(frozen=True)
class Filter:
    agencies: frozenset[str] = frozenset()
    counters: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.agencies or self.counters or self.zones)

    def service(self, site: Site, service_id: str) -> bool:
        service = site.service_by_id.get(service_id)
        if service is None:
            return self.empty
        if self.agencies and service.agency not in self.agencies:
            return False
        if self.zones and not (site.service_zones(service_id) & self.zones):
            return False
        return not self.counters or any(
            service_id in site.counter_by_id[c].services for c in self.counters
        )

    def counter(self, site: Site, counter_id: str) -> bool:
        counter = site.counter_by_id.get(counter_id)
        if counter is None:
            return self.empty
        if self.agencies and counter.agency not in self.agencies:
            return False
        if self.zones and counter.zone not in self.zones:
            return False
        return not self.counters or counter_id in self.counters

    def event(self, site: Site, event: dict[str, Any]) -> bool:
        if self.empty or event["type"] in SITE_EVENTS:
            return True
        if event["type"].startswith("counter."):
            return self.counter(site, event["counter"]["id"])
        ticket = event.get("ticket") or {}
        counter = event.get("counter") or {}
        if counter.get("id") and self.counter(site, counter["id"]):
            return True
        return self.service(site, ticket.get("service", ""))

    def state(self, site: Site, state: dict[str, Any]) -> dict[str, Any]:
        if self.empty:
            return state
        return {
            **state,
            "counters": [c for c in state["counters"] if self.counter(site, c["id"])],
            "recent_calls": [
                t
                for t in state["recent_calls"]
                if (t.get("counter") and self.counter(site, t["counter"]["id"]))
                or self.service(site, t["service"])
            ],
            "waiting": {s: n for s, n in state["waiting"].items() if self.service(site, s)},
            "quota_left": {s: n for s, n in state["quota_left"].items() if self.service(site, s)},
        }


@dataclass(eq=False)
class Subscriber:
    site: str
    filter: Filter
    with_id: bool
    queue: asyncio.Queue[tuple[int, dict[str, Any] | None, str]]
    ticket: str | None = None
    overflowed: bool = False
    sender: asyncio.Task[None] | None = None
    last_position: tuple[Any, ...] | None = field(default=None)


class Fanout:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.readers: dict[str, asyncio.Task[None]] = {}
        self.position: dict[str, int] = {}  # seq of the last event each reader delivered

    def subscribe(self, sub: Subscriber, last: int) -> None:
        """Deliver events after `last` (the seq the socket's snapshot or replay ends at)."""
        self.subscribers.setdefault(sub.site, set()).add(sub)
        reader = self.readers.get(sub.site)
        if reader is None or reader.done():
            self.position[sub.site] = last
            self.readers[sub.site] = asyncio.create_task(self._read(sub.site, last))
        elif self.position[sub.site] > last:
            # The reader is past what the socket has: tell it to catch up from the log.
            sub.queue.put_nowait((self.position[sub.site], None, ""))

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.get(sub.site, set()).discard(sub)

    async def close(self) -> None:
        for task in self.readers.values():
            task.cancel()
        for task in self.readers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(self, site: str, after: int) -> None:
        last = f"{after}-0"
        backoff = 0.2
        while True:
            try:
                rows = await self.store.read_events([site], {site: last}, block_ms=2000)
                backoff = 0.2
            except STORE_ERRORS as exc:
                log.warning("event reader for %s: %s", site, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue

                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for _, entry_id, raw in rows:
                last = entry_id
                event = json.loads(raw)
                self.position[site] = event["seq"]
                if event["type"] == "site.config_changed":
                    self.store.forget(site)
                self._deliver(site, event)

    def _deliver(self, site: str, event: dict[str, Any]) -> None:
        encoded: dict[bool, str] = {}
        for sub in list(self.subscribers.get(site, ())):
            if sub.overflowed:
                continue
            if sub.with_id not in encoded:
                encoded[sub.with_id] = encode(event, sub.with_id)
            try:
                sub.queue.put_nowait((event["seq"], event, encoded[sub.with_id]))
            except asyncio.QueueFull:
                # Too slow: stop its sender (even mid-send) so the socket gets closed.
                sub.overflowed = True
                if sub.sender is not None:
                    sub.sender.cancel()


def encode(event: dict[str, Any], with_id: bool) -> str:
    if event.get("ticket"):
        event = {**event, "ticket": domain.ticket_view(event["ticket"], with_id=with_id)}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _list(raw: str | None) -> frozenset[str]:
    return frozenset(v for v in (raw or "").split(",") if v)


async def _open(
    ws: WebSocket, store: Store, auth: Authenticator
) -> tuple[Site, Subscriber, int | None]:
    try:
        principal = await auth.from_request(
            "GET", ws.headers, ws.cookies, ws.query_params.get("token")
        )
        site = await store.site(ws.path_params["site"])
        if site.require_display_token:
            require(principal, ("display", "kiosk", "officer", "supervisor"), site.id)
    except LoketError as exc:
        raise Refused(exc.message) from None
    q = ws.query_params
    since: int | None = None
    if "since" in q:
        raw = q["since"]
        if not raw.isdigit() or len(raw) > 18:
            raise Refused("since must be a non-negative integer")
        since = int(raw)
    flt = Filter(_list(q.get("agency")), _list(q.get("counter")), _list(q.get("zone")))
    for name, values, known in (
        ("agency", flt.agencies, site.agency_by_id),
        ("counter", flt.counters, site.counter_by_id),
        ("zone", flt.zones, site.zones),
    ):
        unknown = sorted(v for v in values if v not in known)
        if unknown:
            raise Refused(f"unknown {name} {unknown[0]!r}")
    ticket = q.get("ticket")
    if ticket is not None:
        try:
            await store.ticket(site, ticket)
        except NotFound:
            raise Refused("unknown ticket") from None
    settings: Settings = ws.app.state.settings
    sub = Subscriber(
        site=site.id,
        filter=flt,
        with_id=principal is not None and principal.role in STAFF,
        queue=asyncio.Queue(settings.ws_queue_len),
        ticket=ticket,
    )
    return site, sub, since


async def events_socket(ws: WebSocket) -> None:
    store: Store = ws.app.state.store
    fanout: Fanout = ws.app.state.fanout
    await ws.accept()
    try:
        site, sub, since = await _open(ws, store, ws.app.state.auth)
    except Refused as exc:
        await ws.close(POLICY_VIOLATION, exc.reason[:120])
        return
    receiver = asyncio.create_task(_drain(ws))
    sender: asyncio.Task[None] | None = None
    try:
        last = await _start(ws, store, site, sub, since)
        fanout.subscribe(sub, last)
        sender = sub.sender = asyncio.create_task(_pump(ws, store, site, sub, last, receiver))
        await asyncio.wait({sender})
        if not sender.cancelled() and isinstance(sender.exception(), (LoketError, *STORE_ERRORS)):
            log.warning("websocket of %s ended: %s", site.id, sender.exception())
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        fanout.unsubscribe(sub)
        for task in (receiver, sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if ws.application_state != WebSocketState.DISCONNECTED:
            code, reason = (
                (TRY_AGAIN_LATER, "too slow; reconnect with since")
                if (sub.overflowed)
                else (1000, "")
            )
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect, TimeoutError):
                await asyncio.wait_for(ws.close(code, reason), 2)


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends; returns when it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _start(
    ws: WebSocket, store: Store, site: Site, sub: Subscriber, since: int | None
) -> int:
    if since is not None:
        events, complete = await store.events_after(site.id, since)
        if complete:
            for event in events:
                if sub.filter.event(site, event):
                    await ws.send_text(encode(event, sub.with_id))
            last = events[-1]["seq"] if events else since
            await ws.send_text(json.dumps({"type": "ready", "last_seq": last}))
            return int(last)
    state = sub.filter.state(site, await store.state(site))
    await ws.send_text(
        json.dumps(
            {
                "type": "snapshot",
                "seq": state["seq"],
                "state": domain.state_view(state, with_id=sub.with_id),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
    )
    return int(state["seq"])


async def _pump(
    ws: WebSocket,
    store: Store,
    site: Site,
    sub: Subscriber,
    last: int,
    receiver: asyncio.Task[None],
) -> None:
    await _position(ws, store, site, sub)
    while True:
        getter = asyncio.ensure_future(sub.queue.get())
        done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if receiver in done:
            getter.cancel()
            return
        seq, event, text = getter.result()
        if seq <= last:
            continue
        if seq > last + 1 or event is None:  # behind the reader: fetch what lies between
            missed, _ = await store.events_after(site.id, last, limit=seq - last)
            for old in missed:
                wanted = old["seq"] < seq or (event is None and old["seq"] == seq)
                if wanted and sub.filter.event(site, old):
                    await ws.send_text(encode(old, sub.with_id))
            if event is None:
                last = seq
                if sub.ticket is not None:
                    await _position(ws, store, site, sub)
                continue
        if event["type"] == "site.config_changed":
            with contextlib.suppress(NotFound):
                site = await store.site(site.id)
        if sub.filter.event(site, event):
            await ws.send_text(text)
        last = seq
        if sub.ticket is not None:
            await _position(ws, store, site, sub)


async def _position(ws: WebSocket, store: Store, site: Site, sub: Subscriber) -> None:
    if sub.ticket is None:
        return
    ticket = await store.ticket(site, sub.ticket)
    position = await store.position(site, ticket)
    wait = None
    if position is not None:
        open_counters, samples = await store.service_load(site, ticket["service"])
        wait = estimate_wait_s(position, open_counters, samples)
    key = (ticket["status"], position, wait)
    if key == sub.last_position:
        return
    sub.last_position = key
    await ws.send_text(
        json.dumps(
            {
                "type": "ticket.position",
                "status": ticket["status"],
                "position": position,
                "estimated_wait_s": wait,
            }
        )
    )


def routes() -> list[BaseRoute]:
    return [WebSocketRoute("/ws/sites/{site}/events", events_socket)]
