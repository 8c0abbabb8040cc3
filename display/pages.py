"""Routes of the public pages served by the display package.

`server/app.py` adds `routes()`: every page handler plus the static files under
`/static/display/` (shared modules in common/, one folder per page, voice clips) and the
lobby TVs' media files under `/media/{site}/{file}`.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from display import book, kiosk, ticket
from display.templating import STATIC_DIR, STATIC_URL
from display.tv import tv_page

# The same rule as server/config.py's for `media` entries, checked again here: a plain
# file name with a known extension, never a path.
MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}


def media_type(name: str) -> str | None:
    """The content type of a safe media file name, None for an unsafe or unknown one."""
    if not MEDIA_NAME.fullmatch(name) or ".." in name:
        return None
    return MEDIA_TYPES.get(Path(name).suffix.lower())


def media_path(data_dir: Path, site_id: str, name: str) -> Path | None:
    """Where a TV's media file lives: `<data-dir>/media/<site>/<name>`, else the
    installation's shared `<data-dir>/media/<name>`; None when neither is a file."""
    root = (data_dir / "media").resolve()
    for folder in (root / site_id, root):
        path = (folder / name).resolve()
        if path.parent == folder.resolve() and path.is_file():
            return path
    return None


async def media_file(request: Request) -> Response:
    """`GET /media/{site}/{file}`: one file a display of the site lists in its `media`,
    read-only. A name that is not a plain file name (no '/', no '..', a known extension)
    or that no display of the site lists answers 404, whatever is on the disk."""
    site_id = request.path_params["site"]
    name = request.path_params["file"]
    kind = media_type(name)
    site = await request.app.state.pages.site(site_id) if kind else None
    listed = site is not None and any(
        name in (d.get("media") or ()) for d in site.get("displays", []) if d.get("kind") == "tv"
    )
    path = media_path(Path(request.app.state.settings.data_dir), site_id, name) if listed else None
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(
        path,
        media_type=kind,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/display/{site}", tv_page, methods=["GET"], name="display-tv"),
        Route("/media/{site}/{file:path}", media_file, methods=["GET", "HEAD"], name="media"),
        *kiosk.routes(),
        *ticket.routes(),
        *book.routes(),
        Mount(STATIC_URL, app=StaticFiles(directory=STATIC_DIR), name="display-static"),
    ]
