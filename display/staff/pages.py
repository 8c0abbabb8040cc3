"""Routes of the staff pages and their static files (`/static/staff/`).

- `/reports/{site}`: figures of a site for a period, by a cut, charts, exports;
- `/reports/{site}/monthly?month=YYYY-MM`: the printable monthly report (A4);
- `/monitor/{site}`: the live floor (counters, queues, alerts) and its actions;
- `/evaluation`: every site of the installation compared;
- `/admin` (`?site=ID&tab=NAME`): the configuration of a site, accounts, device tokens
  and the audit log (docs/admin.md);
- `/`: the landing page, every site's pages by role with a line on each.

Who may read what is decided by the API; the pages only say so in words when the
logged-in user has the wrong role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from display.templating import staff_loader

HERE = Path(__file__).parent
STATIC_URL = "/static/staff"
COMMON_URL = "/static/display/common"

# Pages are never cached (a kiosk or TV must never show a stale shell); the security
# headers (a CSP without inline scripts, nosniff, no-referrer) come from the app's
# SecurityHeaders middleware, for every page alike.
PAGE_HEADERS = {"Cache-Control": "no-store"}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=staff_loader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
templates.env.globals.update(static=STATIC_URL, common=COMMON_URL)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )


async def _site_or_404(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
    site_id = request.path_params["site"]
    site: dict[str, Any] | None = await request.app.state.pages.site(site_id)
    if site is None:
        return None, render(request, "not_found.html", {"site_id": site_id}, status_code=404)
    return site, None


async def reports_page(request: Request) -> Response:
    site, missing = await _site_or_404(request)
    if missing is not None:
        return missing
    return render(request, "reports.html", {"site": site, "page": "reports"})


async def monthly_page(request: Request) -> Response:
    site, missing = await _site_or_404(request)
    if missing is not None:
        return missing
    month = request.query_params.get("month", "")
    return render(request, "monthly.html", {"site": site, "page": "monthly", "month": month})


async def monitor_page(request: Request) -> Response:
    site, missing = await _site_or_404(request)
    if missing is not None:
        return missing
    return render(request, "monitor.html", {"site": site, "page": "monitor"})


async def evaluation_page(request: Request) -> Response:
    return render(request, "evaluation.html", {"site": None, "page": "evaluation"})


async def admin_page(request: Request) -> Response:
    # The site is picked on the page (an admin may hold many, a supervisor its own): the
    # shell renders for any `?site=`, the script asks the API what exists.
    return render(request, "admin.html", {"site": None, "page": "admin"})


async def landing_page(request: Request) -> Response:
    return render(request, "landing.html", {"site": None, "page": "landing"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", landing_page, methods=["GET"], name="staff-landing"),
        Route("/admin", admin_page, methods=["GET"], name="staff-admin"),
        Route("/reports/{site}", reports_page, methods=["GET"], name="staff-reports"),
        Route("/reports/{site}/monthly", monthly_page, methods=["GET"], name="staff-monthly"),
        Route("/monitor/{site}", monitor_page, methods=["GET"], name="staff-monitor"),
        Route("/evaluation", evaluation_page, methods=["GET"], name="staff-evaluation"),
        Mount(STATIC_URL, app=StaticFiles(directory=HERE / "static"), name="staff-static"),
    ]
