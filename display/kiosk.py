"""The ticket kiosk, `/kiosk/{site}` (SPEC section 4), and the pairing of visitor devices.

A kiosk (and a counter's rating tablet, display/ticket.py) is paired once by opening its
page with `?token=T`, a kiosk token from `loket token create --role kiosk --site S`.
The handler checks the token, keeps it in the HttpOnly cookie `loket_device` with a
`loket_csrf` companion (docs/contract-pages.md), and redirects to the same page without
the token, so it never stays in the address bar or the history. An unpaired device
issues nothing and shows the public a neutral "belum siap, hubungi petugas" with a
discreet "Petugas" link to `?setup=1`, where staff find the pairing instructions (the
server command is never on the public screen). An unpaired kiosk page opened on a phone
offers the site's phone tickets instead (static/kiosk/remote.js).

Query: `setup=1` shows the pairing instructions; `display=ID` picks the site's kiosk
display entry (its `paper`, 58mm or 80mm, chooses the print stylesheet; 80mm by default).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from display.templating import not_found, render

DEVICE_COOKIE = "loket_device"
CSRF_COOKIE = "loket_csrf"
DEVICE_COOKIE_MAX_AGE_S = 10 * 365 * 24 * 3600  # "until revoked": the token decides
DEVICE_ROLES = frozenset({"kiosk"})  # never a staff token: the cookie lives ten years
PAPERS = ("58mm", "80mm")
DEFAULT_PAPER = "80mm"


def device_allowed(principal: dict[str, Any] | None, site_id: str) -> bool:
    """May this credential run a kiosk or rating tablet of the site?"""
    if principal is None or principal.get("role") not in DEVICE_ROLES:
        return False
    if principal.get("site") is None:
        return principal.get("role") == "admin"
    return bool(principal.get("site") == site_id)


async def paired(request: Request, site_id: str) -> bool:
    """Does the browser hold a valid device cookie for this site?"""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return False
    return device_allowed(await request.app.state.pages.principal(token), site_id)


def refresh_csrf(request: Request, response: Response) -> None:
    """(Re)set `loket_csrf` with the device's lifetime, keeping its value.

    A login at this browser sets the same cookie with the session's shorter lifetime;
    a kiosk's writes need it for as long as it stays paired."""
    response.set_cookie(
        CSRF_COOKIE,
        request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24),
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        path="/",
        httponly=False,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def set_device_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    refresh_csrf(request, response)


def _kept(keep: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in keep.items() if v}


def pairing_context(request: Request, page_path: str, keep: dict[str, str]) -> dict[str, Any]:
    """What _pairing.html needs beside the site: whether staff asked for the instructions
    (`?setup=1`), the link that asks for them, and the pairing address to type."""
    kept = _kept(keep)
    return {
        "page_path": page_path,
        "setup": request.query_params.get("setup") == "1",
        "setup_url": f"{page_path}?{urlencode({**kept, 'setup': '1'})}",
        "pair_url": f"{str(request.base_url).rstrip('/')}{page_path}?"
        + urlencode({**kept, "token": "TOKEN"}),
    }


async def pair_or_refuse(
    request: Request,
    page_path: str,
    keep: dict[str, str],
    template: str,
    context: dict[str, Any],
) -> Response:
    """Handle `?token=`: cookies and a 303 to the page without it, or the page saying
    the token was refused (`template` rendered unpaired, with `refused` set)."""
    token = request.query_params.get("token", "").strip()
    principal = await request.app.state.pages.principal(token) if token else None
    if not device_allowed(principal, context["site"]["id"]):
        response = render(
            request,
            template,
            {
                **context,
                **pairing_context(request, page_path, keep),
                "paired": False,
                "refused": True,
            },
            status_code=403,
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    query = urlencode(_kept(keep))
    response = RedirectResponse(f"{page_path}?{query}" if query else page_path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    set_device_cookie(request, response, token)
    return response


async def device_page(
    request: Request,
    site_id: str,
    page_path: str,
    keep: dict[str, str],
    template: str,
    context: dict[str, Any],
) -> Response:
    """A page of a paired device (kiosk, rating tablet): `?token=` pairs it, otherwise
    it renders, paired or with the pairing help."""
    if "token" in request.query_params:
        return await pair_or_refuse(request, page_path, keep, template, context)
    is_paired = await paired(request, site_id)
    response = render(
        request,
        template,
        {
            **context,
            **pairing_context(request, page_path, keep),
            "paired": is_paired,
            "refused": False,
        },
    )
    if is_paired:
        refresh_csrf(request, response)
    return response


def kiosk_display(site: dict[str, Any], display_id: str) -> dict[str, Any] | None:
    for display in site.get("displays", []):
        if display.get("id") == display_id and display.get("kind") == "kiosk":
            return dict(display)
    return None


async def kiosk_page(request: Request) -> Response:
    site_id = request.path_params["site"]
    site = await request.app.state.pages.site(site_id)
    if site is None:
        return not_found(
            request,
            f"Lokasi “{site_id}” tidak dikenal. Periksa alamat kiosk ini.",
            f"Unknown site “{site_id}”. Check this kiosk's address.",
        )
    display_id = request.query_params.get("display", "").strip()
    paper = DEFAULT_PAPER
    if display_id:
        display = kiosk_display(site, display_id)
        if display is None:
            return not_found(
                request,
                f"Kiosk “{display_id}” tidak ada di {site['name']}.",
                f"Kiosk “{display_id}” does not exist at {site['name']}.",
            )
        if display.get("paper") in PAPERS:
            paper = display["paper"]
    context = {"site": site, "paper": paper, "display_id": display_id, "device_kind": "kiosk"}
    return await device_page(
        request, site_id, f"/kiosk/{site_id}", {"display": display_id}, "kiosk.html", context
    )


def routes() -> list[BaseRoute]:
    return [Route("/kiosk/{site}", kiosk_page, methods=["GET"], name="kiosk")]
