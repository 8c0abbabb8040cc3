"""Synthetic figures for the reports bench: rollup hashes as the Lua scripts write them.

`day_figures` plays one service day of a site ticket by ticket (issue, then cancelled,
expired, a no-show, served or transferred out; recalls, walks, ratings and complete
IKM surveys) and returns, per dimension of rollups.DIMS, the fields lua/_lib.lua would
have added by then: `<unit>|<metric>` with the counts, `wait_ms`, `walk_n`/`walk_ms`,
`svc_ms` (the counts of waits and service times are implied by `called` and `served` +
`transferred_out`, as in lua/_lib.lua `duration`), the histograms `wh|<b>`, `kh|<b>`,
`sh|<b>` (buckets from measure.bucket), SLA counts against each service's targets,
ratings, `q|<element>` and counter `open_ms`. The units follow `seg_units`: site `-`,
agency, service and queue hour for every segment; counter and officer once called.
Durations are log-normal around plausible medians (12 min wait, 40 s walk, 7 min
service); only the shape of the hashes (which fields, how many) matters to the bench,
not the values.

As in production, the scripts write only day hashes: `keep` then runs the store's own
day ticker step (`Store.keep_figures`) after each day, which folds the finished days into
their months (fold.lua) and compresses the days past `compress_after_days`
(rollups.compress_old_days).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from server import keys, measure
from server.ikm import ELEMENT_SLUGS
from server.rollups import DIMS

Fields = dict[str, int]
Figures = dict[str, Fields]  # dimension -> fields
OPEN_HOURS = (8, 9, 10, 11, 12, 13, 14, 15)
HOUR_WEIGHTS = (14, 18, 17, 14, 9, 12, 10, 6)


def _ms(rng: random.Random, median_s: float, sigma: float) -> int:
    return max(0, round(rng.lognormvariate(math.log(median_s), sigma) * 1000))


def _duration(cell: Fields, name: str, hist: str, ms: int) -> None:
    if name == "walk":  # the others' counts are implied (lua/_lib.lua `duration`)
        cell["walk_n"] += 1
    cell[name + "_ms"] += ms
    cell[f"{hist}|{measure.bucket(ms / 1000)}"] += 1


class SiteModel:
    """What stays fixed about a site from day to day: service popularity, who serves."""

    def __init__(self, site: Any, seed: int) -> None:
        self.site = site
        rng = random.Random(seed)
        self.services = list(site.services)
        # a few services take most tickets (Zipf-like), in a random order per site
        ranks = list(range(1, len(self.services) + 1))
        rng.shuffle(ranks)
        self.weights = [1 / r for r in ranks]
        self.serving = {
            s.id: [c.id for c in site.counters if s.id in c.services] or [site.counters[0].id]
            for s in self.services
        }

    def day(self, day: date, tickets: int, rng: random.Random) -> Figures:
        return day_figures(self, day, tickets, rng)


def day_figures(model: SiteModel, day: date, tickets: int, rng: random.Random) -> Figures:
    """The rollup fields of one service day (see the module docstring)."""
    # one cell per (agency, service, hour, counter, officer); counter "" = not called
    cells: dict[tuple[str, str, str, str, str], Fields] = defaultdict(lambda: defaultdict(int))
    picks = rng.choices(model.services, model.weights, k=tickets)
    hours = rng.choices(OPEN_HOURS, HOUR_WEIGHTS, k=tickets)
    busy: set[str] = set()
    for service, hour in zip(picks, hours, strict=True):
        h = f"{hour:02d}"
        base = cells[(service.agency, service.id, h, "", "")]
        base["issued"] += 1
        fate = rng.random()
        if fate < 0.03:
            base["cancelled"] += 1
            continue
        if fate < 0.05:
            base["expired"] += 1
            continue
        counter = rng.choice(model.serving[service.id])
        officer = f"petugas-{counter}-{'pagi' if hour < 12 else 'siang'}"
        busy.add(counter)
        cell = cells[(service.agency, service.id, h, counter, officer)]
        wait_ms = _ms(rng, 12 * 60, 0.8)
        cell["called"] += 1
        _duration(cell, "wait", "wh", wait_ms)
        if service.target_wait_min is not None:
            cell["sla_n"] += 1
            cell["sla_met"] += int(wait_ms <= service.target_wait_min * 60_000)
        if rng.random() < 0.05:
            cell["recalls"] += 1
        if fate < 0.11:
            cell["no_show"] += 1
            continue
        if rng.random() < 0.98:
            _duration(cell, "walk", "kh", _ms(rng, 40, 0.6))
        else:
            cell["unstarted"] += 1
        svc_ms = _ms(rng, 7 * 60, 0.7)
        _duration(cell, "svc", "sh", svc_ms)
        if service.target_service_min is not None:
            cell["slas_n"] += 1
            cell["slas_met"] += int(svc_ms <= service.target_service_min * 60_000)
        if fate < 0.12:
            cell["transferred_out"] += 1
            continue
        cell["served"] += 1
        if rng.random() < 0.25:  # rated on the tablet, in the same hour (near enough)
            score = rng.choices((1, 2, 3, 4), (2, 5, 40, 53))[0]
            cell["rating_n"] += 1
            cell["rating_sum"] += score
            if rng.random() < 0.6:
                cell["ikm_n"] += 1
                for slug in ELEMENT_SLUGS:
                    cell["q|" + slug] += rng.choices((1, 2, 3, 4), (1, 4, 45, 50))[0]
    figures: Figures = {dim: defaultdict(int) for dim in DIMS}
    for (agency, service_id, h, counter, officer), fields in cells.items():
        units = {"s": "-", "a": agency, "v": service_id, "h": h}
        if counter:
            units["c"], units["o"] = counter, officer
        for dim, unit in units.items():
            into = figures[dim]
            for metric, n in fields.items():
                into[f"{unit}|{metric}"] += n
    for counter in busy:  # counter open time: about a working day each
        open_ms = round(rng.uniform(5.5, 7.5) * 3_600_000)
        figures["s"]["-|open_ms"] += open_ms
        figures["c"][f"{counter}|open_ms"] += open_ms
    return {dim: dict(fields) for dim, fields in figures.items()}


async def write(redis: Any, site_id: str, periods: Iterable[tuple[str, Figures]]) -> int:
    """HSET each period's hashes (keys.rollup) in pipelines; returns the hashes written."""
    written = 0
    pipe = redis.pipeline(transaction=False)
    for period, figures in periods:
        for dim, fields in figures.items():
            if fields:
                pipe.hset(keys.rollup(site_id, period, dim), mapping=fields)
                written += 1
        if len(pipe) >= 30:
            await pipe.execute()
    await pipe.execute()
    return written


def periods(
    model: SiteModel, first: date, last: date, tickets: int, seed: int
) -> Iterator[tuple[str, Figures]]:
    """Each day's figures for first..last (day hashes only: months come from `keep`)."""
    rng = random.Random(seed)
    day = first
    while day <= last:
        yield day.isoformat(), model.day(day, tickets, rng)
        day += timedelta(days=1)


async def keep(store: Any, site: Any, first: date, last: date) -> int:
    """What the day ticker does after each of the days first..last ends: the store's
    own `Store.keep_figures` on the next day (fold into months, compress old days).
    Returns the days folded."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    folded = 0
    day = first + timedelta(days=1)
    while day <= last + timedelta(days=1):
        now = datetime.combine(day, time(1), ZoneInfo(site.timezone))
        folded += await store.keep_figures(site, now=now)
        day += timedelta(days=1)
    return folded
