"""HTTP routes of `/api/v1` (spec section 2): parse, authorize, call the store, answer.

No rule lives here: the domain and the Lua scripts decide; this module only translates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import domain, ikm, schemas
from .audit import Entry
from .auth import (
    ANONYMOUS,
    CSRF_COOKIE,
    SESSION_COOKIE,
    Authenticator,
    Principal,
    require,
    require_counter,
    sees_ids,
)
from .config import Site
from .errors import (
    BadRequest,
    Forbidden,
    InvalidField,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
)
from .estimate import estimate
from .store import Idem, Store

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
READERS = ("display", "kiosk", "officer", "supervisor")
ISSUERS = ("kiosk", "officer", "supervisor")


class Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


# -- request plumbing -------------------------------------------------------------------


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


async def principal_of(request: Request) -> Principal | None:
    return await _auth(request).from_request(
        request.method, request.headers, lambda: request.cookies
    )


async def raw_body(request: Request, limit: int | None = None) -> bytes:
    """The request body, at most `limit` bytes (413 beyond; the settings' limit by
    default). Its digest is kept on the request for the Idempotency-Key check."""
    limit = limit or request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB.")
    if declared in (None, "0") and "transfer-encoding" not in request.headers:
        raw = b""  # no body was sent (a bare `next` click): nothing to read
    else:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB.")
    request.state.body_digest = hashlib.sha256(raw).hexdigest()[:32] if raw.strip() else ""
    return raw


async def body_of(request: Request, model: type[schemas.Body]) -> dict[str, Any]:
    """The JSON body validated as `model` (schemas.py), as a dict of the fields sent."""
    return schemas.as_dict(schemas.decode(await raw_body(request), model))


def _json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from a body; 400 for anything else, including nesting too deep to
    parse and strings that are not Unicode text (a lone surrogate such as "\\ud800")."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        json.dumps(data, ensure_ascii=False).encode()  # lone surrogates cannot be stored
    except (ValueError, UnicodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    return data


def idem_of(request: Request, principal: Principal | None) -> Idem | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise InvalidField("Idempotency-Key", "must be 1-200 visible ASCII characters")
    scope = (principal or ANONYMOUS).key
    digest = hashlib.sha256(
        f"{scope}\n{request.method}\n{request.scope['path']}\n{key}".encode()
    ).hexdigest()
    ttl_ms: int = request.app.state.settings.idempotency_ttl_s * 1000
    return Idem(digest, ttl_ms, getattr(request.state, "body_digest", ""))


async def site_of(request: Request) -> Site:
    return await _store(request).site(request.path_params["site"])


async def reader_site(request: Request) -> tuple[Site, Principal | None]:
    """A public read: anyone, unless the site requires a display (or stronger) token.
    A credential that is not valid (expired, revoked, garbage) reads what the public
    reads: a lobby TV must never stop for a bad token."""
    site = await site_of(request)
    try:
        principal = await principal_of(request)
    except Unauthorized:
        if site.require_display_token:
            raise
        principal = None
    if site.require_display_token:
        require(principal, READERS, site.id)
    return site, principal


def view(ticket: dict[str, Any] | None, with_id: bool) -> dict[str, Any] | None:
    return domain.optional_ticket_view(ticket, with_id=with_id)


def actor(principal: Principal) -> str:
    return principal.name or principal.role


async def audited(
    request: Request,
    site: str | None,
    principal: Principal | None,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """An entry in the audit log (`site`'s, or the installation's without one)."""
    store = _store(request)
    at = store.clock().astimezone(UTC).isoformat(timespec="seconds")
    who = actor(principal) if principal else "anonymous"
    await store.audit.record(site, Entry(at, who, action, target, detail or {}))


# -- sites --------------------------------------------------------------------------------


async def list_sites(request: Request) -> Response:
    sites = await _store(request).sites()
    return Json({"sites": [{"id": site.id, "name": site.name} for site in sites]})


async def get_site(request: Request) -> Response:
    site, _ = await reader_site(request)
    return Json(site.public())


async def get_state(request: Request) -> Response:
    site, principal = await reader_site(request)
    return Json(
        domain.state_view(await _store(request).state(site), with_id=sees_ids(principal, site.id))
    )


async def get_events(request: Request) -> Response:
    """A page of events after `since` (`limit` at most), and whether the log still held
    every event after `since` (`complete`: false means some are gone, read the state)."""
    most = 1000  # events in one answer, at most (and by default)
    site, principal = await reader_site(request)
    since = parse_since(request.query_params.get("since", "0"))
    limit = parse_since(request.query_params.get("limit", str(most)), "limit")
    if not 1 <= limit <= most:
        raise InvalidField("limit", f"must be from 1 to {most}")
    store = _store(request)
    with_id = sees_ids(principal, site.id)
    if not with_id:  # public reads of the log are bounded per address (screens use the socket)
        address = request.client.host if request.client else "unknown"
        per_minute: int = request.app.state.settings.public_events_per_minute
        if not await store.hit(site.id, "events", address, per_minute):
            raise RateLimited("Too many reads of the event log; follow the websocket instead.")
    page = await store.log.page(site.id, since, limit)
    return Json(
        {
            "events": [domain.event_view(e, with_id=with_id) for e in page.events],
            "complete": page.complete,
        }
    )


def parse_since(raw: str | None, name: str = "since") -> int:
    if raw is None or not raw.isdigit() or len(raw) > 18:
        raise InvalidField(name, "must be a non-negative integer")
    return int(raw)


async def announce(request: Request) -> Response:
    principal = await principal_of(request)
    site = await site_of(request)
    require(principal, ("supervisor",), site.id)
    body = await body_of(request, schemas.Announcement)
    text = body["text"].strip()
    if not text or len(text) > 500:
        raise InvalidField("text", "must be 1-500 characters")
    seq = await _store(request).announce(site, text, idem=idem_of(request, principal))
    await audited(request, site.id, principal, "announcement", site.id, {"text": text})
    return Json({"seq": seq}, status_code=201)


# -- tickets ------------------------------------------------------------------------------


async def issue_ticket(request: Request) -> Response:
    principal = await principal_of(request)
    site = await site_of(request)
    p = require(principal, ISSUERS, site.id)
    body = await body_of(request, schemas.IssueTicket)
    priority = bool(body.get("priority", False))
    store = _store(request)
    idem = idem_of(request, p)
    if p.role == "kiosk":
        if priority and not site.kiosk_priority:
            raise Forbidden(
                "This site does not let kiosks issue priority tickets.", code="priority_not_allowed"
            )
        address = request.client.host if request.client else "unknown"
        retry = idem is not None and await store.answered(site, idem)  # costs no allowance
        if not retry and (
            not await store.hit(site.id, "kiosk", p.key, site.kiosk_rate_per_minute)
            or not await store.hit(site.id, "address", address, site.address_rate_per_minute)
        ):
            raise RateLimited("Too many tickets from this kiosk; please wait a minute.")
    ticket = await store.issue(site, body["service"], priority=priority, idem=idem)
    position, wait, span = await position_of(store, site, ticket, ranged=True)
    return Json(
        {
            "ticket": view(ticket, True),
            "position": position,
            "estimated_wait_s": wait,
            "estimated_wait_range_s": span,
        },
        status_code=201,
    )


async def position_of(
    store: Store, site: Site, ticket: dict[str, Any], *, ranged: bool = False
) -> tuple[Any, ...]:
    """A ticket's position and estimated wait (central); with `ranged`, and the wait's
    range [low, high] (server/estimate.py)."""
    position = await store.position(site, ticket)
    found = None
    if position is not None:
        found = estimate(position, await store.service_load(site, ticket["service"]))
    wait = found.wait_s if found else None
    if not ranged:
        return position, wait
    return position, wait, found.range_s if found else None


async def get_ticket(request: Request) -> Response:
    site, _ = await site_of(request), None
    store = _store(request)
    ticket = await store.ticket(site, request.path_params["ticket"])
    position, wait, span = await position_of(store, site, ticket, ranged=True)
    return Json(
        {
            "ticket": view(ticket, True),
            "position": position,
            "estimated_wait_s": wait,
            "estimated_wait_range_s": span,
        }
    )


async def cancel_ticket(request: Request) -> Response:
    # Knowing the id is the visitor's right to cancel; staff may cancel too.
    principal = await principal_of(request)
    site = await site_of(request)
    await body_of(request, schemas.NoBody)
    ticket = await _store(request).cancel(
        site, request.path_params["ticket"], idem=idem_of(request, principal)
    )
    return Json({"ticket": view(ticket, True)})


async def rate_ticket(request: Request) -> Response:
    principal = await principal_of(request)
    site = await site_of(request)
    raw = await body_of(request, schemas.Rating)
    rating = ikm.parse_rating(raw)
    ticket = await _store(request).rate(
        site, request.path_params["ticket"], asdict(rating), idem=idem_of(request, principal)
    )
    return Json({"ticket": view(ticket, True)}, status_code=201)


async def rate_at_counter(request: Request) -> Response:
    """The counter's rating tablet (a kiosk token of the site) or its staff rate the
    ticket the counter finished last, within a few minutes; `number` must match."""
    principal = await principal_of(request)
    site = await site_of(request)
    counter_id = request.path_params["counter"]
    if counter_id not in site.counter_by_id:
        raise NotFound(f"Unknown counter {counter_id!r} at {site.id}.")
    if principal is None or principal.role != "kiosk":
        require_counter(principal, site.id, counter_id)
    else:
        require(principal, ("kiosk",), site.id)
    raw = await body_of(request, schemas.CounterRating)
    number = raw.pop("number")
    rating = ikm.parse_rating(raw)
    ticket = await _store(request).rate_last(
        site, counter_id, number, asdict(rating), idem=idem_of(request, principal)
    )
    return Json({"ticket": view(ticket, sees_ids(principal, site.id))}, status_code=201)


# -- counters -----------------------------------------------------------------------------


async def counter_of(request: Request) -> tuple[Site, str, Principal]:
    """The site, the counter of the path (404 if unknown) and who may act there."""
    principal = await principal_of(request)
    site = await site_of(request)
    counter_id = request.path_params["counter"]
    if counter_id not in site.counter_by_id:
        raise NotFound(f"Unknown counter {counter_id!r} at {site.id}.")
    return site, counter_id, require_counter(principal, site.id, counter_id)


async def counter_action(request: Request) -> Response:
    if request.path_params["action"] == "rating":
        return await rate_at_counter(request)
    site, counter_id, p = await counter_of(request)
    action = request.path_params["action"]
    handler = COUNTER_ACTIONS.get(action)
    if handler is None:
        raise NotFound(f"Unknown counter action {action!r}.")
    return await handler(request, site, counter_id, p)


ActionHandler = Callable[[Request, Site, str, Principal], Awaitable[Response]]


def _ticket_action(name: str) -> ActionHandler:
    async def run(request: Request, site: Site, counter: str, p: Principal) -> Response:
        await body_of(request, schemas.NoBody)
        store, idem = _store(request), idem_of(request, p)
        if name == "next":
            ticket = await store.next(site, counter, actor=actor(p), idem=idem)
        else:
            ticket = await getattr(store, name)(site, counter, idem=idem)
        return Json({"ticket": view(ticket, True)})

    return run


def _status_action(name: str) -> ActionHandler:
    async def run(request: Request, site: Site, counter: str, p: Principal) -> Response:
        await body_of(request, schemas.NoBody)
        state = await _store(request).counter_action(site, counter, name, idem=idem_of(request, p))
        if p.role in ("admin", "supervisor"):  # an officer's own pauses are routine
            await audited(request, site.id, p, f"counter.{name}", counter)
        return Json({"counter": {**state, "ticket": view(state["ticket"], True)}})

    return run


async def _transfer(request: Request, site: Site, counter: str, p: Principal) -> Response:
    body = await body_of(request, schemas.Transfer)
    ticket = await _store(request).transfer(
        site, counter, body["service"], idem=idem_of(request, p)
    )
    return Json({"ticket": view(ticket, True)})


async def _undo(request: Request, site: Site, counter: str, p: Principal) -> Response:
    await body_of(request, schemas.NoBody)
    done = await _store(request).undo(site, counter, idem=idem_of(request, p))
    return Json({"ticket": view(done["ticket"], True), "undone": done["undone"]})


async def _call(request: Request, site: Site, counter: str, p: Principal) -> Response:
    body = await body_of(request, schemas.CallTicket)
    ticket = await _store(request).call(
        site, counter, body["ticket"], actor=actor(p), idem=idem_of(request, p)
    )
    return Json({"ticket": view(ticket, True)})


COUNTER_ACTIONS: dict[str, ActionHandler] = {
    "next": _ticket_action("next"),
    "recall": _ticket_action("recall"),
    "start": _ticket_action("start"),
    "finish": _ticket_action("finish"),
    "no-show": _ticket_action("no_show"),
    "transfer": _transfer,
    "call": _call,
    "undo": _undo,
    **{name: _status_action(name) for name in domain.COUNTER_ACTIONS},
}


class ActionConvertor(Convertor[str]):
    """`{action:action}`: only the counter's actions, so the busiest route (matched
    first) never shadows `.../counters/{counter}/waiting` for another method."""

    regex = "|".join(sorted([*COUNTER_ACTIONS, "rating"], key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("action", ActionConvertor())

Endpoint = Callable[[Request], Awaitable[Response]]


def by_method(path: str, **handlers: Endpoint) -> Route:
    """One route for a path served by a handler per method (`GET=..., POST=...`), so
    that a 405 lists every method the path has (`Allow`)."""
    table = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in table:
        table["HEAD"] = table["GET"]

    async def endpoint(request: Request) -> Response:
        return await table[request.method](request)

    return Route(path, endpoint, methods=list(table))


async def get_counter(request: Request) -> Response:
    site, counter, _ = await counter_of(request)
    store = _store(request)
    state = await store.counter_state(site, counter)
    return Json(
        {
            "counter": {**state, "ticket": view(state["ticket"], True)},
            "today": await store.counter_today(site, counter),
        }
    )


async def counter_waiting(request: Request) -> Response:
    site, counter, _ = await counter_of(request)
    tickets = await _store(request).waiting_for(site, counter)
    return Json({"tickets": [view(t, True) for t in tickets]})


# -- auth ---------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    body = await body_of(request, schemas.Login)
    # Failed logins count per username and per client address (auth.login): hammering
    # one account locks only it, and an office behind one NAT address keeps logging in.
    address = request.client.host if request.client else "unknown"
    limit: int = request.app.state.settings.login_rate_per_minute
    token, p = await _auth(request).login(body["username"], body["password"], address, limit)
    response = Json({"token": token, "role": p.role, "site": p.site, "counters": list(p.counters)})
    ttl: int = request.app.state.settings.session_ttl_s
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl, httponly=True, samesite="strict", secure=secure
    )
    if not request.cookies.get(CSRF_COOKIE):  # keep a paired device's longer-lived one
        response.set_cookie(CSRF_COOKIE, _random(), max_age=ttl, samesite="strict", secure=secure)
    return response


def _random() -> str:
    return secrets.token_urlsafe(24)


async def logout(request: Request) -> Response:
    principal = await principal_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    if principal is not None and token:
        await _auth(request).logout(token)
    response = Json({"ok": True})
    response.delete_cookie(SESSION_COOKIE)
    return response


async def me(request: Request) -> Response:
    principal = await principal_of(request)
    if principal is None:
        raise Unauthorized("Not logged in.")
    return Json(principal.public())


# -- health -------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return Json({"ok": True})


async def readyz(request: Request) -> Response:
    """200 when the store answers a PING within `store_ping_timeout_s`, else 503 (a
    stopped, restarting or hung store; the client's own retries never make this wait)."""
    try:
        ok = await asyncio.wait_for(
            _store(request).ping(), request.app.state.settings.store_ping_timeout_s
        )
    except TimeoutError:
        ok = False
    if ok:
        return Json({"ok": True})
    return Json(
        {"error": {"code": "storage_unavailable", "message": "The store does not answer."}},
        status_code=503,
    )


def routes() -> list[BaseRoute]:
    site = "/api/v1/sites/{site}"
    return [
        # the busiest route first: Starlette tries routes in order
        Route(f"{site}/counters/{{counter}}/{{action:action}}", counter_action, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/api/v1/auth/login", login, methods=["POST"]),
        Route("/api/v1/auth/logout", logout, methods=["POST"]),
        Route("/api/v1/auth/me", me),
        Route(site, get_site),
        Route(f"{site}/state", get_state),
        Route(f"{site}/events", get_events),
        Route(f"{site}/announcements", announce, methods=["POST"]),
        Route(f"{site}/tickets", issue_ticket, methods=["POST"]),
        Route(f"{site}/tickets/{{ticket}}", get_ticket),
        Route(f"{site}/tickets/{{ticket}}/cancel", cancel_ticket, methods=["POST"]),
        Route(f"{site}/tickets/{{ticket}}/rating", rate_ticket, methods=["POST"]),
        Route(f"{site}/counters/{{counter}}", get_counter),
        Route(f"{site}/counters/{{counter}}/waiting", counter_waiting),
    ]
