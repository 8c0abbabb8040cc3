"""The event websocket `/ws/sites/{site}/events` (spec section 3).

A socket first gets a snapshot, or with `since` exactly the events it missed, then live
events from the process's fan-out (fanout.py). Thousands of lobby screens, phones and
consoles hold one open, so each costs as little as we can make it: the endpoint is a
plain ASGI app (app.py routes to it ahead of Starlette's middleware), it runs one task
per socket, which is that socket's sender, and it never waits on receive(): clients have
nothing to say (the server answers pongs itself), and a client that left is noticed at
the next send, at the latest the next heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import cookie_parser
from starlette.types import Receive, Scope, Send

from . import domain, metrics
from .auth import DEVICE_COOKIE, SESSION_COOKIE, Authenticator, Principal, require, sees_ids
from .auth import digest as auth_digest
from .config import Site
from .errors import LoketError, NotFound, Unauthorized
from .estimate import estimate
from .fanout import (
    CATCH_UP,
    CLIENT_GONE,
    EVENT,
    POLICY_VIOLATION,
    POSITION,
    SAMPLED_SLOT,
    SERVER_STOPPING,
    SITE_EVENTS,
    STORE_LOST,
    TRY_AGAIN_LATER,
    Fanout,
    Outgoing,
    Subscriber,
    encode,
    position_text,
)
from .guard import CLOSE_EXTENSION, STOPPING, WRITE_EXTENSION
from .settings import Settings
from .store import FAILURES, Store

log = logging.getLogger("loket.realtime")

PATH = re.compile(r"/ws/sites/([^/]+)/events")
NORMAL_CLOSURE = 1000
SINCE_AHEAD = "since is ahead of the log; reconnect without since"
DEFAULT_PORTS = {"80", "443"}
GONE = (OSError, RuntimeError)  # what sending to a client that left raises
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Filter:
    agencies: frozenset[str] = NONE
    counters: frozenset[str] = NONE
    zones: frozenset[str] = NONE

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
    values = frozenset(v for v in (raw or "").split(",") if v)
    return values or NONE  # one shared empty set, not one per socket


@dataclass(frozen=True)
class Services:
    """What the endpoint uses, taken from the app's state after its lifespan started."""

    store: Store
    fanout: Fanout
    auth: Authenticator
    settings: Settings

    async def still_valid(self, credential: str) -> bool:
        """Whether a socket's credential still holds, asking the store (not the cache):
        the fan-out calls this every few seconds, once per distinct credential."""
        self.auth.forget(credential)
        return await self.auth.from_token(credential) is not None


class Socket:
    """The sending side of one websocket: plain ASGI messages."""

    __slots__ = ("send",)

    def __init__(self, send: Send) -> None:
        self.send = send

    async def text(self, text: str) -> None:
        await self.send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str = "") -> None:
        with contextlib.suppress(*GONE, TimeoutError):
            await asyncio.wait_for(
                self.send({"type": "websocket.close", "code": code, "reason": reason[:120]}), 2
            )


async def events_endpoint(
    services: Services, scope: Scope, receive: Receive, send: Send, site_id: str
) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    ws = Socket(send)
    try:
        site, flt, sub, since, epoch = await _open(services, scope, site_id)
        last = await _start(ws, services.store, site, flt, sub, since, epoch)
        await _position(ws, services.store, sub)  # before subscribing: see _send
    except Refused as exc:
        await ws.close(POLICY_VIOLATION, exc.reason)
        return
    except FAILURES as exc:
        metrics.store_error("websocket", exc)
        await ws.close(*STORE_LOST)
        return
    except GONE:
        return
    sub.last = last  # (before subscribing: the reader may write to it at once)
    sub.write = scope.get("extensions", {}).get(WRITE_EXTENSION)  # guard.py: direct writes
    services.fanout.subscribe(sub, last)
    sub.sender = asyncio.current_task()
    on_close = scope.get("extensions", {}).get(CLOSE_EXTENSION)
    if on_close is not None:  # guard.py: the server stops or the client left: end now
        on_close.append(
            lambda why: services.fanout.kick(
                sub, SERVER_STOPPING if why == STOPPING else CLIENT_GONE
            )
        )
    try:
        await _send(ws, services, flt, sub, last)
    finally:
        services.fanout.unsubscribe(sub)


def _credential(
    headers: Headers, q: QueryParams, principal: Principal | None
) -> tuple[str | None, bool]:
    """The raw credential that authenticated the socket (to re-check it later), and
    whether it was a cookie. Mirrors Authenticator.from_request: header, token=, cookies."""
    if principal is None:
        return None, False
    header = headers.get("authorization")
    if header is not None:
        return header.partition(" ")[2].strip(), False
    if q.get("token") is not None:
        return q["token"], False
    jar = cookie_parser(headers.get("cookie", ""))
    for name in (SESSION_COOKIE, DEVICE_COOKIE):
        cookie = jar.get(name)
        if cookie and principal.key in (auth_digest(cookie), "admin"):
            return cookie, True
    return None, False


def _host_port(netloc: str) -> str:
    """`host:port` lowercased, without a default port (80, 443): schemes are not
    compared, so a page behind a TLS proxy matches its own host."""
    host, sep, port = netloc.strip().lower().rpartition(":")
    if not sep or "]" in port:  # no port (or the end of an IPv6 literal)
        return netloc.strip().lower()
    return host if port in DEFAULT_PORTS else f"{host}:{port}"


def _same_origin(headers: Headers) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser: no cross-site request to fear
    _, sep, netloc = origin.partition("://")
    return bool(sep) and _host_port(netloc) == _host_port(headers.get("host", ""))


async def _open(
    services: Services, scope: Scope, site_id: str
) -> tuple[Site, Filter, Subscriber, int | None, str | None]:
    headers = Headers(scope=scope)
    q = QueryParams(scope.get("query_string", b""))
    try:
        site = await services.store.site(site_id)
        try:
            principal = await services.auth.from_request(
                "GET", headers, lambda: cookie_parser(headers.get("cookie", "")), q.get("token")
            )
        except Unauthorized:
            if site.require_display_token:
                raise
            principal = None  # a bad credential reads what the public reads
        credential, by_cookie = _credential(headers, q, principal)
        if by_cookie and not _same_origin(headers):
            # A page of another site may not ride a visitor's session cookie.
            raise Refused("origin does not match the host")
        if site.require_display_token:
            require(principal, ("display", "kiosk", "officer", "supervisor"), site.id)
    except LoketError as exc:
        if exc.status >= 500:
            raise
        raise Refused(exc.message) from None
    since: int | None = None
    if "since" in q:
        raw = q["since"]
        if not raw.isdigit() or len(raw) > 18:
            raise Refused("since must be a non-negative integer")
        since = int(raw)
    epoch = q.get("epoch")
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
            await services.store.ticket(site, ticket)
        except NotFound:
            raise Refused("unknown ticket") from None
    sub = Subscriber(
        site=site.id,
        with_id=sees_ids(principal, site.id),
        wants=None if flt.empty else flt.event,
        limit=services.settings.ws_queue_len,
        ticket=ticket,
    )
    if principal is not None and credential is not None and principal.role != "admin":
        sub.credential, sub.verify = credential, services.still_valid
    return site, flt, sub, since, epoch


async def _start(
    ws: Socket,
    store: Store,
    site: Site,
    flt: Filter,
    sub: Subscriber,
    since: int | None,
    epoch: str | None,
) -> int:
    """Send the snapshot, or the missed events when the log still holds them all. A
    `since` from another epoch of the log (it started over) gets a snapshot; one ahead
    of the log is refused: no event will ever come for it."""
    current = await store.log.epoch(site.id)
    if since is not None and (epoch is None or epoch == current):
        page = await store.log.page(site.id, since)
        await store.replicated(site.id)  # (with --redis-wait-replicas: no lost events)
        if since > page.last_seq:
            raise Refused(SINCE_AHEAD)
        if page.complete:
            await _send_events(ws, site, flt, sub, page.events)
            last = page.events[-1]["seq"] if page.events else since
            await ws.text(json.dumps({"type": "ready", "last_seq": last, "epoch": current}))
            return int(last)
    state = flt.state(site, await store.state(site))
    await store.replicated(site.id)
    await ws.text(
        json.dumps(
            {
                "type": "snapshot",
                "seq": state["seq"],
                "epoch": current,
                "state": domain.state_view(state, with_id=sub.with_id),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
    )
    return int(state["seq"])


async def _send_events(
    ws: Socket, site: Site, flt: Filter, sub: Subscriber, events: list[dict[str, Any]]
) -> None:
    """Events read from the log (a replay or a catch-up), those the socket's filter wants."""
    for event in events:
        if flt.event(site, event):
            await ws.text(encode(event, sub.with_id))


async def _send(ws: Socket, services: Services, flt: Filter, sub: Subscriber, last: int) -> None:
    """Drain the socket's buffer until the client leaves; the fan-out cancels this when
    the buffer overflows. (While this waits with nothing buffered, the reader may write
    to the socket directly: `Subscriber.push`; `sub.last` is then moved on there.)"""
    store = services.store
    sub.last = last
    timed = sub.slot == SAMPLED_SLOT  # the send times of a sample of sockets
    try:
        while True:
            recheck = False
            for kind, seq, message in await sub.take():
                if kind == POSITION:  # worked out by the reader for every phone at once
                    if message:
                        await ws.send(message)
                    else:
                        recheck = True
                elif kind != EVENT and kind != CATCH_UP:  # a heartbeat
                    await ws.send(message)
                elif seq <= sub.last:
                    continue
                elif kind == EVENT:
                    await ws.send(message)
                    sub.last = seq
                    if timed and isinstance(message, Outgoing):
                        metrics.EVENT_SEND.observe(time.perf_counter() - message.received)
                else:  # CATCH_UP: subscribed behind the reader, the log has the rest
                    site = await store.site(sub.site)
                    last = sub.last
                    page = await store.log.page(sub.site, last, limit=seq - last)
                    await store.replicated(sub.site)
                    if not page.complete:  # gone from the log: start over from a snapshot
                        metrics.WEBSOCKET_DROPS.labels("gone_from_log").inc()
                        services.fanout.unsubscribe(sub)
                        await ws.close(TRY_AGAIN_LATER, "missed events are gone; reconnect")
                        return
                    await _send_events(ws, site, flt, sub, page.events)
                    # (never past the head: those seqs are still to come)
                    sub.last, recheck = min(seq, page.last_seq), True  # phones: the reader
                    # moved their positions on before this socket joined
            if recheck:
                await _position(ws, store, sub)
    except asyncio.CancelledError:
        if sub.closing is None:
            raise  # the server is stopping
        # The fan-out cut it off (too slow, store lost, credential revoked): not a
        # cancellation of ours.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        services.fanout.unsubscribe(sub)
        await ws.close(*sub.closing)
    except GONE:
        return
    except FAILURES as exc:
        metrics.store_error("websocket", exc)
        log.warning("websocket of %s: %s", sub.site, exc)
        services.fanout.unsubscribe(sub)
        await ws.close(*STORE_LOST)


async def _position(ws: Socket, store: Store, sub: Subscriber) -> None:
    """For a visitor's phone, from the store: the ticket's position and wait, when either
    changed. Once, when it connects (or joins behind the reader); after that the reader
    works positions out for all phones of the site at once (fanout.py)."""
    if sub.ticket is None:
        return
    site = await store.site(sub.site)
    ticket = await store.ticket(site, sub.ticket)
    sub.ticket_status, sub.ticket_service = ticket["status"], ticket["service"]
    position = await store.position(site, ticket)
    wait = None
    if position is not None:
        found = estimate(position, await store.service_load(site, ticket["service"]))
        wait = found.wait_s if found else None
    text = position_text(ticket["status"], position, wait)
    if text == sub.last_position:
        return
    sub.last_position = text
    await ws.text(text)
