"""The visitor's side after the kiosk (SPEC section 4).

- `/t/{site}/{ticket_id}`: the visitor's status page (phone): number, position,
  estimated wait, live; cancel; the satisfaction survey once served.
- `/qr/{site}/{ticket_id}.svg`: the QR code on the printed ticket, pointing at that page.
- `/rate/{site}/{counter}`: a counter's rating tablet, paired like a kiosk
  (display/kiosk.py), offering the survey after each ticket finished there.

Handlers only check that what the URL names exists and render shells; the scripts in
static/ticket/ talk to the API and the event stream. The ticket id is the visitor's
secret: pages naming it are never cached by shared caches and send no referrer.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import quote

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from display.kiosk import device_page
from display.templating import not_found, render

DEFAULT_NEAR = 3  # without the site's `notify_when_position`
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def status_url(request: Request, site_id: str, ticket_id: str, public_url: str = "") -> str:
    """The visitor's page: under the site's `public_url` when it has one (an address a
    phone on mobile data can open), else under the address this request came to."""
    base = f"{public_url}/" if public_url else str(request.base_url)
    return f"{base}t/{quote(site_id, safe='')}/{quote(ticket_id, safe='')}"


def _unknown_site(request: Request, site_id: str) -> Response:
    return not_found(
        request,
        f"Lokasi “{site_id}” tidak dikenal. Periksa kembali alamatnya.",
        f"Unknown site “{site_id}”. Please check the address.",
    )


def _unknown_ticket(request: Request) -> Response:
    response = not_found(
        request,
        "Nomor antrean ini tidak ditemukan. Tautan mungkin salah ketik, atau tiketnya "
        "sudah kedaluwarsa (tiket hanya berlaku pada hari diambil).",
        "This ticket was not found. The link may be mistyped, or the ticket has expired "
        "(tickets are valid on the day they were taken).",
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


async def status_page(request: Request) -> Response:
    site_id = request.path_params["site"]
    ticket_id = request.path_params["ticket_id"]
    pages = request.app.state.pages
    site = await pages.site(site_id)
    if site is None:
        return _unknown_site(request, site_id)
    ticket = await pages.ticket(site_id, ticket_id)
    if ticket is None:
        return _unknown_ticket(request)
    services = {s["id"]: s["name"] for s in site.get("services", [])}
    agencies = {a["id"]: a.get("short_name") or a["name"] for a in site.get("agencies", [])}
    response = render(
        request,
        "ticket.html",
        {
            "site": site,
            "ticket": ticket,
            "service_name": services.get(ticket.get("service", ""), ticket.get("service", "")),
            "agency_name": agencies.get(ticket.get("agency", ""), ""),
            "services_json": json.dumps(services, ensure_ascii=False),
            "agencies_json": json.dumps(agencies, ensure_ascii=False),
            # the phone alert's "near": the position the site's ticket.near webhook uses
            "near": site.get("notify_when_position") or DEFAULT_NEAR,
        },
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def qr_svg(url: str) -> bytes:
    """A QR code of `url` as SVG: viewBox only, so CSS sizes it for screen and paper."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(
        buffer, kind="svg", border=2, xmldecl=False, omitsize=True, title="QR"
    )
    return buffer.getvalue()


async def qr_page(request: Request) -> Response:
    site_id = request.path_params["site"]
    ticket_id = request.path_params["ticket_id"]
    pages = request.app.state.pages
    site = await pages.site(site_id)
    if site is None or await pages.ticket(site_id, ticket_id) is None:
        return _unknown_ticket(request)
    return Response(
        qr_svg(status_url(request, site_id, ticket_id, site.get("public_url") or "")),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            **PRIVATE_HEADERS,
        },
    )


def _counter(site: dict[str, Any], counter_id: str) -> dict[str, Any] | None:
    return next((c for c in site.get("counters", []) if c.get("id") == counter_id), None)


async def rate_page(request: Request) -> Response:
    site_id = request.path_params["site"]
    counter_id = request.path_params["counter"]
    site = await request.app.state.pages.site(site_id)
    if site is None:
        return _unknown_site(request, site_id)
    counter = _counter(site, counter_id)
    if counter is None:
        return not_found(
            request,
            f"Loket “{counter_id}” tidak ada di {site['name']}.",
            f"Counter “{counter_id}” does not exist at {site['name']}.",
        )
    context = {"site": site, "counter": counter, "device_kind": "tablet"}  # _pairing.html
    return await device_page(
        request, site_id, f"/rate/{site_id}/{counter_id}", {}, "rate.html", context
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/t/{site}/{ticket_id}", status_page, methods=["GET"], name="ticket-status"),
        Route("/qr/{site}/{ticket_id}.svg", qr_page, methods=["GET"], name="ticket-qr"),
        Route("/rate/{site}/{counter}", rate_page, methods=["GET"], name="rating-tablet"),
    ]
