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
    load_of,
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


def test_a_counter_on_its_break_calls_again_at_its_end() -> None:
    samples = [300.0] * 20
    # the only counter is away for 10 more minutes: the next in line waits for it
    away = Load((Counter(None, 1.0, ((-600.0, 600.0),)),), tuple(samples))
    found = estimate(1, away)
    assert found is not None and found.low_s >= 600
    # one that breaks in 5 minutes, after the visitor it holds: position 2 waits past the
    # break's end; a counter without the break is quicker
    ahead = Load((Counter(60.0, 1.0, ((300.0, 3900.0),)),), tuple(samples))
    plain = Load((Counter(60.0),), tuple(samples))
    later, sooner = estimate(2, ahead), estimate(2, plain)
    assert later is not None and sooner is not None
    assert later.wait_s >= 3900 > 2000 > sooner.wait_s


def test_load_of_counts_counters_back_from_a_break() -> None:
    def load(status: str, ticket: str | None, breaks: tuple[tuple[float, float], ...]) -> Load:
        state = {"status": status, "ticket": ticket, "mark_ms": 0}
        return load_of("a", [(("a",), state, breaks)], {"a": 3}, {"a": [300.0] * 5}, 60_000)

    during, later = ((-60.0, 600.0),), ((600.0, 1200.0),)
    # closed or paused during a break: back at its end; otherwise nobody knows when
    assert load("closed", None, during).counters == (Counter(None, 1.0, during),)
    assert load("paused", None, during).counters == (Counter(None, 1.0, during),)
    assert load("closed", None, later).counters == ()
    # open and free during its break: working, the break is over for it
    assert load("open", None, during + later).counters == (Counter(None, 1.0, later),)
    # open and busy: it goes once its visitor is done
    assert load("open", "t1", during).counters == (Counter(60.0, 1.0, during),)


# ---------------------------------------------------------------- a simulated day

ORACLE_DRAWS = 300  # the day's oracle: scenarios per visitor
FLOOR_ORACLE_DRAWS = 40  # the floor's: each plays the whole floor forward


def lognormal_mu(mean_s: float, sigma: float) -> float:
    return math.log(mean_s) - sigma**2 / 2  # the lognormal with that mean


def left_of(rng: random.Random, mu: float, sigma: float, elapsed_s: float) -> float:
    """What is left of a lognormal service that has lasted `elapsed_s`: drawn until one
    outlasts it (the oracles' own way, not server.estimate's inverse transform)."""
    for _ in range(100_000):
        length = rng.lognormvariate(mu, sigma)
        if length > elapsed_s:
            return length - elapsed_s
    return 0.0  # far past every usual length: ends now


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
    mu = lognormal_mu(mean_service_s, sigma)
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
    """The estimates shown when tickets were issued, against the waits they had; and
    what an oracle would have shown them (`best`, the central estimate only)."""

    waits: list[float]
    shown: list[Estimate]
    best: list[float] | None = None

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits)

    @property
    def mae(self) -> float:
        return mean_abs([e.wait_s for e in self.shown], self.waits)

    @property
    def oracle_mae(self) -> float:
        assert self.best is not None
        return mean_abs(self.best, self.waits)

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
        line = (
            f"\n{name}: {len(self.waits)} visitors, mean wait {self.mean_wait:.0f} s; "
            f"mean absolute error {self.mae:.0f} s ({self.mae / self.mean_wait:.0%} of the "
            f"mean wait), bias {self.bias:+.0f} s; {self.coverage:.0%} called within the range"
        )
        if self.best is not None:
            line += (
                f"; the oracle errs by {self.oracle_mae:.0f} s "
                f"({self.oracle_mae / self.mean_wait:.0%}): ratio {self.mae / self.oracle_mae:.2f}"
            )
        return line


def mean_abs(estimated: list[float] | list[int], waits: list[float]) -> float:
    return sum(abs(e - w) for e, w in zip(estimated, waits, strict=True)) / len(waits)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def day_oracle(
    rng: random.Random, position: int, busy: list[float], free: int, mu: float, sigma: float
) -> float:
    """The best central estimate anyone could give at issue: the median call time over
    scenarios drawn from the *true* distribution, given how long each busy counter has
    been serving (FIFO: the p-th counter to come free calls position p)."""
    called = []
    for _ in range(ORACLE_DRAWS):
        free_at = [0.0] * free + [left_of(rng, mu, sigma, b) for b in busy]
        heapq.heapify(free_at)
        for _ in range(position - 1):
            heapq.heappush(free_at, heapq.heappop(free_at) + rng.lognormvariate(mu, sigma))
        called.append(free_at[0])
    return median(called)


def measure_day(
    visitors: list[Visitor], counters: int, truth: tuple[float, float], last_n: int = 20
) -> Measured:
    """`truth`: the (mean, sigma) the day was drawn from, for the oracle only."""
    mu, sigma = lognormal_mu(truth[0], truth[1]), truth[1]
    rng = random.Random(1)
    waits, shown, best = [], [], []
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
        best.append(day_oracle(rng, position, busy, len(free), mu, sigma))
    return Measured(waits, shown, best)


def test_simulated_day() -> None:
    counters = 3
    # 3 counters at 300 s each serve 36 visitors an hour; 33 arrive: a busy day (load 0.92)
    visitors = simulate_day(
        random.Random(20261128), counters=counters, arrivals_per_h=33,
        mean_service_s=300, sigma=0.6, hours=8,
    )  # fmt: skip
    day = measure_day(visitors, counters, truth=(300, 0.6))
    print(day.report("simulated day (one service, 3 counters, seed 20261128)"))
    assert len(visitors) > 200
    assert day.mean_wait > 60  # the day is busy enough for queues to form
    # 33 % before (the old formula); 28 % now. The oracle (the true distribution, every
    # elapsed time) errs by as much: what is left is the service times' own luck, and
    # the 20 % of issue 12 is out of anyone's reach here (docs/estimated-wait.md)
    assert day.mae < 0.30 * day.mean_wait
    assert day.oracle_mae > 0.25 * day.mean_wait
    assert day.mae <= 1.05 * day.oracle_mae
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
FLOOR_HOURS = 8.0
LUNCH = ("c1", "c3", "c5")  # half the floor closes 12:00-13:00 (hours 4-5 of the day)
LUNCH_S, BACK_S = 4 * 3600.0, 5 * 3600.0
PAUSE_ODDS, PAUSE_S = 1 / 30, (300.0, 900.0)
PRIORITY_ODDS, PRIORITY_OFFSET = 0.1, 10**9


@dataclass
class Desk:
    services: tuple[str, ...]
    status: str = "open"  # open, paused, closed
    holding: int | None = None  # ticket held
    called_s: float = 0.0
    leave: str | None = None  # the status to take when the visitor held is done
    paused_s: float = 0.0  # when its pause began


@dataclass
class Ticket:
    service: str
    score: int
    issued_s: float
    called_s: float | None = None
    shown: Estimate | None = None


class Floor:
    """Seven counters sharing three services, Poisson arrivals (one in ten priority),
    lognormal service times; after a visitor a counter pauses 5-15 minutes one time in
    thirty; three counters close for lunch (after the visitor they hold) and reopen an
    hour later. A counter calls the oldest ticket across its services, priority first,
    as next.lua does. The rules of the day; `simulate_floor` plays it with the shown
    estimates, `floor_oracle` plays it forward from a moment in scenarios."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.desks = {c: Desk(services) for c, services in FLOOR_COUNTERS.items()}
        self.tickets: dict[int, Ticket] = {}
        self.issued = 0  # tickets issued so far (the next one's index)
        self.queues: dict[str, list[tuple[int, int]]] = {s: [] for s in FLOOR_SERVICES}
        self.times: dict[str, list[float]] = {s: [] for s in FLOOR_SERVICES}  # newest last
        self.events: list[tuple[float, int, str, str]] = []  # (time, tie, kind, what)
        self.tie = 0

    def at(self, when: float, kind: str, what: str) -> None:
        self.tie += 1
        heapq.heappush(self.events, (when, self.tie, kind, what))

    def service_time(self, service: str) -> float:
        _, mean, sigma = FLOOR_SERVICES[service]
        return self.rng.lognormvariate(lognormal_mu(mean, sigma), sigma)

    def arrive(self, now: float, service: str) -> int:
        priority = self.rng.random() < PRIORITY_ODDS
        index = self.issued
        self.issued += 1
        score = index + (0 if priority else PRIORITY_OFFSET)
        self.tickets[index] = Ticket(service, score, now)
        heapq.heappush(self.queues[service], (score, index))
        return index

    def call_all(self, now: float) -> None:
        for name in self.desks:
            self.call_next(name, now)

    def call_next(self, name: str, now: float) -> None:
        desk = self.desks[name]
        heads = [(self.queues[s][0], s) for s in desk.services if self.queues[s]]
        if desk.status != "open" or desk.holding is not None or not heads:
            return
        (_, index), service = min(heads)
        heapq.heappop(self.queues[service])
        desk.holding, desk.called_s = index, now
        self.tickets[index].called_s = now
        self.at(now + self.service_time(service), "done", name)

    def handle(self, now: float, kind: str, what: str) -> None:
        """Every event but an arrival."""
        if kind == "done":
            desk = self.desks[what]
            held = self.tickets[desk.holding or 0]
            self.times[held.service].append(now - (held.called_s or now))
            desk.holding = None
            if desk.leave is not None:
                desk.status, desk.leave = desk.leave, None
            elif self.rng.random() < PAUSE_ODDS:
                desk.status, desk.paused_s = "paused", now
                self.at(now + self.rng.uniform(*PAUSE_S), "resume", what)
            self.call_next(what, now)
        elif kind == "resume":
            self.desks[what].status = "open"
            self.call_next(what, now)
        elif kind == "lunch":
            for name in LUNCH:
                desk = self.desks[name]
                if desk.holding is None and desk.status == "open":
                    desk.status = "closed"
                else:
                    desk.leave = "closed"
        elif kind == "back":
            for name in LUNCH:
                self.desks[name].status, self.desks[name].leave = "open", None
                self.call_next(name, now)

    def shown(self, index: int, now: float, breaks_known: bool) -> Estimate | None:
        """The estimate the server shows ticket `index` now: the floor as the store
        holds it, through the server's own load_of; with `breaks_known`, the lunch hour
        is configured as the LUNCH counters' breaks."""
        ticket = self.tickets[index]
        position = 1 + sum(1 for score, _ in self.queues[ticket.service] if score < ticket.score)
        lunch = ((LUNCH_S - now, BACK_S - now),) if now < BACK_S else ()
        counters = [
            (
                desk.services,
                {
                    "status": desk.status,
                    "ticket": None if desk.holding is None else str(desk.holding),
                    "mark_ms": desk.called_s * 1000,
                },
                lunch if breaks_known and name in LUNCH else (),
            )
            for name, desk in self.desks.items()
        ]
        waiting = {s: len(q) for s, q in self.queues.items()}
        newest_first = {s: times[::-1] for s, times in self.times.items()}
        load = load_of(ticket.service, counters, waiting, newest_first, int(now * 1000))
        return estimate(position, load)

    def scenario(self, rng: random.Random, now: float, knows_plan: bool = True) -> Floor:
        """The floor as it stands now, with everything still to happen drawn afresh from
        `rng`: the visitors being served (given how long they have been), the pauses
        under way (given how long they have lasted), the arrivals to come. With
        `knows_plan`, the lunch hour too; without, a closed counter stays closed."""
        floor = Floor(rng)
        floor.issued = self.issued
        floor.queues = {s: list(q) for s, q in self.queues.items()}
        kept = {i for q in self.queues.values() for _, i in q}
        for name, desk in self.desks.items():
            copy = floor.desks[name] = Desk(**vars(desk))
            if desk.holding is not None:
                kept.add(desk.holding)
                _, mean, sigma = FLOOR_SERVICES[self.tickets[desk.holding].service]
                left = left_of(rng, lognormal_mu(mean, sigma), sigma, now - desk.called_s)
                floor.at(now + left, "done", name)
            if desk.status == "paused":
                low, high = max(PAUSE_S[0], now - desk.paused_s), PAUSE_S[1]
                floor.at(desk.paused_s + rng.uniform(low, high), "resume", name)
            copy.leave = desk.leave
        floor.tickets = {i: Ticket(**vars(self.tickets[i])) for i in kept}
        for when, kind in ((LUNCH_S, "lunch"), (BACK_S, "back")):
            if knows_plan and when > now:
                floor.at(when, kind, "")
        for service, (per_h, _, _) in FLOOR_SERVICES.items():
            floor.at(now + rng.expovariate(per_h / 3600), "arrive", service)
        return floor

    def play_until_called(self, index: int) -> float:
        """Plays this scenario until ticket `index` is called; its call time."""
        while self.tickets[index].called_s is None:
            now, _, kind, what = heapq.heappop(self.events)
            if kind == "arrive":
                per_h = FLOOR_SERVICES[what][0]
                following = now + self.rng.expovariate(per_h / 3600)
                if following < FLOOR_HOURS * 3600:
                    self.at(following, "arrive", what)
                self.arrive(now, what)
                self.call_all(now)
            else:
                self.handle(now, kind, what)
        called = self.tickets[index].called_s
        assert called is not None
        return called


def floor_oracle(floor: Floor, index: int, now: float, knows_plan: bool) -> float:
    """The best central estimate anyone could give ticket `index` at issue: the median
    wait over scenarios that know the true distributions, the arrival rates, the odds
    of priority and pauses (and, with `knows_plan`, the lunch hour) and play the whole
    floor forward."""
    rng = random.Random(index)
    draws = [
        floor.scenario(rng, now, knows_plan).play_until_called(index) - now
        for _ in range(FLOOR_ORACLE_DRAWS)
    ]
    return median(draws)


def simulate_floor(
    rng: random.Random, breaks_known: bool = False, oracle: bool | None = None
) -> Measured:
    """Plays the day of `Floor`; each ticket gets the estimate the server would show
    at issue (with `breaks_known`, the lunch hour configured as breaks) and, with
    `oracle` (True: knowing the lunch hour, False: not), the oracle's."""
    floor = Floor(rng)
    for service, (per_h, _, _) in FLOOR_SERVICES.items():
        now = rng.expovariate(per_h / 3600)
        while now < FLOOR_HOURS * 3600:
            floor.at(now, "arrive", service)
            now += rng.expovariate(per_h / 3600)
    floor.at(LUNCH_S, "lunch", "")
    floor.at(BACK_S, "back", "")
    best: dict[int, float] = {}
    while floor.events:
        now, _, kind, what = heapq.heappop(floor.events)
        if kind == "arrive":
            index = floor.arrive(now, what)
            shown = floor.tickets[index].shown = floor.shown(index, now, breaks_known)
            if oracle is not None and shown is not None:
                best[index] = floor_oracle(floor, index, now, knows_plan=oracle)
            floor.call_all(now)
        else:
            floor.handle(now, kind, what)
    waits, estimates_shown = [], []
    for _, ticket in sorted(floor.tickets.items()):
        assert ticket.called_s is not None  # the day ends with every ticket called
        if ticket.shown is not None:  # None: no open counter serves it right then
            waits.append(ticket.called_s - ticket.issued_s)
            estimates_shown.append(ticket.shown)
    oracles = [best[i] for i in sorted(best)] if oracle is not None else None
    return Measured(waits, estimates_shown, oracles)


@pytest.mark.parametrize("plan", [True, False], ids=["lunch-configured", "lunch-unknown"])
def test_simulated_floor(plan: bool) -> None:
    """The lunch hour known to both (configured as the LUNCH counters' breaks, and to
    the oracle) or to neither."""
    floor = simulate_floor(random.Random(20261129), breaks_known=plan, oracle=plan)
    known = "configured as breaks" if plan else "unknown"
    print(floor.report(f"simulated floor (seed 20261129), the lunch hour {known}"))
    assert len(floor.waits) > 400
    assert floor.mean_wait > 120
    # 54 % with the old formula. Knowing the lunch hour: 34 %, the oracle 31 %; not
    # knowing it: 48 %, and the oracle errs by more (it cannot tell that a closed
    # counter comes back). 20 % is out of anyone's reach (docs/estimated-wait.md)
    if plan:
        assert 0.25 * floor.mean_wait < floor.oracle_mae
        assert floor.mae < 0.40 * floor.mean_wait
        assert floor.mae <= 1.15 * floor.oracle_mae
    else:
        assert floor.mae < 0.50 * floor.mean_wait < floor.oracle_mae
    assert abs(floor.bias) < 0.25 * floor.mean_wait
    assert floor.coverage >= 0.6
