"""Site configuration: the TOML schema, its validation, and its JSON form in Redis.

Every error names the file, the entry and the field, e.g.
`bogor.toml: services[12] (id "paspor-baru"): prefix: must be 1-2 capital letters`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from . import domain, hours
from .errors import ConfigError

DEMO_PATH = Path(__file__).parent / "demo" / "bogor.toml"
DEFAULT_ANNOUNCEMENT = "Nomor antrean {number}, silakan menuju {counter}"


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    short_name: str


@dataclass(frozen=True)
class BookingSession:
    """A booking session: weekdays, local start and end ("08:00"), places."""

    days: tuple[str, ...]
    start: str
    end: str
    quota: int

    @property
    def id(self) -> str:
        return f"{self.start.replace(':', '')}-{self.end.replace(':', '')}"


@dataclass(frozen=True)
class Service:
    id: str
    agency: str
    name: str
    prefix: str
    daily_quota: int | None = None
    open: bool = True
    # the service standard (standar pelayanan): targets for waiting and service time
    target_wait_min: int | None = None
    target_service_min: int | None = None
    # opening hours: weekday (mon..sun) -> "08:00-15:00" (server/hours.py); None = always
    hours: dict[str, str] | None = field(default=None, compare=False)
    # bookings (docs/bookings.md): sessions with a quota each; the share of daily_quota
    # kept for walk-ins; how many days ahead bookings open. No sessions: no bookings.
    booking_sessions: tuple[BookingSession, ...] = ()
    walk_in_share: float | None = None
    booking_days_ahead: int = 14
    remote_ticket: bool = False  # a phone may take a ticket (no kiosk), in opening hours

    def sessions_on(self, day: date) -> tuple[BookingSession, ...]:
        """The booking sessions of a date's weekday, in time order."""
        weekday = hours.WEEKDAYS[day.weekday()]
        return tuple(s for s in self.booking_sessions if weekday in s.days)

    def booking_cap(self) -> int | None:
        """Bookings a day may hold at most: daily_quota less the walk-ins' share."""
        if self.daily_quota is None or self.walk_in_share is None:
            return None
        return int(self.daily_quota * (1 - self.walk_in_share))


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    agency: str
    services: tuple[str, ...]
    floor: str = ""
    zone: str = ""
    # its staff's breaks: weekday -> "12:00-13:00" (server/hours.py); the wait estimate
    # counts on the counter calling nobody then (docs/estimated-wait.md)
    breaks: dict[str, str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Display:
    id: str
    name: str
    kind: str = "tv"
    layout: str = "landscape"
    paper: str = "80mm"
    agencies: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    zone: str = ""
    show_ikm: bool = False  # a TV publishes this month's satisfaction index (IKM)
    # a TV's media zone (docs/display.md): files of <data-dir>/media/ played in turn,
    # each image for media_seconds, each video to its end; media_volume 0 = silent videos
    media: tuple[str, ...] = ()
    media_seconds: int = 10
    media_volume: int = 0


# A media file's name: letters, digits, '.', '_' and '-', no path, a known extension.
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
    dot = name.rfind(".")
    return MEDIA_TYPES.get(name[dot:].lower()) if dot > 0 else None


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str = "Asia/Jakarta"
    announcement: str = DEFAULT_ANNOUNCEMENT
    running_text: str = ""
    kiosk_priority: bool = False
    require_display_token: bool = False
    kiosk_rate_per_minute: int = 20
    address_rate_per_minute: int = 30
    # the address visitors' phones open (QR codes, printed links), e.g.
    # "https://mpp.bogorkota.go.id"; "" = the address the kiosk itself used
    public_url: str = ""
    holidays: tuple[str, ...] = ()  # service days (YYYY-MM-DD) without tickets
    # bookings and notifications (docs/bookings.md, docs/notifications.md)
    notify_when_position: int | None = None  # ticket.near when a ticket's position reaches it
    booking_check_in_margin_min: int = 30  # check-in opens this long before a session
    booked_first: bool = False  # checked-in bookings go first within their service
    agencies: tuple[Agency, ...] = ()
    services: tuple[Service, ...] = ()
    counters: tuple[Counter, ...] = ()
    displays: tuple[Display, ...] = ()
    # lookups, derived
    agency_by_id: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)
    service_by_id: dict[str, Service] = field(default_factory=dict, compare=False, repr=False)
    counter_by_id: dict[str, Counter] = field(default_factory=dict, compare=False, repr=False)
    display_by_id: dict[str, Display] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.agency_by_id.update({a.id: a for a in self.agencies})
        self.service_by_id.update({s.id: s for s in self.services})
        self.counter_by_id.update({c.id: c for c in self.counters})
        self.display_by_id.update({d.id: d for d in self.displays})

    @property
    def zones(self) -> frozenset[str]:
        return frozenset(c.zone for c in self.counters if c.zone)

    def service_zones(self, service: str) -> frozenset[str]:
        """Zones of the counters that serve a service."""
        return frozenset(c.zone for c in self.counters if service in c.services and c.zone)

    def to_dict(self) -> dict[str, Any]:
        """The TOML/JSON document form (the same keys the file uses)."""
        site = {
            k: getattr(self, k)
            for k in (
                "id",
                "name",
                "timezone",
                "announcement",
                "running_text",
                "kiosk_priority",
                "require_display_token",
                "kiosk_rate_per_minute",
                "address_rate_per_minute",
                "public_url",
            )
        }
        site["holidays"] = list(self.holidays)
        for name, default in BOOKING_SITE_DEFAULTS.items():
            if getattr(self, name) != default:
                site[name] = getattr(self, name)

        def clean(obj: Any) -> dict[str, Any]:
            return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(obj).items()}

        services = []
        for s in self.services:
            entry = clean(s)
            for optional in ("daily_quota", "target_wait_min", "target_service_min", "hours"):
                if entry[optional] is None:
                    del entry[optional]
            entry["booking_sessions"] = [
                {**asdict(b), "days": list(b.days)} for b in s.booking_sessions
            ]
            for name, default in BOOKING_SERVICE_DEFAULTS.items():
                if entry[name] == default or entry[name] is None:
                    del entry[name]
            services.append(entry)
        return {
            "site": site,
            "agencies": [clean(a) for a in self.agencies],
            "services": services,
            "counters": [
                {k: v for k, v in clean(c).items() if k != "breaks" or v} for c in self.counters
            ],
            "displays": [clean(d) for d in self.displays],
        }

    def public(self) -> dict[str, Any]:
        """`GET /api/v1/sites/{site}`: everything a page needs, nothing secret."""
        doc = self.to_dict()
        out: dict[str, Any] = dict(doc["site"])
        for name in ("kiosk_rate_per_minute", "address_rate_per_minute"):
            out.pop(name)
        for s in doc["services"]:
            for optional in ("daily_quota", "target_wait_min", "target_service_min", "hours"):
                s.setdefault(optional, None)
            s["bookings"] = bool(s.get("booking_sessions"))
            s.setdefault("remote_ticket", False)
        out.update({k: doc[k] for k in ("agencies", "services", "counters", "displays")})
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


# -- parsing ------------------------------------------------------------------------


class _Entry:
    """Reads one table of the document and reports errors with their place."""

    def __init__(self, source: str, where: str, table: object) -> None:
        self.source = source
        self.where = where
        if not isinstance(table, dict):
            self.fail(None, "must be a table")
        self.table: dict[str, Any] = table  # type: ignore[assignment]
        self.used: set[str] = set()

    def fail(self, name: str | None, message: str) -> None:
        place = f"{self.where}: {name}" if name else self.where
        raise ConfigError(f"{self.source}: {place}: {message}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.table:
            if default is ...:
                self.fail(name, "is required")
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(name, f"must be {_kind_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            self.fail(name, f"must be {_kind_name(kinds)}")
        return value

    def text(self, name: str, default: Any = ..., max_len: int = 200) -> str:
        value: str = self.get(name, str, default)
        if value is not None and len(value) > max_len:
            self.fail(name, f"must be at most {max_len} characters")
        return value

    def slug(self, name: str, default: Any = ...) -> str:
        value = self.get(name, str, default)
        if value and not domain.is_slug(value):
            self.fail(name, "must be a slug: lowercase letters, digits and '-', at most 48")
        return str(value)

    def slugs(self, name: str) -> tuple[str, ...]:
        values = self.get(name, list, [])
        for value in values:
            if not domain.is_slug(value):
                self.fail(name, f"{value!r} is not a slug")
        return tuple(values)

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            self.fail(unknown[0], "unknown field")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _entries(source: str, doc: dict[str, Any], name: str) -> list[_Entry]:
    tables = doc.get(name, [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: {name}: must be an array of tables ([[{name}]])")
    entries = []
    for i, table in enumerate(tables):
        where = f"{name}[{i}]"
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            where += f' (id "{table["id"]}")'
        entries.append(_Entry(source, where, table))
    return entries


def parse(doc: dict[str, Any], source: str = "<config>", site_id: str | None = None) -> Site:
    """Validate a decoded document. `site_id` overrides `[site] id` (tests, copies)."""
    unknown = sorted(set(doc) - {"site", "agencies", "services", "counters", "displays"})
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown section")
    head = _Entry(source, "site", doc.get("site"))
    sid = head.slug("id")
    if site_id is not None:
        if not domain.is_slug(site_id):
            raise ConfigError(f"{source}: site: id: {site_id!r} is not a slug")
        sid = site_id
    timezone = head.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        head.fail("timezone", f"unknown time zone {timezone!r}")
    rates = {}
    for name, default in (("kiosk_rate_per_minute", 20), ("address_rate_per_minute", 30)):
        rates[name] = head.get(name, int, default)
        if rates[name] < 1:
            head.fail(name, "must be at least 1")
    settings = {
        "name": head.text("name"),
        "timezone": timezone,
        "announcement": head.text("announcement", DEFAULT_ANNOUNCEMENT),
        "running_text": head.text("running_text", "", max_len=2000),
        "kiosk_priority": head.get("kiosk_priority", bool, False),
        "require_display_token": head.get("require_display_token", bool, False),
        "public_url": _public_url(head),
        "holidays": _holidays(head),
        **_booking_site(head),
        **rates,
    }
    head.done()

    agencies = []
    for e in _entries(source, doc, "agencies"):
        agencies.append(Agency(e.slug("id"), e.text("name"), e.text("short_name", "")))
        e.done()
    agency_ids = _unique(source, "agencies", [a.id for a in agencies])

    services = []
    for e in _entries(source, doc, "services"):
        sv = Service(
            id=e.slug("id"),
            agency=e.slug("agency"),
            name=e.text("name"),
            prefix=e.text("prefix"),
            daily_quota=e.get("daily_quota", int, None),
            open=e.get("open", bool, True),
            target_wait_min=e.get("target_wait_min", int, None),
            target_service_min=e.get("target_service_min", int, None),
            hours=_weekly(e, "hours"),
            booking_sessions=_sessions(e),
            walk_in_share=_share(e),
            booking_days_ahead=e.get("booking_days_ahead", int, 14),
            remote_ticket=e.get("remote_ticket", bool, False),
        )
        if not 0 <= sv.booking_days_ahead <= 366:
            e.fail("booking_days_ahead", "must be from 0 to 366 days")
        if sv.agency not in agency_ids:
            e.fail("agency", f"unknown agency {sv.agency!r}")
        if domain.PREFIX.fullmatch(sv.prefix) is None:
            e.fail("prefix", "must be 1-2 capital letters")
        if sv.daily_quota is not None and sv.daily_quota < 1:
            e.fail("daily_quota", "must be at least 1")
        for name in ("target_wait_min", "target_service_min"):
            minutes = getattr(sv, name)
            if minutes is not None and not 1 <= minutes <= 1440:
                e.fail(name, "must be from 1 to 1440 minutes")
        e.done()
        services.append(sv)
    service_ids = _unique(source, "services", [s.id for s in services])
    agency_of = {s.id: s.agency for s in services}

    counters = []
    for e in _entries(source, doc, "counters"):
        ct = Counter(
            id=e.slug("id"),
            name=e.text("name", max_len=60),
            agency=e.slug("agency"),
            services=e.slugs("services"),
            floor=e.text("floor", "", max_len=20),
            zone=e.slug("zone", ""),
            breaks=_weekly(e, "breaks") or None,
        )
        if ct.agency not in agency_ids:
            e.fail("agency", f"unknown agency {ct.agency!r}")
        if not ct.services:
            e.fail("services", "must name at least one service")
        for sid_ in ct.services:
            if sid_ not in service_ids:
                e.fail("services", f"unknown service {sid_!r}")
            if agency_of[sid_] != ct.agency:
                e.fail("services", f"service {sid_!r} belongs to another agency")
        if len(set(ct.services)) != len(ct.services):
            e.fail("services", "lists a service twice")
        e.done()
        counters.append(ct)
    counter_ids = _unique(source, "counters", [c.id for c in counters])

    displays = []
    for e in _entries(source, doc, "displays"):
        dp = Display(
            id=e.slug("id"),
            name=e.text("name"),
            kind=e.text("kind", "tv"),
            layout=e.text("layout", "landscape"),
            paper=e.text("paper", "80mm"),
            agencies=e.slugs("agencies"),
            counters=e.slugs("counters"),
            zone=e.slug("zone", ""),
            show_ikm=e.get("show_ikm", bool, False),
            media=tuple(e.get("media", list, [])),
            media_seconds=e.get("media_seconds", int, 10),
            media_volume=e.get("media_volume", int, 0),
        )
        if dp.kind not in ("tv", "kiosk"):
            e.fail("kind", 'must be "tv" or "kiosk"')
        if dp.layout not in ("landscape", "portrait"):
            e.fail("layout", 'must be "landscape" or "portrait"')
        if dp.paper not in ("58mm", "80mm"):
            e.fail("paper", 'must be "58mm" or "80mm"')
        for name in dp.media:
            if not isinstance(name, str) or media_type(name) is None:
                e.fail(
                    "media",
                    f"{name!r} is not a media file name: letters, digits, '.', '_', '-'"
                    f" ending in {', '.join(MEDIA_TYPES)}",
                )
        if len(dp.media) > 50:
            e.fail("media", "at most 50 files")
        if not 2 <= dp.media_seconds <= 600:
            e.fail("media_seconds", "must be 2-600 (seconds per image)")
        if not 0 <= dp.media_volume <= 100:
            e.fail("media_volume", "must be 0-100 (0: videos play without sound)")
        for a in dp.agencies:
            if a not in agency_ids:
                e.fail("agencies", f"unknown agency {a!r}")
        for c in dp.counters:
            if c not in counter_ids:
                e.fail("counters", f"unknown counter {c!r}")
        e.done()
        displays.append(dp)
    _unique(source, "displays", [d.id for d in displays])

    for kind, items in (("agencies", agencies), ("services", services), ("counters", counters)):
        if not items:
            raise ConfigError(f"{source}: {kind}: at least one is required")
    return Site(
        id=sid,
        agencies=tuple(agencies),
        services=tuple(services),
        counters=tuple(counters),
        displays=tuple(displays),
        **settings,
    )


def _public_url(head: _Entry) -> str:
    url = head.text("public_url", "").strip().rstrip("/")
    if url and (_PUBLIC_URL.fullmatch(url) is None or any(c in url for c in "?#@ ")):
        head.fail("public_url", 'must be an http(s) address like "https://mpp.example.go.id"')
    return url


_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/-]*)?")


def _holidays(head: _Entry) -> tuple[str, ...]:
    values = head.get("holidays", list, [])
    for value in values:
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            head.fail("holidays", f"{value!r} is not a date YYYY-MM-DD")
    return tuple(sorted(set(values)))


def _weekly(e: _Entry, name: str) -> dict[str, str] | None:
    """A weekly table (`hours`, `breaks`): weekday -> ranges (server/hours.py)."""
    table = e.get(name, dict, None)
    if table is None:
        return None
    for day, text in table.items():
        if day not in hours.WEEKDAYS:
            e.fail(name, f"{day!r} is not a weekday ({', '.join(hours.WEEKDAYS)})")
        if not isinstance(text, str):
            e.fail(name, f'{day}: must be a string like "08:00-15:00"')
        try:
            hours.parse_ranges(text)
        except ValueError as exc:
            e.fail(name, f"{day}: {exc}")
    return {d: table[d] for d in hours.WEEKDAYS if d in table}


BOOKING_SITE_DEFAULTS: dict[str, Any] = {
    "notify_when_position": None,
    "booking_check_in_margin_min": 30,
    "booked_first": False,
}
BOOKING_SERVICE_DEFAULTS: dict[str, Any] = {
    "booking_sessions": [],
    "walk_in_share": None,
    "booking_days_ahead": 14,
    "remote_ticket": False,
}


def _booking_site(head: _Entry) -> dict[str, Any]:
    notify = head.get("notify_when_position", int, None)
    if notify is not None and not 1 <= notify <= 100:
        head.fail("notify_when_position", "must be from 1 to 100")
    margin = head.get("booking_check_in_margin_min", int, 30)
    if not 0 <= margin <= 240:
        head.fail("booking_check_in_margin_min", "must be from 0 to 240 minutes")
    return {
        "notify_when_position": notify,
        "booking_check_in_margin_min": margin,
        "booked_first": head.get("booked_first", bool, False),
    }


def _share(e: _Entry) -> float | None:
    value = e.get("walk_in_share", (int, float), None)
    if value is not None and not 0 <= value <= 1:
        e.fail("walk_in_share", "must be from 0 to 1 (a share of daily_quota)")
    return None if value is None else float(value)


_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _sessions(e: _Entry) -> tuple[BookingSession, ...]:
    out: list[BookingSession] = []
    for i, table in enumerate(e.get("booking_sessions", list, [])):
        name = f"booking_sessions[{i}]"
        if not isinstance(table, dict) or set(table) - {"days", "start", "end", "quota"}:
            e.fail(name, "must be a table of days, start, end and quota")
        days, start, end, quota = (table.get(k) for k in ("days", "start", "end", "quota"))
        if not isinstance(days, list) or not days or any(d not in hours.WEEKDAYS for d in days):
            e.fail(name, f"days: must list weekdays ({', '.join(hours.WEEKDAYS)})")
        for label, value in (("start", start), ("end", end)):
            if not isinstance(value, str) or _CLOCK.fullmatch(value) is None:
                e.fail(name, f'{label}: must be a time like "08:00"')
        if end <= start:
            e.fail(name, "end: must be after start")
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 1:
            e.fail(name, "quota: must be at least 1")
        session = BookingSession(tuple(days), start, end, quota)
        for other in out:
            if set(other.days) & set(days) and start < other.end and other.start < end:
                e.fail(name, f"overlaps session {other.id} on a shared weekday")
        out.append(session)
    return tuple(out)


def _unique(source: str, kind: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise ConfigError(f'{source}: {kind}[{i}] (id "{value}"): id: used twice')
        seen.add(value)
    return seen


def load_file(path: Path | str, site_id: str | None = None) -> Site:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} is not a text file (a site configuration is TOML, in UTF-8)"
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return parse(doc, path.name, site_id)


def from_json(text: str | bytes) -> Site:
    return parse(json.loads(text), "<stored config>")


def load_demo(site_id: str | None = None) -> Site:
    return load_file(DEMO_PATH, site_id)


def diff(old: Site | None, new: Site) -> dict[str, Any]:
    """What changed between two configurations, for the audit log: the `[site]` fields
    that changed, and per section the ids added, removed and changed."""
    before = old.to_dict() if old else {"site": {}}
    after = new.to_dict()
    out: dict[str, Any] = {}
    fields = sorted(k for k, v in after["site"].items() if before["site"].get(k) != v)
    if fields:
        out["site"] = fields
    for section in ("agencies", "services", "counters", "displays"):
        was = {e["id"]: e for e in before.get(section, [])}
        now = {e["id"]: e for e in after[section]}
        change = {
            "added": [i for i in now if i not in was],
            "removed": [i for i in was if i not in now],
            "changed": [i for i in now if i in was and was[i] != now[i]],
        }
        change = {k: v for k, v in change.items() if v}
        if change:
            out[section] = change
    return out
