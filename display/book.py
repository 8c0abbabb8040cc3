"""The citizen's booking pages (antrean online, SPEC section 8; docs/bookings.md).

- `/book/{site}`: agency → service (those taking bookings) → date → session → NIK, name
  and optional phone → the booking with its code and a QR code of the code.
- `/book/{site}/{booking_id}`: one booking, opened later by its secret link: its code
  and QR code (shown at the kiosk to check in), its status, cancel.

Handlers only check that the site exists and render a shell with what the page needs
from the site document (the services that take bookings, their weekdays and how far
ahead they open, holidays); static/book/book.js talks to the API. The booking id is the
visitor's secret: its page is never cached by shared caches and sends no referrer.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from display.templating import not_found, render

# The Content-Security-Policy (this origin's scripts and styles only) is the server's,
# on every answer (server/app.py).
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}
BOOKING_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # as server/booking_store.py draws them
DEFAULT_DAYS_AHEAD = 14
DEFAULT_CHECK_IN_MARGIN_MIN = 30


def catalogue(site: dict[str, Any]) -> list[dict[str, Any]]:
    """The agencies with services that take bookings, in the site's order, each with
    those services: id, name, the weekdays that have sessions, days ahead."""
    by_agency: dict[str, list[dict[str, Any]]] = {}
    for service in site.get("services", []):
        sessions = service.get("booking_sessions") or []
        if not service.get("bookings") or not sessions:
            continue
        weekdays = sorted({day for s in sessions for day in s.get("days", [])})
        by_agency.setdefault(service["agency"], []).append(
            {
                "id": service["id"],
                "name": service["name"],
                "weekdays": weekdays,
                "days_ahead": service.get("booking_days_ahead", DEFAULT_DAYS_AHEAD),
            }
        )
    return [
        {
            "id": agency["id"],
            "name": agency["name"],
            "short_name": agency.get("short_name") or agency["name"],
            "services": by_agency[agency["id"]],
        }
        for agency in site.get("agencies", [])
        if agency["id"] in by_agency
    ]


def server_now(request: Request) -> datetime:
    """The server's clock (its settings' clock: the tests move it): the page counts days
    and sessions from it, not from the phone's clock, which may be wrong."""
    settings = getattr(request.app.state, "settings", None)
    clock = getattr(settings, "clock", None)
    now = clock() if callable(clock) else None
    return now if isinstance(now, datetime) else datetime.now(UTC)


def _unknown_site(request: Request, site_id: str) -> Response:
    return not_found(
        request,
        f"Lokasi “{site_id}” tidak dikenal. Periksa kembali alamatnya.",
        f"Unknown site “{site_id}”. Please check the address.",
    )


async def _page(request: Request, booking_id: str | None) -> Response:
    site_id = request.path_params["site"]
    site = await request.app.state.pages.site(site_id)
    if site is None:
        return _unknown_site(request, site_id)
    timezone = site.get("timezone") or "Asia/Jakarta"
    now = server_now(request)
    page = {
        "site": site["id"],
        "name": site["name"],
        "timezone": timezone,
        "today": now.astimezone(ZoneInfo(timezone)).date().isoformat(),
        "now_ms": int(now.timestamp() * 1000),
        "holidays": list(site.get("holidays") or []),
        "check_in_margin_min": site.get("booking_check_in_margin_min", DEFAULT_CHECK_IN_MARGIN_MIN),
        "agencies": catalogue(site),
    }
    response = render(
        request,
        "book.html",
        {
            "site": site,
            "booking_id": booking_id or "",
            "page_json": json.dumps(page, ensure_ascii=False),
        },
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


async def book_page(request: Request) -> Response:
    return await _page(request, None)


async def booking_page(request: Request) -> Response:
    booking_id = request.path_params["booking_id"]
    if BOOKING_ID.fullmatch(booking_id) is None:
        response = not_found(
            request,
            "Pemesanan ini tidak ditemukan. Periksa kembali tautannya.",
            "This booking was not found. Please check the link.",
        )
        response.headers.update(PRIVATE_HEADERS)
        return response
    return await _page(request, booking_id)


def routes() -> list[BaseRoute]:
    return [
        Route("/book/{site}", book_page, methods=["GET"], name="book"),
        Route("/book/{site}/{booking_id}", booking_page, methods=["GET"], name="booking"),
    ]
