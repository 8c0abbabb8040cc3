"""The figures: one definition each (docs/measurement.md), pure, no I/O.

The Lua scripts add each transition's figures to rollup hashes (lua/_lib.lua `roll`,
through the journal of figures that rollups.py settles): per service day and per month,
per dimension, fields `<unit>|<metric>`. This module
turns those counts into the rows that reports, exports, the evaluation and the tests
all use. Counts and means are exact (kept as counts and sums of milliseconds);
percentiles come from histograms and are within one bucket of the exact value.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final

from .ikm import ELEMENT_SLUGS, category

# `by` of a report -> the dimension of the rollup hashes it reads
DIMENSIONS: Final[Mapping[str, str]] = {
    "site": "s",
    "agency": "a",
    "service": "v",
    "counter": "c",
    "officer": "o",
    "hour": "h",
    "day": "s",  # the site's figures, one row per service day
    "session": "b",  # bookings per service and booking session (`<service>@<session>`)
}
SITE_UNIT: Final = "-"
MAX_DAYS: Final = 366

COUNTS: Final = (
    "issued",
    "called",
    "served",
    "no_show",
    "cancelled",
    "expired",
    "transferred_out",
    "recalls",
    "unstarted",
    # bookings (on the booking's date): made, checked in, cancelled, expired unchecked
    "booked",
    "checked_in",
    "booking_cancelled",
    "booking_no_show",
)
# duration name in a row -> (its metric prefix, its histogram, the counts that are its n)
# in the rollups: every first call has a wait, every served or transferred-out segment a
# service time; walks are counted on their own (only started segments have one).
DURATIONS: Final[Mapping[str, tuple[str, str, tuple[str, ...]]]] = {
    "wait_s": ("wait", "wh", ("called",)),
    "walk_s": ("walk", "kh", ("walk_n",)),
    "service_s": ("svc", "sh", ("served", "transferred_out")),
}
FINE_BUCKET_S: Final = 10  # up to FINE_UNTIL_S
FINE_UNTIL_S: Final = 600
COARSE_BUCKET_S: Final = 60  # beyond

Tally = dict[str, int]


# -- histograms -------------------------------------------------------------------------


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration (lua/_lib.lua, `bucket`): bucket 0 holds 0;
    bucket b holds (upper(b - 1), upper(b)]: 10 s wide up to 10 min, 60 s beyond."""
    ms = round(seconds * 1000)
    if ms <= 0:
        return 0
    if ms <= FINE_UNTIL_S * 1000:
        return math.ceil(ms / (FINE_BUCKET_S * 1000))
    fine = FINE_UNTIL_S // FINE_BUCKET_S
    return fine + math.ceil((ms - FINE_UNTIL_S * 1000) / (COARSE_BUCKET_S * 1000))


def bucket_bounds(b: int) -> tuple[float, float]:
    """(lower, upper] seconds of a bucket; bucket 0 is [0, 0]."""
    if b <= 0:
        return 0.0, 0.0
    fine = FINE_UNTIL_S // FINE_BUCKET_S
    if b <= fine:
        return float((b - 1) * FINE_BUCKET_S), float(b * FINE_BUCKET_S)
    lower = FINE_UNTIL_S + (b - fine - 1) * COARSE_BUCKET_S
    return float(lower), float(lower + COARSE_BUCKET_S)


def percentile(histogram: Mapping[int, int], p: float) -> float | None:
    """Nearest-rank percentile from a histogram: the value of rank ceil(p/100 x n), as
    the middle of the bucket that holds it (so within half a bucket of the exact value)."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for b in sorted(histogram):
        seen += histogram[b]
        if seen >= rank:
            lower, upper = bucket_bounds(b)
            return (lower + upper) / 2
    raise AssertionError("unreachable: the ranks add up to n")


def histogram(tally: Mapping[str, int], name: str) -> dict[int, int]:
    prefix = name + "|"
    return {int(k[len(prefix) :]): v for k, v in tally.items() if k.startswith(prefix) and v}


# -- tallies from rollup hashes ---------------------------------------------------------


def tally_units(hashes: Iterable[Mapping[bytes, bytes]]) -> dict[str, Tally]:
    """Sum rollup hashes (`<unit>|<metric>` -> n) into one tally per unit."""
    units: dict[str, Tally] = defaultdict(lambda: defaultdict(int))
    for fields in hashes:
        for raw, value in fields.items():
            unit, _, metric = raw.decode().partition("|")
            units[unit][metric] += int(value)
    return units


def subtract(units: dict[str, Tally], less: Mapping[str, Mapping[str, int]]) -> dict[str, Tally]:
    """Units' tallies less others' (a month less its days outside a report's range)."""
    for unit, tally in less.items():
        mine = units.setdefault(unit, defaultdict(int))
        for metric, value in tally.items():
            mine[metric] = mine.get(metric, 0) - value
    return units


def add(into: Tally, other: Mapping[str, int]) -> Tally:
    for metric, value in other.items():
        into[metric] = into.get(metric, 0) + value
    return into


# -- rows -------------------------------------------------------------------------------


def _round(value: Fraction | float, places: int) -> float:
    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(str(value))
    )
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def duration(tally: Mapping[str, int], name: str) -> dict[str, float | None]:
    """`{"mean", "p50", "p90"}` in seconds of one duration (wait_s, walk_s, service_s)."""
    metric, hist, counts = DURATIONS[name]
    n = sum(tally.get(count, 0) for count in counts)
    if n <= 0:
        return {"mean": None, "p50": None, "p90": None}
    buckets = histogram(tally, hist)
    return {
        "mean": _round(Fraction(tally.get(metric + "_ms", 0), n * 1000), 1),
        "p50": percentile(buckets, 50),
        "p90": percentile(buckets, 90),
    }


def share(met: int, n: int) -> float | None:
    """`met` out of `n` in percent, one decimal; None when nothing was measured."""
    return _round(Fraction(100 * met, n), 1) if n > 0 else None


def sla(tally: Mapping[str, int], target: int | None) -> dict[str, Any]:
    """Segments called within their service's target wait, out of those called with one."""
    n, met = tally.get("sla_n", 0), tally.get("sla_met", 0)
    return {"target_wait_min": target, "met": met, "n": n, "pct": share(met, n)}


def sla_service(tally: Mapping[str, int], target: int | None) -> dict[str, Any]:
    """Served or transferred-out segments whose service time was within the target."""
    n, met = tally.get("slas_n", 0), tally.get("slas_met", 0)
    return {"target_service_min": target, "met": met, "n": n, "pct": share(met, n)}


def rating(tally: Mapping[str, int]) -> dict[str, Any]:
    n = tally.get("rating_n", 0)
    mean = _round(Fraction(tally.get("rating_sum", 0), n), 2) if n else None
    return {"n": n, "mean": mean}


def ikm(n: int, sums: Mapping[str, int]) -> dict[str, Any]:
    """The IKM of PermenPANRB 14/2017 over `n` complete nine-element surveys with these
    answer sums: NRR = sum / n per element; score = 25 x (sum of NRRs) / 9, exact,
    rounded half up to two decimals; category by the regulation's table."""
    if n <= 0:
        return {"n": 0, "nrr": dict.fromkeys(ELEMENT_SLUGS), "score": None, "category": None}
    nrr = {slug: Fraction(sums.get(slug, 0), n) for slug in ELEMENT_SLUGS}
    score = _round(25 * sum(nrr.values(), Fraction(0)) / len(ELEMENT_SLUGS), 2)
    letter, _ = category(score)
    return {
        "n": n,
        "nrr": {slug: _round(value, 3) for slug, value in nrr.items()},
        "score": score,
        "category": letter,
    }


def row(
    key: str,
    name: str,
    tally: Mapping[str, int],
    *,
    target_wait: int | None = None,
    target_service: int | None = None,
) -> dict[str, Any]:
    """One row of a report: the figures of one unit over the report's period."""
    return {
        "key": key,
        "name": name,
        **{count: tally.get(count, 0) for count in COUNTS},
        **{name_: duration(tally, name_) for name_ in DURATIONS},
        "sla": sla(tally, target_wait),
        "sla_service": sla_service(tally, target_service),
        "rating": rating(tally),
        "ikm": ikm(
            tally.get("ikm_n", 0), {slug: tally.get("q|" + slug, 0) for slug in ELEMENT_SLUGS}
        ),
    }


def productivity(tally: Mapping[str, int]) -> dict[str, Any]:
    """Counter hours open (from a counter's first call until it pauses or closes, see
    docs/measurement.md) and served per counter-hour."""
    hours = Fraction(tally.get("open_ms", 0), 3_600_000)
    served = tally.get("served", 0)
    return {
        "counter_hours_open": _round(hours, 2),
        "served_per_counter_hour": _round(served / hours, 2) if hours > 0 else None,
    }


# -- periods ----------------------------------------------------------------------------


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def month_days(month: str, today: date) -> list[date]:
    """The days of a month (`YYYY-MM`) that can have figures: none after today."""
    start = date.fromisoformat(month + "-01")
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return days(start, min(end, today)) if start <= today else []


def periods(first: date, last: date, today: date) -> list[str]:
    """The rollup periods that add up to the service days first..last: whole months
    (`YYYY-MM`) where the range covers every day of the month that can have figures
    (none exist after today), single days (`YYYY-MM-DD`) elsewhere."""
    plus, minus = plan(first, last, today, subtract=False)
    assert not minus
    return plus


def plan(
    first: date, last: date, today: date, *, subtract: bool = True
) -> tuple[list[str], list[str]]:
    """Periods to add and periods to take away so that they sum to the days first..last.
    A month the range covers in full is read whole; one it covers mostly (with
    `subtract`), whole less its days outside the range; else day by day. A month's hash
    holds only its folded days: the reader corrects for the others (rollups.py)."""
    plus: list[str] = []
    minus: list[str] = []
    day = first
    while day <= last:
        month = day.strftime("%Y-%m")
        can = month_days(month, today)  # the month's days that can have figures
        inside = [d for d in can if first <= d <= last]
        outside = [d for d in can if not first <= d <= last]
        if can and not outside:
            plus.append(month)
        elif subtract and inside and len(outside) < len(inside):
            plus.append(month)
            minus.extend(d.isoformat() for d in outside)
        else:
            month_end = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            while day <= last and day < month_end:
                plus.append(day.isoformat())
                day += timedelta(days=1)
            continue
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return plus, minus
