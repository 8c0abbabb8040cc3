"""The event websocket `/ws/sites/{site}/events` (spec section 3).

A socket first gets a snapshot, or with `since` exactly the events it missed, then live
events from the process's fan-out (fanout.py). Each socket runs two tasks: its handler,
which reads what the client sends (to notice it leaving), and a sender that drains the
socket's bounded buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import domain
from .auth import STAFF, Authenticator, require
from .config import Site
from .errors import LoketError, NotFound
from .estimate import estimate_wait_s
from .fanout import Fanout, Subscriber, encode
from .settings import Settings
from .store import FAILURES, Store

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


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _list(raw: str | None) -> frozenset[str]:
    return frozenset(v for v in (raw or "").split(",") if v)


async def _open(
    ws: WebSocket, store: Store, auth: Authenticator
) -> tuple[Site, Filter, Subscriber, int | None]:
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
        with_id=principal is not None and principal.role in STAFF,
        wants=None if flt.empty else flt.event,
        limit=settings.ws_queue_len,
        ticket=ticket,
    )
    return site, flt, sub, since


async def events_socket(ws: WebSocket) -> None:
    store: Store = ws.app.state.store
    fanout: Fanout = ws.app.state.fanout
    await ws.accept()
    try:
        site, flt, sub, since = await _open(ws, store, ws.app.state.auth)
        last = await _start(ws, store, site, flt, sub, since)
    except Refused as exc:
        await ws.close(POLICY_VIOLATION, exc.reason[:120])
        return
    except FAILURES:
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await ws.close(TRY_AGAIN_LATER, "store unavailable; reconnect")
        return
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    fanout.subscribe(sub, last)
    sub.sender = asyncio.create_task(_send(ws, store, fanout, flt, sub, last))
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass  # clients have nothing to say; pings are answered by the server
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        fanout.unsubscribe(sub)
        sub.sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sub.sender


async def _start(
    ws: WebSocket, store: Store, site: Site, flt: Filter, sub: Subscriber, since: int | None
) -> int:
    """Send the snapshot, or the missed events when the log still holds them all."""
    if since is not None:
        events, complete = await store.events_after(site.id, since)
        if complete:
            for event in events:
                if flt.event(site, event):
                    await ws.send_text(encode(event, sub.with_id))
            last = events[-1]["seq"] if events else since
            await ws.send_text(json.dumps({"type": "ready", "last_seq": last}))
            return int(last)
    state = flt.state(site, await store.state(site))
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


async def _send(
    ws: WebSocket, store: Store, fanout: Fanout, flt: Filter, sub: Subscriber, last: int
) -> None:
    """The socket's sender: drains its buffer; cancelled when it overflows or leaves."""
    try:
        await _position(ws, store, sub)
        while True:
            seq, event, text = await sub.pop()
            if seq <= last:
                continue
            if event is None:  # subscribed behind the reader: the log has the rest
                site = await store.site(sub.site)
                missed, _ = await store.events_after(sub.site, last, limit=seq - last)
                for old in missed:
                    if flt.event(site, old):
                        await ws.send_text(encode(old, sub.with_id))
            else:
                await ws.send_text(text)
            last = seq
            if sub.ticket is not None:
                await _position(ws, store, sub)
    except asyncio.CancelledError:
        if sub.overflowed:  # cut off a slow client; it reconnects with since
            fanout.unsubscribe(sub)
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect, TimeoutError):
                await asyncio.wait_for(ws.close(TRY_AGAIN_LATER, "too slow; resume with since"), 2)
        raise
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    except FAILURES as exc:
        log.warning("websocket of %s: %s", sub.site, exc)
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect, TimeoutError):
            await asyncio.wait_for(ws.close(TRY_AGAIN_LATER, "store unavailable; reconnect"), 2)


async def _position(ws: WebSocket, store: Store, sub: Subscriber) -> None:
    if sub.ticket is None:
        return
    site = await store.site(sub.site)
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
