"""Routes of the public pages served by the display package.

`server/app.py` adds `routes()`: every page handler plus the static files under
`/static/display/` (shared modules in common/, one folder per page, voice clips).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from display import book, kiosk, ticket
from display.templating import STATIC_DIR, STATIC_URL
from display.tv import tv_page


def routes() -> list[BaseRoute]:
    return [
        Route("/display/{site}", tv_page, methods=["GET"], name="display-tv"),
        *kiosk.routes(),
        *ticket.routes(),
        *book.routes(),
        Mount(STATIC_URL, app=StaticFiles(directory=STATIC_DIR), name="display-static"),
    ]
