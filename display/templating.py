"""Jinja2 templates shared by every page of the display package.

Autoescape is always on: names from configuration and events reach HTML only escaped.
Scripts never sit inline; templates pass data to their ES modules in data- attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/display"
# What the staff pages and the officer console share (the sign-in form, the confirm
# dialog, the page of an unknown site), named "common/NAME" in their templates.
COMMON_TEMPLATE_DIR = TEMPLATE_DIR / "common"


def staff_loader(directory: Path) -> jinja2.BaseLoader:
    """The loader of a staff or console package: its own templates in `directory`, and
    the shared ones of COMMON_TEMPLATE_DIR as "common/NAME"."""
    return jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(directory),
            jinja2.PrefixLoader({"common": jinja2.FileSystemLoader(COMMON_TEMPLATE_DIR)}),
        ]
    )


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
templates.env.globals["static"] = STATIC_URL


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a template; every page sends no-store so a TV never shows a stale shell."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def not_found(request: Request, detail: str, detail_en: str) -> Response:
    """The friendly 404 page: what was not found, in Indonesian first, then English."""
    return render(
        request, "not_found.html", {"detail": detail, "detail_en": detail_en}, status_code=404
    )
