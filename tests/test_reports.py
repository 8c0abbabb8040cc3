"""The figures of spec section 6 against the truth.

A seeded simulation drives a service day (and the next one, through the rollover) at
three counters of the demo site with the injected clock; the truth is computed here,
independently of server/measure.py, from the event log and the simulation's own record
(who called, what the survey answered). Every report row by every key must agree:
counts, means and SLA exactly, percentiles within one histogram bucket, ratings and IKM
exactly. The same numbers come out of the HTTP API as JSON, CSV and XLSX. Then the role
matrix of /reports and /evaluation, and malformed parameters.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import httpx
import openpyxl
import pytest

from server import config, reports
from server.errors import Conflict
from server.store import Store
from tests.conftest import ADMIN_TOKEN, FakeClock, LiveServer

ELEMENTS = (
    "persyaratan", "prosedur", "waktu", "biaya", "produk",
    "kompetensi", "perilaku", "sarana", "pengaduan",
)  # fmt: skip
COUNTS = (
    "issued", "called", "served", "no_show", "cancelled", "expired",
    "transferred_out", "recalls", "unstarted",
    "booked", "checked_in", "booking_cancelled", "booking_no_show",
)  # fmt: skip
BYS = ("site", "agency", "service", "counter", "officer", "day", "hour")
DIMS = ("site", "agency", "service", "counter", "officer", "hour")
SITE_UNIT = "-"

# -- the truth, from the event log --------------------------------------------------------


def half_up(value: Fraction, places: int) -> float:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def nearest_rank(values: list[int], p: int) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


@dataclass
class Acc:
    """What happened to one unit (a service, a counter, ...) on one service day."""

    counts: Counter[str] = field(default_factory=Counter)
    wait: list[int] = field(default_factory=list)
    walk: list[int] = field(default_factory=list)
    service: list[int] = field(default_factory=list)
    sla_n: int = 0
    sla_met: int = 0
    slas_n: int = 0
    slas_met: int = 0
    scores: list[int] = field(default_factory=list)
    surveys: list[Mapping[str, int]] = field(default_factory=list)
    open_s: int = 0

    def merge(self, other: Acc) -> Acc:
        self.counts.update(other.counts)
        self.wait += other.wait
        self.walk += other.walk
        self.service += other.service
        self.sla_n += other.sla_n
        self.sla_met += other.sla_met
        self.slas_n += other.slas_n
        self.slas_met += other.slas_met
        self.scores += other.scores
        self.surveys += other.surveys
        self.open_s += other.open_s
        return self


def _seconds(at: str) -> int:
    return int(datetime.fromisoformat(at).timestamp())


@dataclass
class Segment:
    service: str
    agency: str
    queued: int  # epoch seconds
    day: str
    hour: str
    status: str = "waiting"
    counter: str | None = None  # the counter that first called it
    officer: str | None = None
    called: int | None = None
    started: int | None = None


class Truth:
    """The figures, computed from the event log by the definitions of spec section 6.

    `officer_of(event)` names who made a ticket.called event (the log does not say);
    `answers` maps a ticket id to the nine-element survey it was rated with, if any;
    `targets` maps a service to (target_wait_min, target_service_min);
    `empty_nexts` are (seq of the log's head at the time, counter id, epoch s, day) of
    `next` calls that found nothing waiting (they leave no event but start the counter's
    open-time clock)."""

    def __init__(
        self,
        events: list[dict[str, Any]],
        *,
        officer_of: Callable[[dict[str, Any]], str],
        answers: Mapping[str, Mapping[str, int]],
        targets: Mapping[str, tuple[int | None, int | None]],
        empty_nexts: Iterable[tuple[int, str, int, str]] = (),
    ) -> None:
        self.acc: dict[tuple[str, str, str], Acc] = defaultdict(Acc)
        self.targets = targets
        self.segments: dict[str, Segment] = {}
        self.last_officer: dict[str, str] = {}
        self.marks: dict[str, tuple[int, str]] = {}  # counter -> (mark s, mark day)
        pending = sorted(empty_nexts)
        for e in events:
            while pending and pending[0][0] < e["seq"]:
                _, counter, at, day = pending.pop(0)
                self._clock(counter, at, day)
            self._event(e, officer_of, answers)
        for _, counter, at, day in pending:
            self._clock(counter, at, day)

    # units of a segment: day, and dimension -> unit id
    def _add(self, seg: Segment, called: bool, fn: Callable[[Acc], None]) -> None:
        units = {
            "site": SITE_UNIT,
            "agency": seg.agency,
            "service": seg.service,
            "hour": seg.hour,
        }
        if called:
            assert seg.counter and seg.officer
            units["counter"] = seg.counter
            units["officer"] = seg.officer
        for dim, unit in units.items():
            fn(self.acc[(seg.day, dim, unit)])

    def _clock(self, counter: str, at: int, day: str, stop: bool = False) -> None:
        mark = self.marks.get(counter)
        if mark and mark[1] == day and at > mark[0]:
            self.acc[(day, "site", SITE_UNIT)].open_s += at - mark[0]
            self.acc[(day, "counter", counter)].open_s += at - mark[0]
        if stop:
            self.marks.pop(counter, None)
        else:
            self.marks[counter] = (at, day)

    def _end_service(self, seg: Segment, at: int) -> Callable[[Acc], None]:
        begun = seg.started if seg.started is not None else seg.called
        assert begun is not None
        took = at - begun
        goal = self.targets.get(seg.service, (None, None))[1]

        def fn(a: Acc) -> None:
            a.service.append(took)
            if goal is not None:
                a.slas_n += 1
                a.slas_met += took <= goal * 60

        return fn

    def _event(
        self,
        e: dict[str, Any],
        officer_of: Callable[[dict[str, Any]], str],
        answers: Mapping[str, Mapping[str, int]],
    ) -> None:
        kind, at_iso, t = e["type"], e["at"], e.get("ticket")
        at, day, hour = _seconds(at_iso), at_iso[:10], at_iso[11:13]
        counter = (e.get("counter") or {}).get("id")

        def count(name: str, n: int = 1) -> Callable[[Acc], None]:
            return lambda a: a.counts.update({name: n})

        if kind == "site.day_reset":
            for seg in self.segments.values():
                if seg.status == "waiting":
                    seg.status = "cancelled"
                    self._add(seg, False, count("expired"))
            return
        if kind in ("counter.paused", "counter.closed"):
            self._clock(counter, at, day, stop=True)
            return
        if not t:
            return
        tid = t["id"]
        if kind == "ticket.issued":
            seg = self.segments[tid] = Segment(t["service"], t["agency"], at, day, hour)
            assert t["issued_at"] == at_iso
            self._add(seg, False, count("issued"))
            return
        if kind == "ticket.rated":
            officer = self.last_officer[tid]
            survey = answers.get(tid)

            def rated(a: Acc) -> None:
                a.scores.append(e["score"])
                if survey is not None and len(survey) == len(ELEMENTS):
                    a.surveys.append(survey)

            units = {
                "site": SITE_UNIT,
                "agency": t["agency"],
                "service": t["service"],
                "hour": hour,
                "counter": t["counter"]["id"],
                "officer": officer,
            }
            for dim, unit in units.items():
                rated(self.acc[(day, dim, unit)])
            return
        seg = self.segments[tid]
        if kind == "ticket.called":
            officer = officer_of(e)
            self.last_officer[tid] = officer
            if seg.status == "no_show":  # a latecomer: not a no-show after all
                self._add(seg, True, count("no_show", -1))
            elif seg.counter is None:
                seg.counter, seg.officer = counter, officer
                wait = at - seg.queued
                goal = self.targets.get(seg.service, (None, None))[0]

                def called(a: Acc) -> None:
                    a.counts["called"] += 1
                    a.wait.append(wait)
                    if goal is not None:
                        a.sla_n += 1
                        a.sla_met += wait <= goal * 60

                self._add(seg, True, called)
            assert t["called_at"] == at_iso
            seg.status, seg.called, seg.started = "called", at, None
            self._clock(counter, at, day)
        elif kind == "ticket.recalled":
            self._add(seg, True, count("recalls"))
        elif kind == "ticket.started":
            assert seg.called is not None
            walk = at - seg.called
            seg.started, seg.status = at, "serving"
            self._add(seg, True, lambda a: a.walk.append(walk))
        elif kind == "ticket.finished":
            self._add(seg, True, count("served"))
            if seg.started is None:
                self._add(seg, True, count("unstarted"))
            self._add(seg, True, self._end_service(seg, at))
            seg.status = "done"
            self._clock(counter, at, day)
        elif kind == "ticket.no_show":
            seg.status = "no_show"
            self._add(seg, True, count("no_show"))
            self._clock(counter, at, day)
        elif kind == "ticket.transferred":
            self._add(seg, True, count("transferred_out"))
            self._add(seg, True, self._end_service(seg, at))
            self.segments[tid] = Segment(t["service"], t["agency"], at, day, hour)
            self._clock(counter, at, day)
        elif kind == "ticket.cancelled":
            seg.status = "cancelled"
            self._add(seg, False, count("cancelled"))

    # -- rows ------------------------------------------------------------------------

    def units(self, dim: str, days: Iterable[str]) -> dict[str, Acc]:
        wanted = set(days)
        out: dict[str, Acc] = defaultdict(Acc)
        for (day, d, unit), acc in self.acc.items():
            if d == dim and day in wanted:
                out[unit].merge(acc)
        return out

    def row(self, acc: Acc, *, service: str | None = None) -> dict[str, Any]:
        wait_t, svc_t = self.targets.get(service, (None, None)) if service else (None, None)

        def dur(values: list[int]) -> dict[str, Any]:
            if not values:
                return {"mean": None, "p50": None, "p90": None}
            return {
                "mean": half_up(Fraction(sum(values), len(values)), 1),
                "p50": nearest_rank(values, 50),
                "p90": nearest_rank(values, 90),
            }

        def share(met: int, n: int) -> float | None:
            return half_up(Fraction(100 * met, n), 1) if n else None

        if acc.surveys:
            n = len(acc.surveys)
            nrr = {el: Fraction(sum(s[el] for s in acc.surveys), n) for el in ELEMENTS}
            score = half_up(25 * sum(nrr.values(), Fraction(0)) / 9, 2)
            letter = (
                "A" if score >= 88.31 else "B" if score >= 76.61 else "C" if score >= 65 else "D"
            )
            ikm = {
                "n": n,
                "nrr": {el: half_up(v, 3) for el, v in nrr.items()},
                "score": score,
                "category": letter,
            }
        else:
            ikm = {"n": 0, "nrr": dict.fromkeys(ELEMENTS), "score": None, "category": None}
        return {
            **{c: acc.counts.get(c, 0) for c in COUNTS},
            "wait_s": dur(acc.wait),
            "walk_s": dur(acc.walk),
            "service_s": dur(acc.service),
            "sla": {
                "target_wait_min": wait_t,
                "met": acc.sla_met,
                "n": acc.sla_n,
                "pct": share(acc.sla_met, acc.sla_n),
            },
            "sla_service": {
                "target_service_min": svc_t,
                "met": acc.slas_met,
                "n": acc.slas_n,
                "pct": share(acc.slas_met, acc.slas_n),
            },
            "rating": {
                "n": len(acc.scores),
                "mean": half_up(Fraction(sum(acc.scores), len(acc.scores)), 2)
                if acc.scores
                else None,
            },
            "ikm": ikm,
        }


def assert_row(got: dict[str, Any], want: dict[str, Any], where: str, close: float = 0) -> None:
    """Equal, except percentiles: within one bucket (5 s up to 600 s, 30 s beyond).
    `close`: how far (s) each true duration may be from the one measured (the log's
    times are whole seconds, the store's milliseconds)."""
    got = {k: v for k, v in got.items() if k not in ("key", "name")}
    for name in ("wait_s", "walk_s", "service_s"):
        g, w = dict(got[name]), dict(want[name])
        for p in ("mean", "p50", "p90"):
            if w[p] is None:
                assert g[p] is None, (where, name, p, g)
            else:
                assert g[p] is not None, (where, name, p)
                slack = 0 if p == "mean" else 5 if w[p] <= 600 else 30
                assert abs(g[p] - w[p]) <= slack + close, (where, name, p, g[p], w[p])
            if p != "mean" or close:
                g[p] = w[p]
        got = {**got, name: g}
    assert got == want, where


def check_report(
    doc: dict[str, Any],
    truth: Truth,
    site: config.Site,
    by: str,
    days: list[str],
    period: tuple[str, str] | None = None,
    close: float = 0,
) -> None:
    """Every row of a report document (and its total) against the truth: `days` are the
    days with figures, `period` the report's from and to (default: the first and last)."""
    where = f"by={by} {days[0]}..{days[-1]}"
    first, last = period or (days[0], days[-1])
    assert (doc["site"], doc["from"], doc["to"], doc["by"]) == (site.id, first, last, by)
    total = truth.units("site", days).get(SITE_UNIT, Acc())
    assert_row(doc["total"], truth.row(total), f"{where} total", close)
    assert doc["total"]["key"] == "total"
    rows = {r["key"]: r for r in doc["rows"]}
    assert len(rows) == len(doc["rows"]), "a unit appears twice"
    if by == "site":
        assert list(rows) == [site.id]
        assert_row(rows[site.id], truth.row(total), where, close)
        return
    if by == "day":
        assert period is None
        assert list(rows) == days
        for day in days:
            acc = truth.units("site", [day]).get(SITE_UNIT, Acc())
            assert_row(rows[day], truth.row(acc), f"{where} {day}", close)
        return
    units = truth.units(by, days)
    missing = set(units) - set(rows)
    # a unit with something to show has a row; a row without truth shows nothing
    assert not {u for u in missing if truth.row(units[u]) != truth.row(Acc())}, (where, missing)
    if by == "hour":
        assert list(rows) == [f"{h:02d}" for h in range(24)]
    for key, got in rows.items():
        acc = units.get(key, Acc())
        assert_row(
            got, truth.row(acc, service=key if by == "service" else None), f"{where} {key}", close
        )
    if by == "service":
        names = {s.id: s.name for s in site.services}
        assert all(r["name"] == names[r["key"]] for r in doc["rows"])


# -- the simulation -----------------------------------------------------------------------

SERVICES = ("ktp-el", "ktp-el-cetak", "ktp-el-ubah")
COUNTERS = {
    "loket-1": ("budi", "sari"),
    "loket-2": ("andi",),
    "loket-3": ("dewi", "sari"),
}
TARGETS = {"ktp-el": (10, 5), "ktp-el-cetak": (5, None), "ktp-el-ubah": (None, 8)}
DAY1, DAY2 = "2026-11-28", "2026-11-29"


@dataclass
class Sim:
    store: Store
    site: config.Site
    clock: FakeClock
    rng: random.Random
    status: dict[str, str] = field(default_factory=dict)  # ticket -> status (as we know it)
    service: dict[str, str] = field(default_factory=dict)
    day: dict[str, str] = field(default_factory=dict)  # ticket -> day it was issued
    held: dict[str, str | None] = field(default_factory=dict)  # counter -> ticket
    paused: set[str] = field(default_factory=set)
    officers: list[str] = field(default_factory=list)  # the actor of each call, in order
    answers: dict[str, dict[str, int]] = field(default_factory=dict)
    empty_nexts: list[tuple[int, str, int, str]] = field(default_factory=list)
    did: Counter[str] = field(default_factory=Counter)

    def today(self) -> str:
        return (self.clock.now + timedelta(hours=7)).date().isoformat()

    def tick(self) -> None:
        r = self.rng.random()
        if r < 0.55:
            secs = self.rng.randint(0, 90)
        elif r < 0.9:
            secs = self.rng.randint(90, 420)
        else:
            secs = self.rng.randint(600, 1500)  # long waits, past the fine buckets
        self.clock.advance(seconds=secs)

    def _seen(self, t: dict[str, Any]) -> dict[str, Any]:
        self.status[t["id"]] = t["status"]
        self.service[t["id"]] = t["service"]
        return t

    def _actor(self, counter: str) -> str:
        who = self.rng.choice(COUNTERS[counter])
        return who

    async def issue(self, service: str | None = None) -> dict[str, Any]:
        t = await self.store.issue(
            self.site, service or self.rng.choice(SERVICES), priority=False, idem=None
        )
        self.day[t["id"]] = self.today()
        self.did["issue"] += 1
        return self._seen(t)

    def _finish_held(self, counter: str) -> None:
        held = self.held.get(counter)
        if held is not None:
            self.status[held] = "done"
            self.held[counter] = None

    async def next(self, counter: str) -> dict[str, Any] | None:
        actor = self._actor(counter)
        head = await self.store.log.last_seq(self.site.id)
        t = await self.store.next(self.site, counter, actor=actor, idem=None)
        self._finish_held(counter)
        if t is None:
            self.empty_nexts.append((head, counter, int(self.clock.now.timestamp()), self.today()))
            self.did["empty_next"] += 1
            return None
        self.officers.append(actor)
        self.held[counter] = t["id"]
        self.did["next"] += 1
        return self._seen(t)

    async def call(self, counter: str, ticket: str) -> dict[str, Any]:
        actor = self._actor(counter)
        latecomer = self.status[ticket] == "no_show"
        t = await self.store.call(self.site, counter, ticket, actor=actor, idem=None)
        self._finish_held(counter)
        self.officers.append(actor)
        self.held[counter] = t["id"]
        self.did["latecomer" if latecomer else "call"] += 1
        return self._seen(t)

    async def held_action(self, counter: str, action: str, **kw: Any) -> dict[str, Any]:
        method = getattr(self.store, action)
        t = await method(self.site, counter, idem=None, **kw)
        if action in ("finish", "no_show", "transfer"):
            self.held[counter] = None
        self.did[action] += 1
        return self._seen(t)

    async def rate(self, ticket: str) -> None:
        score = self.rng.randint(1, 4)
        body: dict[str, Any] = {"score": score, "answers": {}, "comment": None}
        r = self.rng.random()
        if r < 0.5:
            body["answers"] = {el: self.rng.randint(1, 4) for el in ELEMENTS}
            self.did["survey"] += 1
        elif r < 0.7:
            body["answers"] = {el: self.rng.randint(1, 4) for el in ELEMENTS[:5]}
            self.did["incomplete_survey"] += 1
        await self.store.rate(self.site, ticket, body, idem=None)
        self.answers[ticket] = body["answers"]
        self.status[ticket] = "rated"
        self.did["rate"] += 1

    async def step(self) -> None:
        rng = self.rng
        self.tick()
        r = rng.random()
        waiting = [t for t, s in self.status.items() if s == "waiting"]
        if r < 0.2 or (not waiting and r < 0.5):
            await self.issue()
            return
        if r < 0.23 and waiting:
            t = rng.choice(waiting)
            self._seen(await self.store.cancel(self.site, t, idem=None))
            self.did["cancel"] += 1
            return
        if r < 0.3:
            done = [t for t, s in self.status.items() if s == "done"]
            if done:
                await self.rate(rng.choice(done))
                return
        counter = rng.choice(list(COUNTERS))
        if counter in self.paused:
            if rng.random() < 0.5:
                await self.store.counter_action(self.site, counter, "resume", idem=None)
                self.paused.discard(counter)
                self.did["resume"] += 1
            return
        held = self.held.get(counter)
        serves = set(self.site_counter(counter).services)
        if held is None:
            x = rng.random()
            latecomers = [
                t
                for t, s in self.status.items()
                if s == "no_show" and self.service[t] in serves and self.day[t] == self.today()
            ]
            mine = [t for t in waiting if self.service[t] in serves]
            if x < 0.08:
                await self.store.counter_action(self.site, counter, "pause", idem=None)
                self.paused.add(counter)
                self.did["pause"] += 1
            elif x < 0.2 and latecomers:
                await self.call(counter, rng.choice(latecomers))
            elif x < 0.3 and mine:
                await self.call(counter, rng.choice(mine))
            else:
                await self.next(counter)
            return
        state = self.status[held]
        x = rng.random()
        if state == "called" and x < 0.12:
            await self.held_action(counter, "recall")
        elif state == "called" and x < 0.45:
            await self.held_action(counter, "start")
        elif state == "called" and x < 0.55:
            await self.held_action(counter, "no_show")
        elif x < 0.63:
            other = [s for s in SERVICES if s != self.service[held]]
            await self.held_action(counter, "transfer", service_id=rng.choice(other))
        elif x < 0.8:
            await self.held_action(counter, "finish")
        else:
            await self.next(counter)

    def site_counter(self, counter: str) -> config.Counter:
        return next(c for c in self.site.counters if c.id == counter)


async def with_targets(store: Store, site: config.Site) -> config.Site:
    services = tuple(
        dataclasses.replace(
            s, target_wait_min=TARGETS[s.id][0], target_service_min=TARGETS[s.id][1]
        )
        if s.id in TARGETS
        else s
        for s in site.services
    )
    site2 = dataclasses.replace(site, services=services)
    await store.load_config(site2)
    return site2


async def simulate(store: Store, site: config.Site, clock: FakeClock, seed: int) -> Sim:
    site = await with_targets(store, site)
    sim = Sim(store, site, clock, random.Random(seed))
    # scripted first: an empty `next` (the counter's open time starts), a latecomer
    # served at another counter, rated with a full survey
    assert await sim.next("loket-3") is None
    clock.advance(seconds=30)
    late = await sim.issue("ktp-el")
    clock.advance(seconds=75)
    assert (await sim.next("loket-1") or {})["id"] == late["id"]
    clock.advance(seconds=20)
    await sim.held_action("loket-1", "recall")
    clock.advance(seconds=40)
    await sim.held_action("loket-1", "no_show")
    clock.advance(seconds=300)
    await sim.call("loket-2", late["id"])
    clock.advance(seconds=15)
    await sim.held_action("loket-2", "start")
    clock.advance(seconds=200)
    await sim.held_action("loket-2", "finish")
    clock.advance(seconds=30)
    sim.rng, rng = random.Random(seed * 7 + 1), sim.rng
    await sim.rate(late["id"])
    sim.rng = rng
    # a busy morning: tickets arrive before the counters catch up
    for _ in range(12):
        await sim.issue()
        clock.advance(seconds=sim.rng.randint(5, 60))
    # the day, up to about 22:00 local (15:00 UTC)
    end_of_day = clock.now.replace(hour=15)
    while clock.now < end_of_day:
        await sim.step()
    # the evening: tickets left waiting, tickets held across midnight
    for _ in range(4):
        await sim.issue()
    for counter in COUNTERS:
        if counter in sim.paused:
            await store.counter_action(site, counter, "resume", idem=None)
            sim.paused.discard(counter)
        if sim.held.get(counter) is None:
            await sim.next(counter)
    # the next morning: the first change rolls the day over (waiting tickets expire)
    clock.now = clock.now.replace(hour=1, minute=30) + timedelta(days=1)
    assert sim.today() == DAY2
    for counter in COUNTERS:
        held = sim.held.get(counter)
        if held is not None and sim.status[held] == "called" and counter != "loket-3":
            await sim.held_action(counter, "start")
            clock.advance(seconds=45)
        if held is not None:
            await sim.held_action(counter, "finish")
    sim.status.update({t: "cancelled" for t, s in sim.status.items() if s == "waiting"})
    # day 1's no-shows are not latecomers today
    for t, s in sim.status.items():
        if s == "no_show":
            with pytest.raises(Conflict):
                await store.call(site, "loket-1", t, actor="budi", idem=None)
            break
    # ratings given today of yesterday's tickets, then a little of day 2
    for t in [t for t, s in sim.status.items() if s == "done"][:6]:
        clock.advance(seconds=sim.rng.randint(1, 120))
        await sim.rate(t)
    for _ in range(40):
        await sim.step()
    return sim


async def truth_of(sim: Sim) -> Truth:
    events, complete = await sim.store.log.events_after(sim.site.id, 0, limit=100_000)
    assert complete
    officers = iter(sim.officers)
    truth = Truth(
        events,
        officer_of=lambda e: next(officers),
        answers=sim.answers,
        targets=TARGETS,
        empty_nexts=sim.empty_nexts,
    )
    assert next(officers, None) is None  # one officer per call
    return truth


# -- the tests ----------------------------------------------------------------------------

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _number(cell: str) -> Any:
    if cell == "":
        return None
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def _flat(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
async def test_reports_agree_with_the_truth(
    store: Store, site: config.Site, clock: FakeClock, server: LiveServer, seed: int
) -> None:
    sim = await simulate(store, site, clock, seed)
    site = sim.site
    # the simulation did what it is meant to exercise
    for what in (
        "issue", "next", "empty_next", "call", "latecomer", "recall", "start", "finish",
        "no_show", "transfer", "cancel", "rate", "survey", "incomplete_survey", "pause",
    ):  # fmt: skip
        assert sim.did[what] > 0, (what, sim.did)
    truth = await truth_of(sim)
    d1, d2 = date.fromisoformat(DAY1), date.fromisoformat(DAY2)
    assert truth.units("site", [DAY1])[SITE_UNIT].counts["expired"] > 0
    assert max(truth.units("site", [DAY1])[SITE_UNIT].wait) > 600

    for first, last in ((d1, d1), (d2, d2), (d1, d2)):
        days = [d.isoformat() for d in (d1, d2) if first <= d <= last]
        for by in BYS:
            doc = await reports.report(store, site, by, first, last)
            check_report(doc, truth, site, by, days)
    # the whole month: read from the month's rollup hashes, not the days'
    for by in BYS:
        if by == "day":
            continue
        month = await reports.report(store, site, by, date(2026, 11, 1), date(2026, 11, 30))
        check_report(month, truth, site, by, [DAY1, DAY2], ("2026-11-01", "2026-11-30"))

    # the evaluation: the site's row, and the counters' open time
    for day in (DAY1, DAY2):
        doc = await reports.evaluation(store, date.fromisoformat(day), date.fromisoformat(day))
        mine = next(r for r in doc["sites"] if r["key"] == site.id)
        total = truth.units("site", [day]).get(SITE_UNIT, Acc())
        extra = ("counters", "counter_hours_open", "served_per_counter_hour")
        assert_row({k: v for k, v in mine.items() if k not in extra}, truth.row(total), day)
        assert mine["counters"] == len(site.counters)
        hours = Fraction(total.open_s, 3600)
        assert mine["counter_hours_open"] == half_up(hours, 2), day
        served = total.counts["served"]
        assert mine["served_per_counter_hour"] == (half_up(served / hours, 2) if hours else None)
        per_counter = truth.units("counter", [day])
        assert sum(a.open_s for a in per_counter.values()) == total.open_s

    # the same numbers through HTTP: JSON, CSV, XLSX
    url = f"{server.url}/api/v1/sites/{site.id}/reports"
    async with httpx.AsyncClient(headers=H, timeout=20) as http:
        for by in ("service", "counter", "officer", "hour"):
            q = {"from": DAY1, "to": DAY2, "by": by}
            r = await http.get(url, params=q)
            assert r.status_code == 200, r.text
            doc = r.json()
            check_report(doc, truth, site, by, [DAY1, DAY2])
            assert doc == await reports.report(store, site, by, d1, d2)
            flat = [_flat(row) for row in doc["rows"]] + [_flat({**doc["total"], "key": "total"})]

            r = await http.get(url, params={**q, "format": "csv"})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
            header = lines[0]
            assert header[:2] == ["key", "name"] and "wait_s.p50" in header
            assert "ikm.nrr.persyaratan" in header and "sla.pct" in header
            assert len(lines) == len(flat) + 1
            for line, want in zip(lines[1:], flat, strict=True):
                got = {
                    h: v if h in ("key", "name") else _number(v)
                    for h, v in zip(header, line, strict=True)
                }
                assert got == {k: want[k] for k in header}, by
            assert set(header) == set(flat[-1])

            r = await http.get(url, params={**q, "format": "xlsx"})
            assert r.status_code == 200
            book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
            sheet = list(book.worksheets[0].iter_rows(values_only=True))
            book.close()
            assert list(sheet[0]) == header
            for values, want in zip(sheet[1:], flat, strict=True):
                assert dict(zip(header, values, strict=True)) == {k: want[k] for k in header}, by

        r = await http.get(
            f"{server.url}/api/v1/evaluation", params={"from": DAY1, "to": DAY1, "format": "csv"}
        )
        assert r.status_code == 200
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        mine = next(dict(zip(lines[0], line, strict=True)) for line in lines if line[0] == site.id)
        total = truth.units("site", [DAY1])[SITE_UNIT]
        assert int(mine["served"]) == total.counts["served"]
        assert float(mine["counter_hours_open"]) == half_up(Fraction(total.open_s, 3600), 2)


async def test_counter_open_time_stops_while_paused_with_a_ticket(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    """Open time runs from the first call until the counter pauses. A counter paused
    while it holds a ticket, whose ticket is finished during the pause, was not open
    during the pause."""
    await store.issue(site, "ktp-el", priority=False, idem=None)
    await store.issue(site, "ktp-el", priority=False, idem=None)
    await store.next(site, "loket-1", actor="budi", idem=None)  # the clock starts
    clock.advance(minutes=10)
    await store.counter_action(site, "loket-1", "pause", idem=None)  # 10 min open
    clock.advance(minutes=1)
    await store.finish(site, "loket-1", idem=None)  # still paused
    clock.advance(minutes=30)
    await store.counter_action(site, "loket-1", "resume", idem=None)
    await store.next(site, "loket-1", actor="budi", idem=None)  # the clock starts again
    clock.advance(minutes=5)
    await store.counter_action(site, "loket-1", "pause", idem=None)  # 5 min more
    day = date.fromisoformat(DAY1)
    doc = await reports.evaluation(store, day, day)
    mine = next(r for r in doc["sites"] if r["key"] == site.id)
    assert mine["counter_hours_open"] == 0.25  # 15 minutes, not 46


async def test_segment_belongs_to_queued_day_hour_and_first_counter(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    """A small hand-checked case: issued 08:00, called at 08:12 by loket-1 (wait 720 s,
    bucket (660, 720]), no-show, latecomer at loket-2 at 09:05, started, transferred to
    ktp-el-cetak at 09:20 (service 14 min from the start), called there by loket-2 at
    09:21, done at 09:30 unstarted."""
    site = await with_targets(store, site)
    t = await store.issue(site, "ktp-el", priority=False, idem=None)
    clock.advance(minutes=12)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.no_show(site, "loket-1", idem=None)
    clock.advance(minutes=53)
    await store.call(site, "loket-2", t["id"], actor="andi", idem=None)
    clock.advance(minutes=1)
    await store.start(site, "loket-2", idem=None)
    clock.advance(minutes=14)
    await store.transfer(site, "loket-2", "ktp-el-cetak", idem=None)
    clock.advance(minutes=1)
    await store.next(site, "loket-2", actor="andi", idem=None)
    clock.advance(minutes=9)
    await store.finish(site, "loket-2", idem=None)
    day = date.fromisoformat(DAY1)
    by_counter = {
        r["key"]: r for r in (await reports.report(store, site, "counter", day, day))["rows"]
    }
    one, two = by_counter["loket-1"], by_counter["loket-2"]
    assert (one["called"], one["no_show"], one["transferred_out"], one["served"]) == (1, 0, 1, 0)
    assert one["wait_s"] == {"mean": 720.0, "p50": 690.0, "p90": 690.0}
    assert one["walk_s"]["mean"] == 60.0  # latecomer's call at 09:05 to the start at 09:06
    assert one["service_s"]["mean"] == 840.0
    assert one["sla"] == {"target_wait_min": None, "met": 0, "n": 1, "pct": 0.0}
    assert one["sla_service"] == {"target_service_min": None, "met": 0, "n": 1, "pct": 0.0}
    assert (two["called"], two["served"], two["unstarted"]) == (1, 1, 1)
    assert two["wait_s"]["mean"] == 60.0 and two["service_s"]["mean"] == 540.0
    assert two["sla"]["met"] == 1 and two["sla"]["n"] == 1
    by_hour = {r["key"]: r for r in (await reports.report(store, site, "hour", day, day))["rows"]}
    assert (by_hour["08"]["issued"], by_hour["08"]["called"]) == (1, 1)
    assert (by_hour["09"]["issued"], by_hour["09"]["called"], by_hour["09"]["served"]) == (0, 1, 1)
    by_officer = {
        r["key"]: r for r in (await reports.report(store, site, "officer", day, day))["rows"]
    }
    assert set(by_officer) == {"budi", "andi"}
    assert by_officer["budi"]["transferred_out"] == 1 and by_officer["andi"]["served"] == 1


# -- who may read the figures ---------------------------------------------------------------


def _error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"].replace("_", "").isalnum() and body["error"]["message"]


def test_role_matrix(server: LiveServer) -> None:
    site = server.new_site()
    other = server.new_site()
    base = f"{server.url}/api/v1"
    ids: list[str] = []
    with httpx.Client(headers=H, timeout=20) as http:
        for _ in range(3):
            r = http.post(f"{base}/sites/{site}/tickets", json={"service": "ktp-el"})
            ids.append(r.json()["ticket"]["id"])
        http.post(f"{base}/sites/{site}/counters/loket-1/next")
        t = http.post(f"{base}/sites/{site}/counters/loket-1/next").json()["ticket"]
        http.post(f"{base}/sites/{site}/counters/loket-1/finish")
        http.post(f"{base}/sites/{site}/tickets/{t['id']}/rating", json={"score": 4})
    assert all(ids)

    def get(token: str | None, path: str, **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{base}{path}", params=params, headers=headers, timeout=20)

    reports_path = f"/sites/{site}/reports"
    for role in ("officer", "kiosk", "display"):
        token = server.token(role, site, name=f"{role}-x", counters=["loket-1"])
        _error(get(token, reports_path), 403)
        _error(get(token, "/evaluation"), 403)
    _error(get(None, reports_path), 401)
    _error(get("garbage-token", reports_path), 401)
    elsewhere = server.token("supervisor", other, name="sup-other")
    _error(get(elsewhere, reports_path), 403)
    supervisor = server.token("supervisor", site, name="sup")
    for by in BYS:
        assert get(supervisor, reports_path, by=by).status_code == 200
    _error(get(supervisor, "/evaluation"), 403)

    evaluator = server.token("evaluator", None, name="kemenpan")
    texts = []
    for s in (site, other):
        for by in BYS:
            r = get(evaluator, f"/sites/{s}/reports", by=by)
            if by == "officer":
                _error(r, 403)
                continue
            assert r.status_code == 200, r.text
            texts.append(r.text)
            for fmt in ("csv", "xlsx"):
                r = get(evaluator, f"/sites/{s}/reports", by=by, format=fmt)
                assert r.status_code == 200
                texts.append(r.content.decode("latin-1"))
        _error(get(evaluator, f"/sites/{s}/reports", by="officer", format="csv"), 403)
    r = get(evaluator, "/evaluation")
    assert r.status_code == 200 and any(row["key"] == site for row in r.json()["sites"])
    texts.append(r.text)
    mine = next(row for row in r.json()["sites"] if row["key"] == site)
    assert mine["issued"] == 3 and mine["served"] == 2 and mine["rating"]["n"] == 1
    for fmt in ("csv", "xlsx"):
        r = get(evaluator, "/evaluation", format=fmt)
        assert r.status_code == 200
        texts.append(r.content.decode("latin-1"))
    for text in texts:
        for ticket_id in ids:
            assert ticket_id not in text
    # ... and the evaluator's reading of the live site's public data is id-free too
    r = get(evaluator, f"/sites/{site}/state")
    assert r.status_code == 200 and not any(i in r.text for i in ids)

    # malformed parameters: 400 with the spec's error shape
    bad = [
        {"from": "2026-13-01"},
        {"to": "kemarin"},
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2025-01-01", "to": "2026-12-01"},  # over 366 days
        {"by": "ticket"},
        {"by": ""},
        {"format": "pdf"},
        {"format": "JSON"},
    ]
    for params in bad:
        _error(get(ADMIN_TOKEN, reports_path, **params), 400)
        _error(get(evaluator, reports_path, **params), 400)
    for params in bad:
        if "by" not in params:
            _error(get(evaluator, "/evaluation", **params), 400)
    # exactly 366 days is allowed
    assert get(ADMIN_TOKEN, reports_path, **{"from": "2025-12-04", "to": "2026-12-04"}).is_success
    _error(get(ADMIN_TOKEN, "/sites/no-such-site/reports"), 404)
