"""HTTP routes of the measuring instrument (spec section 6): reports of a site, the
evaluation of every site, the supervisor's live floor, and the published IKM.

Parse, authorize, read the rollups, shape rows with `measure` (the one definition of
every figure), and answer as JSON, CSV or XLSX.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import domain, export, hours, ikm, measure
from .api import Json, principal_of, reader_site, site_of
from .auth import Principal, require, sees_ids
from .config import Site
from .errors import Forbidden, InvalidField, Unauthorized
from .store import Store

FORMATS = ("json", "csv", "xlsx")
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LONG_CALL_S = 5 * 60  # called and not started this long: the visitor may not have heard
LONG_PAUSE_S = 30 * 60
BREAK_GRACE_S = 5 * 60  # a counter still away this long after its break ended
BREAK_EARLY_S = 15 * 60  # one that stopped this long before its break began left for it


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _today(store: Store, site: Site) -> date:
    return date.fromisoformat(domain.service_day(store.clock(), site.timezone))


def _range(request: Request, today: date) -> tuple[date, date]:
    """`from` and `to` (service days, `to` inclusive, default today; at most 366 days)."""
    q = request.query_params
    try:
        last = date.fromisoformat(q["to"]) if q.get("to") else today
    except ValueError:
        raise InvalidField("to", "must be a date YYYY-MM-DD") from None
    try:
        first = date.fromisoformat(q["from"]) if q.get("from") else last
    except ValueError:
        raise InvalidField("from", "must be a date YYYY-MM-DD") from None
    if first > last:
        raise InvalidField("from", "must not be after to")
    if (last - first).days + 1 > measure.MAX_DAYS:
        raise InvalidField("from", f"the period is at most {measure.MAX_DAYS} days")
    return first, last


def _choice(request: Request, name: str, allowed: tuple[str, ...] | Mapping[str, Any]) -> str:
    value = request.query_params.get(name, next(iter(allowed)))
    if value not in allowed:
        raise InvalidField(name, f"must be one of {', '.join(allowed)}")
    return value


def _answer(doc: dict[str, Any], rows_key: str, fmt: str, filename: str, title: str) -> Response:
    if fmt == "json":
        return Json(doc)
    lines = export.table(doc[rows_key], doc.get("total"))
    body = export.to_csv(lines) if fmt == "csv" else export.to_xlsx(lines, filename, title)
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


# -- reports ----------------------------------------------------------------------------


def _may_read_figures(principal: Principal | None, site_id: str) -> Principal:
    if principal is not None and principal.role == "evaluator":
        return principal
    return require(principal, ("supervisor",), site_id)


def _names(site: Site, by: str) -> dict[str, tuple[str, int | None, int | None]]:
    """unit id -> (name, target wait, target service) of a dimension's configured units."""
    if by == "agency":
        return {a.id: (a.short_name or a.name, None, None) for a in site.agencies}
    if by == "service":
        return {s.id: (s.name, s.target_wait_min, s.target_service_min) for s in site.services}
    if by == "counter":
        return {c.id: (c.name, None, None) for c in site.counters}
    if by == "session":
        return {
            f"{s.id}@{b.id}": (f"{s.name} {b.start}-{b.end}", None, None)
            for s in site.services
            for b in s.booking_sessions
        }
    if by == "hour":
        return {f"{h:02d}": (f"{h:02d}.00-{h + 1:02d}.00", None, None) for h in range(24)}
    return {}


async def report(store: Store, site: Site, by: str, first: date, last: date) -> dict[str, Any]:
    """The report document of spec section 6 for one site."""
    today = _today(store, site)
    rollups = store.rollups
    site_units = await rollups.units(site.id, "s", first, last, today)
    total = measure.row("total", site.name, site_units.get(measure.SITE_UNIT, {}))
    rows: list[dict[str, Any]] = []
    if by == "site":
        rows = [{**total, "key": site.id}]
    elif by == "day":
        days = measure.days(first, last)
        hashes = await rollups.hashes(site.id, "s", [d.isoformat() for d in days])
        for day, fields in zip(days, hashes, strict=True):
            tally = measure.tally_units([fields]).get(measure.SITE_UNIT, {})
            rows.append(measure.row(day.isoformat(), day.isoformat(), tally))
    else:
        units = await rollups.units(site.id, measure.DIMENSIONS[by], first, last, today)
        known = _names(site, by)
        order = list(known) + sorted(u for u in units if u not in known)
        for unit in order:
            if unit not in units and by not in ("hour",):
                continue  # configured, but nothing happened there in the period
            name, wait, service = known.get(unit, (unit, None, None))
            rows.append(
                measure.row(
                    unit, name, units.get(unit, {}), target_wait=wait, target_service=service
                )
            )
    return {
        "site": site.id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "rows": rows,
        "total": total,
    }


async def get_report(request: Request) -> Response:
    principal = await principal_of(request)
    site = await site_of(request)
    p = _may_read_figures(principal, site.id)
    by = _choice(request, "by", measure.DIMENSIONS)
    fmt = _choice(request, "format", FORMATS)
    if by == "officer" and p.role == "evaluator":
        raise Forbidden("Officers' figures are not shown to evaluators.", code="personal_data")
    first, last = _range(request, _today(_store(request), site))
    doc = await report(_store(request), site, by, first, last)
    name = f"loket-{site.id}-{by}-{first.isoformat()}-{last.isoformat()}"
    return _answer(doc, "rows", fmt, name, f"{site.name}: {first} - {last}")


# -- evaluation -------------------------------------------------------------------------


async def evaluation(store: Store, first: date, last: date) -> dict[str, Any]:
    rows = []
    for site in await store.sites():
        today = _today(store, site)
        units = await store.rollups.units(site.id, "s", first, last, today)
        tally = units.get(measure.SITE_UNIT, {})
        rows.append(
            {
                **measure.row(site.id, site.name, tally),
                "counters": len(site.counters),
                **measure.productivity(tally),
            }
        )
    return {"from": first.isoformat(), "to": last.isoformat(), "sites": rows}


async def get_evaluation(request: Request) -> Response:
    principal = await principal_of(request)
    if principal is None:
        raise Unauthorized("This needs a credential.")
    if principal.role not in ("admin", "evaluator"):
        raise Forbidden("Only evaluators and administrators compare sites.")
    fmt = _choice(request, "format", FORMATS)
    store = _store(request)
    today = date.fromisoformat(domain.service_day(store.clock(), "Asia/Jakarta"))
    first, last = _range(request, today)
    doc = await evaluation(store, first, last)
    name = f"loket-evaluation-{first.isoformat()}-{last.isoformat()}"
    return _answer(doc, "sites", fmt, name, f"Evaluasi {first} - {last}")


# -- the live floor ---------------------------------------------------------------------


def _seconds_since(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    return max(0, int((now - datetime.fromisoformat(iso)).total_seconds()))


async def floor(store: Store, site: Site, with_id: bool) -> dict[str, Any]:
    """The monitor document: counters, queues (with their first tickets) and alerts."""
    raw = await store.floor(site)
    now = store.clock()
    counters, queues, alerts = [], [], []
    for c in site.counters:
        record = raw["counters"].get(c.id) or {"status": domain.OPEN}
        held = raw["tickets"].get(record.get("ticket") or "")
        breaks = hours.windows_today(c.breaks, site.timezone, now)
        on_break = next((end for start, end in breaks if start <= 0 < end), None)
        counters.append(
            {
                "id": c.id,
                "name": c.name,
                "agency": c.agency,
                "zone": c.zone,
                "status": record["status"],
                "since": record.get("since"),
                "officer": record.get("officer"),
                "ticket": domain.optional_ticket_view(held, with_id=with_id),
                "break_until": None if on_break is None else _local(now, on_break, site),
            }
        )
        if record["status"] != domain.OPEN:
            alerts += _break_over(c.name, c.id, breaks, record.get("since"), now, site)
        if held and held["status"] == domain.CALLED:
            waited = _seconds_since(held.get("called_at"), now) or 0
            if waited >= LONG_CALL_S:
                alerts.append(
                    _alert(
                        "long_call",
                        "warning",
                        f"{held['number']} dipanggil ke {c.name} "
                        f"{waited // 60} menit lalu dan belum dilayani.",
                        counter=c.id,
                    )
                )
        paused = _seconds_since(record.get("since"), now) or 0
        if record["status"] == domain.PAUSED and paused >= LONG_PAUSE_S and on_break is None:
            alerts.append(
                _alert(
                    "long_pause", "warning", f"{c.name} dijeda {paused // 60} menit.", counter=c.id
                )
            )
    status = {c["id"]: c["status"] for c in counters}
    for s in site.services:
        tickets, size = raw["queues"].get(s.id, ([], 0))
        if not size:
            continue
        oldest_ms = min((t.get("_q_ms") or t["_issued_ms"] for t in tickets), default=None)
        oldest_wait = max(0, int(now.timestamp() - oldest_ms / 1000)) if oldest_ms else None
        breach = bool(
            s.target_wait_min is not None
            and oldest_wait is not None
            and oldest_wait > s.target_wait_min * 60
        )
        queues.append(
            {
                "service": s.id,
                "name": s.name,
                "agency": s.agency,
                "waiting": size,
                "oldest_issued_at": min((t["issued_at"] for t in tickets), default=None),
                "oldest_wait_s": oldest_wait,
                "target_wait_min": s.target_wait_min,
                "breach": breach,
                "tickets": [domain.ticket_view(t, with_id=with_id) for t in tickets],
            }
        )
        if breach:
            alerts.append(
                _alert(
                    "sla_breach",
                    "high",
                    f"{s.name}: antrean terlama menunggu "
                    f"{(oldest_wait or 0) // 60} menit (standar {s.target_wait_min} menit).",
                    service=s.id,
                )
            )
        serving = [c.id for c in site.counters if s.id in c.services]
        if not any(status.get(c) == domain.OPEN for c in serving):
            alerts.append(
                _alert(
                    "no_open_counter",
                    "high",
                    f"{s.name}: {size} menunggu, tidak ada loket yang buka.",
                    service=s.id,
                )
            )
    return {
        "seq": raw["seq"],
        "now": domain.local_iso(now, site.timezone),
        "counters": counters,
        "queues": queues,
        "alerts": alerts,
    }


def _alert(kind: str, severity: str, message: str, **about: str) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "message": message, **about}


def _local(now: datetime, offset_s: float, site: Site) -> str:
    return domain.local_iso(now + timedelta(seconds=offset_s), site.timezone)


def _break_over(
    name: str,
    counter_id: str,
    breaks: tuple[tuple[float, float], ...],
    since: str | None,
    now: datetime,
    site: Site,
) -> list[dict[str, Any]]:
    """A counter paused or closed for one of today's breaks, still away BREAK_GRACE_S
    after it ended. Paused or closed long before the break (for the day, say): none."""
    stopped = -(_seconds_since(since, now) or 0)  # when it stopped, seconds from now
    ended = [
        end for start, end in breaks if end <= -BREAK_GRACE_S and stopped >= start - BREAK_EARLY_S
    ]
    if not ended:
        return []
    at = (now + timedelta(seconds=ended[-1])).astimezone(ZoneInfo(site.timezone))
    return [
        _alert(
            "break_over",
            "warning",
            f"{name} belum buka lagi; istirahatnya selesai pukul {at:%H.%M}.",
            counter=counter_id,
        )
    ]


async def get_monitor(request: Request) -> Response:
    principal = await principal_of(request)
    site = await site_of(request)
    p = require(principal, ("supervisor",), site.id)
    return Json(await floor(_store(request), site, sees_ids(p, site.id)))


# -- published satisfaction -------------------------------------------------------------


async def get_ikm(request: Request) -> Response:
    """This month's IKM of a site so far (public: the TV may publish it)."""
    site, _ = await reader_site(request)
    store = _store(request)
    today = _today(store, site)
    first = today.replace(day=1)
    units = await store.rollups.units(site.id, "s", first, today, today)
    tally = units.get(measure.SITE_UNIT, {})
    result = measure.ikm(
        tally.get("ikm_n", 0), {s: tally.get("q|" + s, 0) for s in ikm.ELEMENT_SLUGS}
    )
    label = ikm.category(result["score"])[1] if result["score"] is not None else None
    return Json({"month": first.strftime("%Y-%m"), **result, "label": label})


async def get_survey(request: Request) -> Response:
    """The nine survey elements with their questions and answers (for the pages)."""
    return Json(
        {
            "elements": [e.as_json() for e in ikm.ELEMENTS],
            "scores": list(ikm.SCORE_LABELS),
            "scores_en": list(ikm.SCORE_LABELS_EN),
        }
    )


def routes() -> list[BaseRoute]:
    site = "/api/v1/sites/{site}"
    return [
        Route(f"{site}/reports", get_report),
        Route(f"{site}/monitor", get_monitor),
        Route(f"{site}/ikm", get_ikm),
        Route("/api/v1/evaluation", get_evaluation),
        Route("/api/v1/survey", get_survey),
    ]
