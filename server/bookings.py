"""HTTP routes of bookings and phone tickets (docs/bookings.md): parse, authorize,
rate-limit, call booking_store / the store, answer. No rule lives here.

Also `start`: what the application runs beside its routes for these features (booking
expiry and the webhook sender), started and stopped by its lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import domain, hours, schemas
from . import tasks as background
from .api import Json, body_of, idem_of, position_of, principal_of, site_of, view
from .auth import require
from .booking_store import Bookings, booking_view, nik_key
from .config import Site
from .errors import Conflict, Forbidden, InvalidField, NotFound, RateLimited
from .settings import Settings
from .store import FAILURES, Store

log = logging.getLogger("loket.bookings")

# Rate limits: (requests, window in seconds). A booking costs an allowance of its
# address and of its NIK (keyed hash); a phone ticket one of its address and one of the
# site (a flood from many addresses still cannot empty a day's numbers).
BOOKINGS_PER_ADDRESS = (10, 600)
BOOKINGS_PER_NIK = (5, 3600)
PHONE_TICKETS_PER_ADDRESS = (3, 600)
PHONE_TICKETS_PER_SITE = (60, 60)


def _bookings(request: Request) -> Bookings:
    bookings: Bookings = request.app.state.bookings
    return bookings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _allow(store: Store, site: Site, kind: str, ident: str, rule: tuple[int, int]) -> None:
    limit, window_s = rule
    if not await store.hit(site.id, kind, ident, limit, window_s):
        raise RateLimited("Too many requests; please try again later.")


async def _where(store: Store, site: Site, ticket: dict[str, Any]) -> dict[str, Any]:
    """A new ticket's position and estimated wait, as the kiosk's answer gives them."""
    position, wait, *_ = await position_of(store, site, ticket)
    return {"position": position, "estimated_wait_s": wait}


def _date(raw: object, name: str = "date") -> date:
    if not isinstance(raw, str) or len(raw) != 10:
        raise InvalidField(name, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidField(name, "must be a date YYYY-MM-DD") from None


# -- bookings ----------------------------------------------------------------------------


async def get_slots(request: Request) -> Response:
    site = await site_of(request)
    day = _date(request.query_params.get("date"))
    doc = await _bookings(request).slots(site, request.path_params["service"], day)
    return Json(doc)


async def create_booking(request: Request) -> Response:
    site = await site_of(request)
    principal = await _optional_principal(request)
    body = await body_of(request, schemas.NewBooking)
    bookings, store = _bookings(request), _store(request)
    nik = body["nik"].replace(" ", "")
    day = _date(body["date"])
    idem = idem_of(request, principal)
    if idem is None or not await store.answered(site, idem):
        await _allow(store, site, "booking-address", _address(request), BOOKINGS_PER_ADDRESS)
        if domain.is_slug(body["service"]) and len(nik) == 16 and nik.isdigit():
            digest = await bookings.nik_hash(nik)
            await _allow(store, site, "booking-nik", digest, BOOKINGS_PER_NIK)
    booking = await bookings.book(
        site, body["service"], day, body["session"], nik, body["name"], body.get("phone"), idem=idem
    )
    return Json({"booking": booking_view(booking)}, status_code=201)


async def _optional_principal(request: Request) -> Any:
    """Bookings are for anyone: a credential only scopes the Idempotency-Key."""
    with contextlib.suppress(Exception):
        return await principal_of(request)
    return None


async def get_booking(request: Request) -> Response:
    site = await site_of(request)
    booking = await _bookings(request).get(site, request.path_params["booking"])
    return Json({"booking": booking_view(booking)})


async def cancel_booking(request: Request) -> Response:
    site = await site_of(request)
    await body_of(request, schemas.NoBody)
    booking = await _bookings(request).cancel(
        site, request.path_params["booking"], idem=idem_of(request, None)
    )
    return Json({"booking": booking_view(booking)})


async def check_in(request: Request) -> Response:
    """The kiosk scanned or typed a booking's code: the booking becomes a ticket."""
    principal = await principal_of(request)
    site = await site_of(request)
    p = require(principal, ("kiosk", "officer", "supervisor"), site.id)
    await body_of(request, schemas.NoBody)
    store = _store(request)
    ticket, booking = await _bookings(request).check_in(
        site, request.path_params["code"], idem=idem_of(request, p)
    )
    return Json(
        {
            "ticket": view(ticket, True),  # the issuing kiosk sees the id (its QR code)
            **await _where(store, site, ticket),
            "booking": booking_view(booking, with_ticket_id=False),
        },
        status_code=201,
    )


# -- phone tickets ------------------------------------------------------------------------


async def phone_ticket(request: Request) -> Response:
    """A ticket from the visitor's own phone, for services that allow it, in their
    opening hours. The answer carries the ticket's id: the phone holds its own ticket
    and goes to its status page (`status_url`)."""
    site = await site_of(request)
    body = await body_of(request, schemas.PhoneTicket)
    service = site.service_by_id.get(body["service"])
    if service is None:
        raise NotFound(f"Unknown service {body['service']!r} at {site.id}.")
    if not service.remote_ticket:
        raise Forbidden(
            f"{service.name} is taken at the kiosk only.", code="remote_ticket_not_allowed"
        )
    store = _store(request)
    now = store.clock()
    closed = hours.closed_at(service.hours, site.holidays, site.timezone, now)
    if closed is not None:
        when = closed.next_open
        raise Conflict(
            closed.message(now),
            code=closed.code,
            details={"next_open": when.isoformat(timespec="minutes") if when else None},
        )
    idem = idem_of(request, None)
    if idem is None or not await store.answered(site, idem):
        await _allow(store, site, "phone-address", _address(request), PHONE_TICKETS_PER_ADDRESS)
        await _allow(store, site, "phone-site", "-", PHONE_TICKETS_PER_SITE)
    ticket = await store.issue(site, service.id, priority=False, idem=idem)
    return Json(
        {
            "ticket": view(ticket, True),
            **await _where(store, site, ticket),
            "status_url": f"/t/{quote(site.id, safe='')}/{quote(ticket['id'], safe='')}",
        },
        status_code=201,
    )


def routes() -> list[BaseRoute]:
    site = "/api/v1/sites/{site}"
    return [
        Route(f"{site}/services/{{service}}/slots", get_slots),
        Route(f"{site}/bookings", create_booking, methods=["POST"]),
        Route(f"{site}/bookings/{{booking}}", get_booking),
        Route(f"{site}/bookings/{{booking}}/cancel", cancel_booking, methods=["POST"]),
        Route(f"{site}/bookings/{{code}}/check-in", check_in, methods=["POST"]),
        Route(f"{site}/phone-tickets", phone_ticket, methods=["POST"]),
    ]


# -- background work ----------------------------------------------------------------------


async def _expire_loop(store: Store, bookings: Bookings, every_s: float) -> None:
    """Expire bookings whose session ended unchecked, and delete personal data that is
    due, for every site, every `every_s` seconds."""
    while True:
        try:
            for site_id in await store.site_ids():
                with contextlib.suppress(NotFound):
                    # every site: one whose configuration dropped bookings may still
                    # hold some to expire, and personal data to delete
                    await bookings.expire(await store.site(site_id))
        except FAILURES as exc:
            log.warning("booking expiry failed: %s", exc)
        await asyncio.sleep(every_s)


def start(app: Any, store: Store, settings: Settings) -> Callable[[], Awaitable[None]]:
    """Set up bookings and webhooks on `app.state` and start their background tasks;
    the function returned stops them."""
    from .webhooks import Webhooks, Worker

    app.state.bookings = Bookings(
        store, key_source=lambda: nik_key(settings.nik_key, settings.data_dir)
    )
    hooks = Webhooks(store)
    app.state.webhooks = hooks
    worker = Worker(hooks, settings)
    running = [
        asyncio.create_task(_expire_loop(store, app.state.bookings, settings.booking_check_s)),
        *worker.start(),
    ]

    async def stop() -> None:
        await background.stop(running)
        await background.bounded(worker.close(), "the webhook client")

    return stop
