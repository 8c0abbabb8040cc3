"""The lobby TV page, `/display/{site}` (SPEC section 4).

The handler only checks that what the URL names exists and renders the shell; the
page's ES modules (static/tv/) load the site document and follow the event stream.

Query: `display=ID` (a tv display of the site: its filters and layout), or the filters
`agency=`, `counter=`, `zone=` (comma lists, as the websocket takes them; each one given
overrides the display's), `layout=landscape|portrait`, `ikm=1|0` (publish this month's
satisfaction index or not; default: the display's `show_ikm`, else off), `media=0` (leave
out the display's media zone), `token=` (read by the script when the site requires a
display token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from display.templating import not_found, render

LAYOUTS = ("landscape", "portrait")
YES = ("1", "true", "yes", "on", "ya")
NO = ("0", "false", "no", "off", "tidak")


class UnknownName(Exception):
    """A display, agency, counter or zone the site does not have."""

    def __init__(self, kind: str, kind_en: str, name: str) -> None:
        super().__init__(f"{kind_en} {name!r}")
        self.kind = kind
        self.kind_en = kind_en
        self.name = name


@dataclass(frozen=True)
class TvView:
    """What one TV shows: its filters (empty: everything), layout and heading."""

    agencies: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    layout: str = "auto"
    subtitle: str = ""
    ikm: bool = False  # shows this month's satisfaction index (IKM) in the header
    media: tuple[str, ...] = ()  # the media zone's playlist: file names under /media/{site}/
    media_seconds: int = 10  # each image's time on screen
    media_volume: int = 0  # videos' volume in percent (0: silent)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in value.split(",")) if part)


def _check(names: tuple[str, ...], known: set[str], kind: str, kind_en: str) -> None:
    for name in names:
        if name not in known:
            raise UnknownName(kind, kind_en, name)


def resolve_view(site: dict[str, Any], query: dict[str, str]) -> TvView:
    """The view a URL asks for; raises UnknownName for names the site lacks."""
    agencies: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    layout = "auto"
    subtitle = ""
    ikm = False
    media: tuple[str, ...] = ()
    media_seconds = 10
    media_volume = 0
    display_id = query.get("display", "").strip()
    if display_id:
        display = next(
            (
                d
                for d in site.get("displays", [])
                if d.get("id") == display_id and d.get("kind", "tv") == "tv"
            ),
            None,
        )
        if display is None:
            raise UnknownName("layar", "display", display_id)
        agencies = tuple(display.get("agencies") or ())
        counters = tuple(display.get("counters") or ())
        zones = _split(display.get("zone") or "")
        layout = display.get("layout") or "auto"
        subtitle = display.get("name") or ""
        ikm = bool(display.get("show_ikm"))
        media = tuple(display.get("media") or ())
        media_seconds = int(display.get("media_seconds") or 10)
        media_volume = int(display.get("media_volume") or 0)
    if "agency" in query:
        agencies = _split(query["agency"])
    if "counter" in query:
        counters = _split(query["counter"])
    if "zone" in query:
        zones = _split(query["zone"])
    _check(agencies, {a["id"] for a in site.get("agencies", [])}, "instansi", "agency")
    _check(counters, {c["id"] for c in site.get("counters", [])}, "loket", "counter")
    _check(zones, {c["zone"] for c in site.get("counters", []) if c.get("zone")}, "zona", "zone")
    if query.get("layout") in LAYOUTS:
        layout = query["layout"]
    if layout not in LAYOUTS:
        layout = "auto"
    asked = query.get("ikm", "").strip().lower()
    if asked in YES:
        ikm = True
    elif asked in NO:
        ikm = False
    if query.get("media", "").strip().lower() in NO:
        media = ()
    if not subtitle and len(agencies) == 1:
        agency = next(a for a in site["agencies"] if a["id"] == agencies[0])
        subtitle = agency.get("name") or agency["id"]
    return TvView(
        agencies, counters, zones, layout, subtitle, ikm, media, media_seconds, media_volume
    )


def initials(name: str) -> str:
    """A logo stand-in: "Mal Pelayanan Publik Kota Bogor" → "MPP", "MPP Kota Bogor" → "MPP"."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if 2 <= len(words[0]) <= 4 and words[0].isupper():
        return words[0]
    capitals = [w[0] for w in words if w[0].isupper()] or [words[0][0].upper()]
    return "".join(capitals[:3])


async def tv_page(request: Request) -> Response:
    site_id = request.path_params["site"]
    site = await request.app.state.pages.site(site_id)
    if site is None:
        return not_found(
            request,
            f"Lokasi “{site_id}” tidak dikenal. Periksa alamat layar ini.",
            f"Unknown site “{site_id}”. Check this screen's address.",
        )
    try:
        view = resolve_view(site, dict(request.query_params))
    except UnknownName as unknown:
        return not_found(
            request,
            f"{unknown.kind.capitalize()} “{unknown.name}” tidak ada di {site['name']}.",
            f"{unknown.kind_en.capitalize()} “{unknown.name}” does not exist at {site['name']}.",
        )
    return render(
        request,
        "tv.html",
        {
            "site": site,
            "view": view,
            "initials": initials(site.get("name") or site["id"]),
            "filters": {
                "agency": ",".join(view.agencies),
                "counter": ",".join(view.counters),
                "zone": ",".join(view.zones),
            },
        },
    )
