"""The officer console page `/counter/{site}` and its static files (`/static/counter/`).

The handler only renders an HTML shell after checking that the site exists; the page's
modules do everything else over the public API and the event websocket."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from display.templating import staff_loader

HERE = Path(__file__).parent
STATIC_URL = "/static/counter"
COMMON_URL = "/static/display/common"

# Pages are never cached (a kiosk or TV must never show a stale shell); the security
# headers (a CSP without inline scripts, nosniff, no-referrer) come from the app's
# SecurityHeaders middleware, for every page alike.
PAGE_HEADERS = {"Cache-Control": "no-store"}


def routes() -> list[BaseRoute]:
    env = jinja2.Environment(
        loader=staff_loader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)

    async def counter_page(request: Request) -> Response:
        site_id = request.path_params["site"]
        site = await request.app.state.pages.site(site_id)
        if site is None:
            return templates.TemplateResponse(
                request,
                "not_found.html",
                {"site_id": site_id, "static": STATIC_URL, "common": COMMON_URL},
                status_code=404,
                headers=PAGE_HEADERS,
            )
        return templates.TemplateResponse(
            request,
            "counter.html",
            {"site": site, "static": STATIC_URL, "common": COMMON_URL},
            headers=PAGE_HEADERS,
        )

    return [
        Route("/counter/{site}", counter_page, methods=["GET"], name="counter-page"),
        Mount(STATIC_URL, app=StaticFiles(directory=HERE / "static"), name="counter-static"),
    ]
