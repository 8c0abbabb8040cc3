"""Estimated wait of a waiting ticket, with a range. Pure: no I/O. The method and how good
it is: docs/estimated-wait.md.

The server gives what it knows at the moment (`Load`): the open counters that serve the
ticket's service (which are free, how long each has been busy with the visitor it holds,
what share of its calls go to this service) and the latest service times. From that,
`estimates` plays the queue forward in a fixed set of scenarios (service times drawn
from a lognormal fitted to the recent ones; the visitors being served now drawn given
how long they have been at the counter) and reads, for each position, when that
ticket is called in each scenario:

- the central estimate is the median (half the visitors are called earlier, half later;
  the median is what makes the mean absolute error smallest);
- the range is the 10th to the 90th percentile (eight visitors in ten are called within
  it, measured in tests/test_estimate.py).

The scenarios come from a seeded generator: the same inputs always give the same answer,
and the positions of one service are all read from the same scenarios (an estimate
never grows when the position shrinks). Beyond SIMULATED_POSITIONS the tail of the queue
is extended at the mean pace of the counters.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

MIN_SAMPLES = 3
TRIM_FRACTION = 0.1
DEFAULT_SERVICE_S = 300.0
DEFAULT_SIGMA = 0.6  # spread of log service times when too few are known
MIN_SIGMA, MAX_SIGMA = 0.1, 1.5
SCENARIOS = 200
SIMULATED_POSITIONS = 30  # deeper, the pace extrapolation is as good (CLT)
LOW_Q, HIGH_Q = 0.10, 0.90
SEED = 20261128
UNKNOWN = -1.0
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Counter:
    """An open counter that serves the service.

    `busy_s`: seconds since it called the visitor it holds (UNKNOWN, below 0, when it
    holds one since a time not known); None when it holds nobody (it calls the next
    ticket at once). `share`: the part of
    its calls that go to this service, in (0, 1]: 1 for a counter of this service
    alone; less when it also serves others and takes the oldest ticket across them.
    `breaks`: when it calls nobody (its staff's breaks, from the site's configuration)."""

    busy_s: float | None = None
    share: float = 1.0
    # its breaks still ahead today (or under way), (start, end) in seconds from now:
    # free then, it calls nobody until the end; a visitor held at the start is finished
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Load:
    """What the estimate of a service's tickets is made from."""

    counters: tuple[Counter, ...]  # the open counters serving the service
    recent_s: tuple[float, ...] = ()  # its latest service times, any order
    other_s: tuple[float, ...] = ()  # those of the other services its counters serve
    default_s: float = DEFAULT_SERVICE_S


@dataclass(frozen=True, slots=True)
class Estimate:
    wait_s: int  # central (median)
    low_s: int
    high_s: int

    @property
    def range_s(self) -> list[int]:
        return [self.low_s, self.high_s]


def typical_service_s(
    recent_service_s: Sequence[float], default_service_s: float = DEFAULT_SERVICE_S
) -> float:
    """Trimmed mean of the usable recent service times, or the default with too few."""
    samples = _usable(recent_service_s)
    if len(samples) < MIN_SAMPLES:
        return default_service_s
    kept = _trimmed(samples)
    return sum(kept) / len(kept)


def _usable(samples: Iterable[float]) -> list[float]:
    return sorted(s for s in samples if math.isfinite(s) and s > 0)


def _trimmed(samples: list[float]) -> list[float]:
    trim = int(len(samples) * TRIM_FRACTION)
    if trim == 0 and len(samples) >= 5:
        trim = 1
    return samples[trim : len(samples) - trim]


@dataclass(frozen=True, slots=True)
class Lognormal:
    mu: float
    sigma: float

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def draw(self, rng: random.Random, elapsed_s: float = 0.0) -> float:
        """A service time; given `elapsed_s`, what is left of one that lasted that long;
        with `elapsed_s` below 0, what is left of one seen at a random moment (a longer
        service is likelier to be the one seen: drawn length-biased, then cut)."""
        if elapsed_s < 0:  # busy since a time not known: what is left, on average
            return rng.random() * rng.lognormvariate(self.mu + self.sigma**2, self.sigma)
        if elapsed_s == 0:
            return rng.lognormvariate(self.mu, self.sigma)
        lo = _NORMAL.cdf((math.log(elapsed_s) - self.mu) / self.sigma)
        u = lo + (1 - lo) * rng.random()
        if u >= 1 - 1e-9:  # far past every usual length: about to end
            return 0.1 * self.mean * rng.random()
        return math.exp(self.mu + self.sigma * _NORMAL.inv_cdf(u)) - elapsed_s


def fit(
    recent_service_s: Sequence[float], default_service_s: float = DEFAULT_SERVICE_S
) -> Lognormal:
    """A lognormal with the trimmed mean of the recent times and the spread of their logs
    (the trimming keeps one forgotten *done* button or a mis-click from moving it)."""
    samples = _usable(recent_service_s)
    if len(samples) < MIN_SAMPLES:
        return Lognormal(math.log(default_service_s) - DEFAULT_SIGMA**2 / 2, DEFAULT_SIGMA)
    kept = _trimmed(samples)
    logs = [math.log(s) for s in samples]
    centre = sum(logs) / len(logs)
    spread = math.sqrt(sum((v - centre) ** 2 for v in logs) / (len(logs) - 1))
    sigma = min(max(spread, MIN_SIGMA), MAX_SIGMA)
    mean = sum(kept) / len(kept)
    return Lognormal(math.log(mean) - sigma**2 / 2, sigma)


def _back_from_break(breaks: tuple[tuple[float, float], ...], at: float) -> float | None:
    """When a counter free at `at` calls again, if `at` falls in one of its breaks."""
    for start, end in breaks:
        if start <= at < end:
            return end
    return None


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def estimates(positions: Iterable[int], load: Load) -> dict[int, Estimate]:
    """The estimate of every position asked for (1 is next), from one set of scenarios:
    what the server computes once per service per event, however many phones watch.
    Positions below 1 are left out; none at all without an open counter (the wait then
    depends on a counter opening, which nobody can predict)."""
    wanted = sorted({p for p in positions if p >= 1})
    counters = [c for c in load.counters if c.share > 0]
    if not wanted or not counters:
        return {}
    own = fit(load.recent_s, load.default_s)
    other = fit(load.other_s, own.mean) if len(_usable(load.other_s)) >= MIN_SAMPLES else own
    depth = min(wanted[-1], SIMULATED_POSITIONS)
    called: list[list[float]] = [[] for _ in range(depth)]  # position - 1 -> scenarios
    shares = [c.share for c in counters]
    breaks = [c.breaks for c in counters]
    for k in range(SCENARIOS):
        rng = random.Random(SEED + k)  # a scenario's first positions, however deep it goes
        lognormal, uniform = rng.lognormvariate, rng.random  # the hot loop: no lookups
        free: list[tuple[float, int]] = []
        for i, c in enumerate(counters):
            if c.busy_s is None:
                free.append((0.0, i))
            else:
                held = own if c.share >= 1 or uniform() < c.share else other
                free.append((held.draw(rng, c.busy_s), i))
        heapq.heapify(free)
        n = 0
        while n < depth:
            at, i = free[0]  # the counter free first calls next
            if breaks[i] and (back := _back_from_break(breaks[i], at)) is not None:
                heapq.heapreplace(free, (back, i))
                continue
            share = shares[i]
            if share >= 1 or uniform() < share:
                called[n].append(at)
                n += 1
                heapq.heapreplace(free, (at + lognormal(own.mu, own.sigma), i))
            else:
                heapq.heapreplace(free, (at + lognormal(other.mu, other.sigma), i))
    for row in called:
        row.sort()
    # beyond the simulated depth: each further ticket adds the counters' mean pace, and
    # its spread grows with the square root of the number of further tickets
    capacity = sum(min(c.share, 1.0) for c in counters)
    pace = own.mean / capacity
    step_sd = pace * math.sqrt(math.exp(own.sigma**2) - 1)
    out: dict[int, Estimate] = {}
    for p in wanted:
        row = called[min(p, depth) - 1]
        mid, low, high = (_quantile(row, q) for q in (0.5, LOW_Q, HIGH_Q))
        extra = p - depth
        if extra > 0:
            spread = _NORMAL.inv_cdf(HIGH_Q) * step_sd * math.sqrt(extra)
            mid += extra * pace
            low = max(0.0, low + extra * pace - spread)
            high += extra * pace + spread
        out[p] = Estimate(round(mid), round(low), round(high))
    return out


def estimate(position: int | None, load: Load) -> Estimate | None:
    """The estimate of one ticket at `position`; None when it is not waiting (`position`
    None or below 1) or no open counter serves its service."""
    if position is None or position < 1:
        return None
    return estimates([position], load).get(position)


def estimate_wait_s(
    position: int | None,
    open_counters: int,
    recent_service_s: Sequence[float],
    default_service_s: float = DEFAULT_SERVICE_S,
) -> int | None:
    """The central estimate when all that is known is how many counters are open (each
    busy for an unknown time, serving this service alone)."""
    load = Load(
        tuple(Counter(busy_s=UNKNOWN) for _ in range(max(open_counters, 0))),
        tuple(recent_service_s),
        default_s=default_service_s,
    )
    found = estimate(position, load)
    return None if found is None else found.wait_s


Windows = tuple[tuple[float, float], ...]


def load_of(
    service: str,
    counters: Iterable[tuple[Sequence[str], dict[str, Any] | None, Windows]],
    waiting: Mapping[str, int],
    times: Mapping[str, Sequence[float]],
    now_ms: int,
    last_n: int = 20,
) -> Load:
    """The Load of a service from the stored records: `counters` the (services, stored
    state, breaks left today) of the counters serving it (state None: never used, open
    and free); `waiting` the queue lengths of those counters' services; `times` their
    latest service times.

    A counter holding a ticket is busy since its clock mark (the call, _lib.lua's
    clock_counter), or since a time not known; its share of this service is the
    service's part of the tickets waiting for it, at least an equal part. A counter
    closed or paused during one of its breaks is back at the break's end; closed or
    paused otherwise, nobody knows when: left out. An open counter free during its break
    is working: that break is over for it."""
    out: list[Counter] = []
    others: list[str] = []
    for services, state, breaks in counters:
        state = state or {"status": "open", "ticket": None}
        if service not in services:
            continue
        away = any(start <= 0 < end for start, end in breaks)
        busy: float | None = None
        if state.get("status") != "open":
            if not away:
                continue
        elif state.get("ticket"):
            mark = state.get("mark_ms")
            busy = max(0.0, (now_ms - mark) / 1000) if isinstance(mark, int | float) else UNKNOWN
        elif away:
            breaks = tuple(w for w in breaks if w[0] > 0)
        total = sum(waiting.get(s, 0) for s in services)
        share = waiting.get(service, 0) / total if total else 0.0
        out.append(Counter(busy, max(share, 1 / len(services)), breaks))
        others += [s for s in services if s != service and s not in others]
    other_s = tuple(t for s in others for t in times.get(s, ())[:last_n])
    return Load(tuple(out), tuple(times.get(service, ())[:last_n]), other_s)


def parse_times(raw: bytes | str | None) -> list[float]:
    """The stored comma list of a service's latest service times (newest first)."""
    if not raw:
        return []
    text = raw.decode() if isinstance(raw, bytes) else raw
    return [float(v) for v in text.split(",") if v]
