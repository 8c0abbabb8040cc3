"""server.estimate: unit cases, and a simulated day that measures how wrong it is."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

import pytest

from server.estimate import (
    UNKNOWN,
    Counter,
    Estimate,
    Load,
    estimate,
    estimate_wait_s,
    estimates,
    typical_service_s,
)

# ---------------------------------------------------------------- unit cases


@pytest.mark.parametrize("position", [None, 0, -1])
def test_no_estimate_when_not_waiting(position: int | None) -> None:
    assert estimate_wait_s(position, 2, [300.0] * 5) is None


def test_no_estimate_without_an_open_counter() -> None:
    assert estimate_wait_s(1, 0, [300.0] * 5) is None


def test_formula() -> None:
    # three free counters: the first three are called at once
    free = Load(tuple(Counter(None) for _ in range(3)), (300.0,) * 10)
    assert [estimate(p, free) for p in (1, 2, 3)] == [Estimate(0, 0, 0)] * 3
    # behind them, about a third of a service time, and never negative
    fourth = estimate(4, free)
    assert fourth is not None and 0 < fourth.low_s <= fourth.wait_s <= fourth.high_s
    assert isinstance(estimate_wait_s(7, 3, [123.4] * 9), int)


def test_range_holds_the_central_estimate() -> None:
    load = Load((Counter(30.0), Counter(400.0), Counter(UNKNOWN)), (240.0, 310.0, 280.0, 400.0))
    for p, e in estimates(range(1, 80), load).items():
        assert 0 <= e.low_s <= e.wait_s <= e.high_s, (p, e)
        assert e.range_s == [e.low_s, e.high_s]


def test_elapsed_time_counts() -> None:
    # a counter 20 minutes into a 5-minute service is about to finish: next in line
    # waits less than behind one that has just started
    recent = (300.0,) * 10
    late = estimate(1, Load((Counter(1200.0),), recent))
    fresh = estimate(1, Load((Counter(0.0),), recent))
    assert late is not None and fresh is not None and late.wait_s < fresh.wait_s


def test_shared_counters_count_in_part() -> None:
    recent = (300.0,) * 10
    whole = estimate(5, Load((Counter(UNKNOWN), Counter(UNKNOWN)), recent))
    half = estimate(5, Load((Counter(UNKNOWN), Counter(UNKNOWN, share=0.5)), recent))
    assert whole is not None and half is not None and half.wait_s > whole.wait_s


def test_deterministic() -> None:
    load = Load((Counter(10.0), Counter(None, 0.3)), (200.0, 250.0, 300.0), (600.0,) * 3)
    assert estimates([1, 5, 9], load) == estimates([9, 5, 1], load)
    assert estimate(5, load) == estimates([1, 5, 9], load)[5]


def test_default_with_too_few_samples() -> None:
    # two quick samples are ignored: the default (300 s, then 600 s) sets the pace
    quick = estimate_wait_s(20, 1, [10.0, 10.0])
    assert quick is not None and 4000 < quick < 8000
    slow = estimate_wait_s(20, 1, [], default_service_s=600.0)
    assert slow is not None and 9000 < slow < 15000


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
    by_position = [estimate_wait_s(p, 2, samples) or 0 for p in range(1, 80)]
    assert by_position == sorted(by_position)
    by_counters = [estimate_wait_s(10, k, samples) or 0 for k in range(1, 8)]
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


@dataclass
class Measured:
    """The estimates shown when tickets were issued, against the waits they had."""

    waits: list[float]
    shown: list[Estimate]

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits)

    @property
    def mae(self) -> float:
        return sum(abs(e.wait_s - w) for e, w in zip(self.shown, self.waits, strict=True)) / len(
            self.waits
        )

    @property
    def bias(self) -> float:
        return sum(e.wait_s - w for e, w in zip(self.shown, self.waits, strict=True)) / len(
            self.waits
        )

    @property
    def coverage(self) -> float:
        inside = sum(e.low_s <= w <= e.high_s for e, w in zip(self.shown, self.waits, strict=True))
        return inside / len(self.waits)

    def report(self, name: str) -> str:
        return (
            f"\n{name}: {len(self.waits)} visitors, mean wait {self.mean_wait:.0f} s; "
            f"mean absolute error {self.mae:.0f} s ({self.mae / self.mean_wait:.0%} of the "
            f"mean wait), bias {self.bias:+.0f} s; {self.coverage:.0%} called within the range"
        )


def measure_day(visitors: list[Visitor], counters: int, last_n: int = 20) -> Measured:
    waits, shown = [], []
    for i, visitor in enumerate(visitors):
        at = visitor.arrived_s
        # what the server knows when the ticket is issued: who still waits ahead of it...
        position = 1 + sum(1 for other in visitors[:i] if other.started_s > at)
        # ... how long each counter has been serving the visitor it holds (or is free)...
        busy = [at - o.started_s for o in visitors[:i] if o.started_s <= at < o.finished_s]
        free = [Counter(None)] * (counters - len(busy))
        # ... and the last N service times that have ended
        ended = sorted((o.finished_s, o.service_s) for o in visitors[:i] if o.finished_s <= at)
        recent = tuple(service for _, service in ended[-last_n:])
        load = Load(tuple(free + [Counter(b) for b in busy]), recent)
        found = estimate(position, load)
        assert found is not None
        waits.append(visitor.started_s - at)
        shown.append(found)
    return Measured(waits, shown)


def test_simulated_day() -> None:
    counters = 3
    # 3 counters at 300 s each serve 36 visitors an hour; 33 arrive: a busy day (load 0.92)
    visitors = simulate_day(
        random.Random(20261128), counters=counters, arrivals_per_h=33,
        mean_service_s=300, sigma=0.6, hours=8,
    )  # fmt: skip
    day = measure_day(visitors, counters)
    print(day.report("simulated day (one service, 3 counters, seed 20261128)"))
    assert len(visitors) > 200
    assert day.mean_wait > 60  # the day is busy enough for queues to form
    # 33 % before (the old formula); 28 % now; 30 % for an estimator that knows the true
    # distribution (docs/estimated-wait.md): what is left is the service times' own luck
    assert day.mae < 0.30 * day.mean_wait
    assert abs(day.bias) < 0.10 * day.mean_wait
    assert 0.75 <= day.coverage <= 0.92


# ---------------------------------------------------------------- a harder floor

# service -> (arrivals an hour, mean service s, sigma of log service time)
FLOOR_SERVICES = {"A": (30.0, 180.0, 0.5), "B": (18.0, 480.0, 0.7), "C": (16.0, 300.0, 0.6)}
# counter -> its services, in the mixes a real floor has: dedicated and shared
FLOOR_COUNTERS = {
    "c1": ("A",), "c2": ("A",), "c3": ("A", "B"), "c4": ("B",),
    "c5": ("B", "C"), "c6": ("C",), "c7": ("A", "C"),
}  # fmt: skip
LUNCH = ("c1", "c3", "c5")  # half the floor closes 12:00-13:00 (hours 4-5 of the day)
PRIORITY_OFFSET = 10**9


@dataclass
class Desk:
    services: tuple[str, ...]
    status: str = "open"  # open, paused, closed
    holding: int | None = None  # ticket held
    called_s: float = 0.0
    leave: str | None = None  # the status to take when the visitor held is done


@dataclass
class Ticket:
    service: str
    score: int
    issued_s: float
    called_s: float | None = None
    shown: Estimate | None = None


def simulate_floor(rng: random.Random, hours: float = 8.0, last_n: int = 20) -> Measured:
    """Seven counters sharing three services, Poisson arrivals (one in ten priority),
    lognormal service times; after a visitor a counter pauses 5-15 minutes one time in
    thirty; three counters close for lunch (after the visitor they hold) and reopen an
    hour later. A counter calls the oldest ticket across its services, priority first,
    as next.lua does. Each ticket gets the estimate the server would show at issue."""
    desks = {c: Desk(services) for c, services in FLOOR_COUNTERS.items()}
    tickets: list[Ticket] = []
    queues: dict[str, list[tuple[int, int]]] = {s: [] for s in FLOOR_SERVICES}  # heaps
    times: dict[str, list[float]] = {s: [] for s in FLOOR_SERVICES}  # newest last
    events: list[tuple[float, int, str, str]] = []  # (time, tie, kind, what)
    tie = 0

    def at(when: float, kind: str, what: str) -> None:
        nonlocal tie
        tie += 1
        heapq.heappush(events, (when, tie, kind, what))

    for service, (per_h, _, _) in FLOOR_SERVICES.items():
        now = rng.expovariate(per_h / 3600)
        while now < hours * 3600:
            at(now, "arrive", service)
            now += rng.expovariate(per_h / 3600)
    at(4 * 3600, "lunch", "")
    at(5 * 3600, "back", "")

    def call_next(name: str, now: float) -> None:
        desk = desks[name]
        heads = [(queues[s][0], s) for s in desk.services if queues[s]]
        if desk.status != "open" or desk.holding is not None or not heads:
            return
        (_, index), service = min(heads)
        heapq.heappop(queues[service])
        desk.holding, desk.called_s = index, now
        tickets[index].called_s = now
        _, mean, sigma = FLOOR_SERVICES[service]
        at(now + rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma), "done", name)

    def shown(index: int, now: float) -> Estimate | None:
        ticket = tickets[index]
        service = ticket.service
        position = 1 + sum(1 for score, _ in queues[service] if score < ticket.score)
        waiting = {s: len(q) for s, q in queues.items()}
        counters, others = [], []
        for desk in desks.values():
            if service not in desk.services or desk.status != "open":
                continue
            busy = None if desk.holding is None else now - desk.called_s
            share = waiting[service] / max(1, sum(waiting[s] for s in desk.services))
            counters.append(Counter(busy, max(share, 1 / len(desk.services))))
            others += [s for s in desk.services if s != service and s not in others]
        other_times = tuple(t for s in others for t in times[s][-last_n:])
        load = Load(tuple(counters), tuple(times[service][-last_n:]), other_times)
        return estimate(position, load)

    while events:
        now, _, kind, what = heapq.heappop(events)
        if kind == "arrive":
            priority = rng.random() < 0.1
            index = len(tickets)
            score = index + (0 if priority else PRIORITY_OFFSET)
            tickets.append(Ticket(what, score, now))
            heapq.heappush(queues[what], (score, index))
            tickets[index].shown = shown(index, now)
            for name in desks:
                call_next(name, now)
        elif kind == "done":
            desk = desks[what]
            held = tickets[desk.holding or 0]
            times[held.service].append(now - (held.called_s or now))
            desk.holding = None
            if desk.leave is not None:
                desk.status, desk.leave = desk.leave, None
            elif rng.random() < 1 / 30:
                desk.status = "paused"
                at(now + rng.uniform(300, 900), "resume", what)
            call_next(what, now)
        elif kind == "resume":
            desks[what].status = "open"
            call_next(what, now)
        elif kind == "lunch":
            for name in LUNCH:
                desk = desks[name]
                if desk.holding is None and desk.status == "open":
                    desk.status = "closed"
                else:
                    desk.leave = "closed"
        elif kind == "back":
            for name in LUNCH:
                desks[name].status, desks[name].leave = "open", None
                call_next(name, now)
    waits, estimates_shown = [], []
    for ticket in tickets:
        assert ticket.called_s is not None  # the day ends with every ticket called
        if ticket.shown is not None:  # None: no open counter serves it right then
            waits.append(ticket.called_s - ticket.issued_s)
            estimates_shown.append(ticket.shown)
    return Measured(waits, estimates_shown)


def test_simulated_floor() -> None:
    floor = simulate_floor(random.Random(20261129))
    print(floor.report("simulated floor (3 services, 7 shared counters, seed 20261129)"))
    assert len(floor.waits) > 400
    assert floor.mean_wait > 120
    # 54 % with the old formula, 48 % now: far from the 20 % asked for (issue 12); the
    # lunch closings and later priority tickets are invisible at issue time
    # (docs/estimated-wait.md)
    assert floor.mae < 0.50 * floor.mean_wait
    assert abs(floor.bias) < 0.20 * floor.mean_wait
    assert floor.coverage >= 0.6
