"""measure.py's pure functions: histogram buckets, nearest-rank percentiles, the rollup
periods of a date range, IKM and share rounding (half up, exact)."""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from server import measure
from server.ikm import ELEMENT_SLUGS

# -- buckets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, 0),
        (-1, 0),
        (0.0004, 0),  # rounds to 0 ms
        (0.001, 1),
        (9.999, 1),
        (10, 1),
        (10.001, 2),
        (20, 2),
        (595, 60),
        (599.999, 60),
        (600, 60),
        (600.001, 61),
        (660, 61),
        (660.001, 62),
        (720, 62),
        (3600, 60 + 50),
        (3600.5, 60 + 51),
    ],
)
def test_bucket_edges(seconds: float, expected: int) -> None:
    assert measure.bucket(seconds) == expected


@pytest.mark.parametrize(
    ("b", "bounds"),
    [
        (0, (0, 0)),
        (1, (0, 10)),
        (2, (10, 20)),
        (60, (590, 600)),
        (61, (600, 660)),
        (62, (660, 720)),
    ],
)
def test_bucket_bounds(b: int, bounds: tuple[float, float]) -> None:
    assert measure.bucket_bounds(b) == bounds


def test_every_duration_lies_in_its_bucket() -> None:
    for tenths in range(0, 40000, 7):
        s = tenths / 10
        lower, upper = measure.bucket_bounds(measure.bucket(s))
        if s == 0:
            assert (lower, upper) == (0, 0)
        else:
            assert lower < s <= upper
            assert upper - lower == (10 if s <= 600 else 60)


# -- percentiles --------------------------------------------------------------------------


def exact_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def hist_of(values: list[float]) -> dict[int, int]:
    h: dict[int, int] = {}
    for v in values:
        h[measure.bucket(v)] = h.get(measure.bucket(v), 0) + 1
    return h


def test_percentile_empty_is_none() -> None:
    assert measure.percentile({}, 50) is None
    assert measure.percentile({3: 0}, 50) is None


def test_percentile_nearest_rank_small() -> None:
    # 10 values in ten buckets: p50 is rank 5, p90 rank 9 (nearest rank, no interpolation)
    values = [5.0 + 10 * i for i in range(10)]  # 5, 15, ..., 95
    h = hist_of(values)
    assert measure.percentile(h, 50) == 45  # rank 5 = 45 s, bucket (40, 50]
    assert measure.percentile(h, 90) == 85  # rank 9 = 85 s
    assert measure.percentile(h, 100) == 95
    assert measure.percentile(h, 0) == 5  # rank at least 1
    # one value: every percentile is it
    assert measure.percentile({0: 1}, 50) == 0
    assert measure.percentile({61: 1}, 90) == 630


def test_percentile_rank_rounds_up() -> None:
    # n = 3: p50 is rank ceil(1.5) = 2; p90 is rank ceil(2.7) = 3
    h = hist_of([1, 100, 1000])
    assert measure.percentile(h, 50) == 95
    assert measure.percentile(h, 90) == 990  # (960, 1020]


def test_percentile_within_one_bucket_of_exact_random() -> None:
    import random

    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 60)
        values = [
            float(rng.choice([0, rng.randint(1, 700), rng.randint(1, 4000)])) for _ in range(n)
        ]
        h = hist_of(values)
        for p in (50, 90):
            exact = exact_rank(values, p)
            got = measure.percentile(h, p)
            assert got is not None
            assert abs(got - exact) <= (5 if exact <= 600 else 30), (values, p)


# -- durations, shares, ratings -----------------------------------------------------------


def test_duration_mean_exact_half_up() -> None:
    tally = {"called": 2, "wait_ms": 2100, "wh|1": 2}  # mean 1.05 s
    assert measure.duration(tally, "wait_s") == {"mean": 1.1, "p50": 5.0, "p90": 5.0}
    assert measure.duration({}, "walk_s") == {"mean": None, "p50": None, "p90": None}
    tally = {"served": 2, "transferred_out": 1, "svc_ms": 1000, "sh|1": 3}  # 0.3333 -> 0.3
    assert measure.duration(tally, "service_s")["mean"] == 0.3


@pytest.mark.parametrize(
    ("met", "n", "pct"),
    [
        (1, 8, 12.5),
        (1, 16, 6.3),  # 6.25 -> 6.3 half up (banker's rounding would give 6.2)
        (3, 16, 18.8),  # 18.75 -> 18.8
        (5, 16, 31.3),  # 31.25 -> 31.3 (float round(31.25, 1) gives 31.2)
        (1, 3, 33.3),
        (2, 3, 66.7),
        (0, 5, 0.0),
        (5, 5, 100.0),
        (1, 2000, 0.1),  # 0.05 -> 0.1
        (0, 0, None),
    ],
)
def test_share_rounds_half_up(met: int, n: int, pct: float | None) -> None:
    assert measure.share(met, n) == pct
    assert measure.sla({"sla_n": n, "sla_met": met}, 10) == {
        "target_wait_min": 10,
        "met": met,
        "n": n,
        "pct": pct,
    }


def test_rating_mean_half_up() -> None:
    assert measure.rating({}) == {"n": 0, "mean": None}
    # 3 + 3 + 3 + 4 + 4 + 4 + 4 + 4 = 29 over 8 = 3.625 -> 3.63
    assert measure.rating({"rating_n": 8, "rating_sum": 29}) == {"n": 8, "mean": 3.63}
    # 2.005 exactly: 401 / 200 -> 2.01 (a float would say 2.0)
    assert measure.rating({"rating_n": 200, "rating_sum": 401}) == {"n": 200, "mean": 2.01}


# -- IKM ----------------------------------------------------------------------------------


def test_ikm_empty() -> None:
    out = measure.ikm(0, {})
    assert out["n"] == 0 and out["score"] is None and out["category"] is None
    assert out["nrr"] == dict.fromkeys(ELEMENT_SLUGS)


def test_ikm_all_fours_is_100_a() -> None:
    out = measure.ikm(3, dict.fromkeys(ELEMENT_SLUGS, 12))
    assert out["score"] == 100.0 and out["category"] == "A"
    assert set(out["nrr"].values()) == {4.0}


def test_ikm_exact_ninth_not_0111_weight() -> None:
    # nine NRRs summing to 32 (all 3 but five 4s): exact 25 x 32 / 9 = 88.888... -> 88.89;
    # the regulation's rounded weight 0.111 would give 25 x 32 x 0.111 = 88.80.
    sums = {slug: (4 if i < 5 else 3) for i, slug in enumerate(ELEMENT_SLUGS)}
    out = measure.ikm(1, sums)
    assert out["score"] == 88.89
    assert round(25 * 32 * 0.111, 2) == 88.8  # what the weight would have said
    assert out["category"] == "A"


def test_ikm_category_edge_differs_with_weight() -> None:
    # one survey, sum of answers 32 -> exact 88.89 (A); 0.111 weight -> 88.80 (A too) ...
    # sum 31.8 over n = 5: element sums 159 -> 25 x 159 / 45 = 88.333... -> 88.33 (A),
    # while 25 x 31.8 x 0.111 = 88.245 (B): the weight changes the category here.
    sums = dict.fromkeys(ELEMENT_SLUGS, 0)
    total = 159
    for i, slug in enumerate(ELEMENT_SLUGS):
        sums[slug] = total // 9 + (1 if i < total % 9 else 0)
    out = measure.ikm(5, sums)
    assert out["score"] == 88.33 and out["category"] == "A"
    assert 25 * (159 / 5) * 0.111 < 88.31


def test_ikm_nrr_three_decimals_half_up_and_score_from_exact_nrr() -> None:
    # n = 8: an element sum of 25 is NRR 3.125 exactly -> 3.125; 21 -> 2.625;
    # 1/3 style: n = 3, sum 10 -> 3.333...
    sums = dict.fromkeys(ELEMENT_SLUGS, 25)
    sums[ELEMENT_SLUGS[0]] = 21
    out = measure.ikm(8, sums)
    assert out["nrr"][ELEMENT_SLUGS[0]] == 2.625
    assert out["nrr"][ELEMENT_SLUGS[1]] == 3.125
    # exact: 25 x (8 x 25 + 21) / 8 / 9 = 25 x 221 / 72 = 76.7361... -> 76.74 (B)
    assert out["score"] == 76.74 and out["category"] == "B"
    out = measure.ikm(3, dict.fromkeys(ELEMENT_SLUGS, 10))
    assert out["nrr"][ELEMENT_SLUGS[4]] == 3.333
    # 25 x 30 / 3 / 9 x ... = 25 x 10/3 = 83.333 -> 83.33; from rounded NRRs (3.333 x 9)
    # it would be 83.325 -> 83.33 as well; the score must not come from rounded NRRs:
    assert out["score"] == 83.33


def test_ikm_score_half_up_at_the_second_decimal() -> None:
    # n = 8 surveys with answers summing to 225: 25 x 225 / (9 x 8) = 78.125 exactly
    # -> 78.13 half up (banker's rounding would give 78.12)
    sums = dict.fromkeys(ELEMENT_SLUGS, 24)
    sums[ELEMENT_SLUGS[0]] = 33
    assert sum(sums.values()) == 225
    out = measure.ikm(8, sums)
    assert out["score"] == 78.13


@pytest.mark.parametrize(
    ("score", "letter"),
    [(100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"), (76.60, "C"), (65.0, "C"), (64.99, "D")],
)
def test_category_edges(score: float, letter: str) -> None:
    from server.ikm import category

    assert category(score)[0] == letter


# -- productivity -------------------------------------------------------------------------


def test_productivity() -> None:
    assert measure.productivity({}) == {"counter_hours_open": 0.0, "served_per_counter_hour": None}
    # 90 minutes open, 7 served: 4.666.. -> 4.67
    out = measure.productivity({"open_ms": 5_400_000, "served": 7})
    assert out == {"counter_hours_open": 1.5, "served_per_counter_hour": 4.67}
    # 27 minutes (0.45 h), 1 served: 2.2222 -> 2.22; 0.45 stays 0.45
    out = measure.productivity({"open_ms": 1_620_000, "served": 1})
    assert out == {"counter_hours_open": 0.45, "served_per_counter_hour": 2.22}


# -- periods ------------------------------------------------------------------------------


def test_periods_single_day_and_days() -> None:
    d = date(2026, 11, 28)
    assert measure.periods(d, d, date(2026, 12, 4)) == ["2026-11-28"]
    assert measure.periods(date(2026, 11, 27), d, d) == ["2026-11-27", "2026-11-28"]


def test_periods_whole_past_month() -> None:
    assert measure.periods(date(2026, 10, 1), date(2026, 10, 31), date(2026, 12, 4)) == ["2026-10"]


def test_periods_month_so_far_up_to_today() -> None:
    # 1 Dec .. 31 Dec with today 4 Dec: no figures after today, the month hash is exact
    today = date(2026, 12, 4)
    assert measure.periods(date(2026, 12, 1), date(2026, 12, 31), today) == ["2026-12"]
    assert measure.periods(date(2026, 12, 1), today, today) == ["2026-12"]
    # ... but not when the range stops before today
    assert measure.periods(date(2026, 12, 1), date(2026, 12, 3), today) == [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]


def test_periods_mixed_across_months_and_leap_february() -> None:
    out = measure.periods(date(2028, 1, 30), date(2028, 4, 2), date(2029, 1, 1))
    assert out == ["2028-01-30", "2028-01-31", "2028-02", "2028-03", "2028-04-01", "2028-04-02"]
    # February 2028 has 29 days: to the 28th is not the whole month
    out = measure.periods(date(2028, 2, 1), date(2028, 2, 28), date(2029, 1, 1))
    assert out[0] == "2028-02-01" and len(out) == 28


def test_periods_cover_every_day_exactly_once() -> None:
    import random

    rng = random.Random(3)
    for _ in range(200):
        first = date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + rng.randint(0, 500))
        last = first.fromordinal(first.toordinal() + rng.randint(0, 365))
        today = first.fromordinal(first.toordinal() + rng.randint(-10, 400))
        covered: list[date] = []
        for p in measure.periods(first, last, today):
            if len(p) == 7:
                y, m = map(int, p.split("-"))
                start = date(y, m, 1)
                for d in measure.days(
                    start,
                    date(y + m // 12, m % 12 + 1, 1).fromordinal(
                        date(y + m // 12, m % 12 + 1, 1).toordinal() - 1
                    ),
                ):
                    # a month hash may hold days outside the range only after today
                    if d < first or d > last:
                        assert d > today, (first, last, today, p)
                    else:
                        covered.append(d)
            else:
                covered.append(date.fromisoformat(p))
        assert covered == measure.days(first, last)
        assert len(measure.days(first, last)) <= 366


def test_round_half_up_helper_matches_decimal() -> None:
    # measure._round is exact for fractions (no float detour)
    from fractions import Fraction

    for num in range(0, 2000):
        f = Fraction(num, 40)  # many .x25 / .x75 ties at 2 places
        want = float((Decimal(num) / Decimal(40)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        assert measure._round(f, 2) == want
