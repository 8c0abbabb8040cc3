"""server.estimate: unit cases, and a simulated day that measures how wrong it is."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

import pytest

from server.estimate import estimate_wait_s, typical_service_s

# ---------------------------------------------------------------- unit cases


@pytest.mark.parametrize("position", [None, 0, -1])
def test_no_estimate_when_not_waiting(position: int | None) -> None:
    assert estimate_wait_s(position, 2, [300.0] * 5) is None


def test_no_estimate_without_an_open_counter() -> None:
    assert estimate_wait_s(1, 0, [300.0] * 5) is None


def test_formula() -> None:
    # (3 - 0.5) x 200 / 2 = 250
    assert estimate_wait_s(3, 2, [200.0, 200.0, 200.0]) == 250
    # next in line at one counter, typical 300 s: half of it
    assert estimate_wait_s(1, 1, [300.0] * 4) == 150
    assert isinstance(estimate_wait_s(7, 3, [123.4] * 9), int)


def test_default_with_too_few_samples() -> None:
    # (2 - 0.5) x 300 / 1 = 450, the two quick samples ignored
    assert estimate_wait_s(2, 1, [10.0, 10.0]) == 450
    assert estimate_wait_s(2, 1, [], default_service_s=600.0) == 900


def test_outliers_are_trimmed() -> None:
    # 10 samples: the shortest and the longest are dropped, the 2-hour one among them.
    assert typical_service_s([300.0] * 9 + [7200.0]) == 300.0
    # 5 samples: still one dropped at each end: mean of 300, 310, 320.
    assert typical_service_s([280.0, 300.0, 320.0, 310.0, 7200.0]) == 310.0
    # 3-4 samples: too few to trim, plain mean
    assert typical_service_s([100.0, 200.0, 600.0]) == 300.0


def test_unusable_samples_are_ignored() -> None:
    assert typical_service_s([math.nan, math.inf, 0.0, -5.0, 200.0, 200.0, 200.0]) == 200.0
    assert typical_service_s([math.nan, 0.0, 200.0], default_service_s=90.0) == 90.0


def test_monotone() -> None:
    samples = [240.0, 310.0, 280.0, 400.0, 190.0, 350.0]
    by_position = [estimate_wait_s(p, 2, samples) for p in range(1, 20)]
    assert by_position == sorted(by_position)
    by_counters = [estimate_wait_s(10, k, samples) for k in range(1, 8)]
    assert by_counters == sorted(by_counters, reverse=True)


# ---------------------------------------------------------------- a simulated day


@dataclass
class Visitor:
    arrived_s: float
    started_s: float
    finished_s: float
    service_s: float


def simulate_day(
    rng: random.Random, counters: int, arrivals_per_h: float, mean_service_s: float,
    sigma: float, hours: float,
) -> list[Visitor]:  # fmt: skip
    """One service, FIFO, `counters` counters; Poisson arrivals, lognormal service times."""
    mu = math.log(mean_service_s) - sigma**2 / 2  # lognormal with the given mean
    free_at = [0.0] * counters
    visitors: list[Visitor] = []
    now = 0.0
    while True:
        now += rng.expovariate(arrivals_per_h / 3600)
        if now > hours * 3600:
            return visitors
        free = heapq.heappop(free_at)
        started = max(now, free)
        service = rng.lognormvariate(mu, sigma)
        heapq.heappush(free_at, started + service)
        visitors.append(Visitor(now, started, started + service, service))


def test_simulated_day() -> None:
    counters, last_n = 3, 20
    # 3 counters at 300 s each serve 36 visitors an hour; 33 arrive: a busy day (load 0.92)
    visitors = simulate_day(
        random.Random(20261128), counters=counters, arrivals_per_h=33,
        mean_service_s=300, sigma=0.6, hours=8,
    )  # fmt: skip
    errors: list[float] = []
    signed: list[float] = []
    waits: list[float] = []
    for i, visitor in enumerate(visitors):
        at = visitor.arrived_s
        # what the server knows when the ticket is issued: who still waits ahead of it...
        position = 1 + sum(1 for other in visitors[:i] if other.started_s > at)
        # ... and the last N service times that have ended
        ended = sorted((o.finished_s, o.service_s) for o in visitors[:i] if o.finished_s <= at)
        recent = [service for _, service in ended[-last_n:]]
        estimate = estimate_wait_s(position, counters, recent)
        assert estimate is not None
        waited = visitor.started_s - at
        errors.append(abs(estimate - waited))
        signed.append(estimate - waited)
        waits.append(waited)

    mean_wait = sum(waits) / len(waits)
    mae = sum(errors) / len(errors)
    bias = sum(signed) / len(signed)
    print(
        f"\nsimulated day: {len(visitors)} visitors, {counters} counters, "
        f"mean wait {mean_wait:.0f} s; estimate mean absolute error {mae:.0f} s "
        f"({mae / mean_wait:.0%} of the mean wait), bias {bias:+.0f} s"
    )
    assert len(visitors) > 200
    assert mean_wait > 60  # the day is busy enough for queues to form
    assert mae < 0.5 * mean_wait
    assert abs(bias) < 0.25 * mean_wait
