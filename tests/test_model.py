"""Model-based test of the engine: random sequences of operations against a small
pure-Python model of the rules of spec section 1.

After every step the model and the store must agree on the answer (or the error code and
status), on every ticket, on each counter's status and held ticket, on the waiting
counts, quotas and last calls of `/state`, on the order in which each counter would call,
and on the events the step appended (types, tickets, counters, waiting counts, no gap in
seq). Idempotency keys (spec section 2) are exercised too: a repeat of a key gives the
first answer and changes nothing.

Where the spec is silent the model follows the engine's choice: which error wins when
several apply, actions on a held ticket stay allowed while the counter is paused, a
counter closes only when it holds nothing (`counter_busy`), a transfer into a closed
service is refused, and a no-show is a latecomer only for a ticket issued that day.

The example tests at the end pin the disagreements the machine found, one case each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis

from server import config, domain, keys
from server.config import Site
from server.errors import Conflict, LoketError
from server.store import Idem, Store
from tests.conftest import FakeClock, fresh_site_id

# Two agencies, four services (two share the prefix A, one has a quota of 3, one is
# closed), four counters whose services overlap.
SITE_DOC: dict[str, Any] = {
    "site": {"id": "model", "name": "MPP Model"},
    "agencies": [
        {"id": "dukcapil", "name": "Dinas Kependudukan", "short_name": "Dukcapil"},
        {"id": "imigrasi", "name": "Kantor Imigrasi", "short_name": "Imigrasi"},
    ],
    "services": [
        {"id": "ktp", "agency": "dukcapil", "name": "KTP-el", "prefix": "A"},
        {
            "id": "kk",
            "agency": "dukcapil",
            "name": "Kartu Keluarga",
            "prefix": "A",
            "daily_quota": 3,
        },
        {"id": "paspor", "agency": "imigrasi", "name": "Paspor", "prefix": "P"},
        {"id": "visa", "agency": "imigrasi", "name": "Visa", "prefix": "V", "open": False},
    ],
    "counters": [
        {"id": "loket-1", "name": "Loket 1", "agency": "dukcapil", "services": ["ktp", "kk"]},
        {"id": "loket-2", "name": "Loket 2", "agency": "dukcapil", "services": ["kk"]},
        {"id": "loket-3", "name": "Loket 3", "agency": "imigrasi", "services": ["paspor"]},
        {"id": "loket-4", "name": "Loket 4", "agency": "imigrasi", "services": ["visa", "paspor"]},
    ],
}
SERVICES = [s["id"] for s in SITE_DOC["services"]]
COUNTERS = [c["id"] for c in SITE_DOC["counters"]]
ACTOR = "petugas"
NOT_A_TICKET = "AAAAAAAAAAAAAAAAAAAAAA"  # well-formed, never issued

# ---------------------------------------------------------------------- the model


class Refused(Exception):
    """What the model expects the store to raise: an error code and HTTP status."""

    def __init__(self, code: str, status: int = 409) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass
class MTicket:
    id: str
    number: str
    service: str
    agency: str
    priority: bool
    order: int  # issue order at the store; a transfer keeps it
    day: str  # the service day it was issued
    issued_at: str
    status: str = domain.WAITING
    called_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    counter: dict[str, str] | None = None
    recalls: int = 0
    transfers: int = 0
    rated: bool = False

    def key(self) -> tuple[bool, int]:
        """Who is next: priority first, then the oldest."""
        return (not self.priority, self.order)


@dataclass
class MCounter:
    id: str
    name: str
    services: tuple[str, ...]
    status: str = domain.OPEN
    ticket: str | None = None


# (type, ticket as the API shows it, counter id, waiting counts, other fields)
Event = tuple[str, dict[str, Any] | None, str | None, dict[str, int], dict[str, Any]]


@dataclass
class Model:
    site: Site
    clock: FakeClock
    day: str
    tickets: dict[str, MTicket] = field(default_factory=dict)  # in issue order
    counters: dict[str, MCounter] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)  # prefix -> last number today
    issued: dict[str, int] = field(default_factory=dict)  # service -> issued today
    recent: list[str] = field(default_factory=list)  # last calls, newest first
    events: list[Event] = field(default_factory=list)  # those of the current step

    def __post_init__(self) -> None:
        for c in self.site.counters:
            self.counters[c.id] = MCounter(c.id, c.name, c.services)

    # -- views --------------------------------------------------------------------

    @property
    def now_iso(self) -> str:
        return domain.local_iso(self.clock(), self.site.timezone)

    def view(self, t: MTicket) -> dict[str, Any]:
        return {
            "id": t.id,
            "number": t.number,
            "site": self.site.id,
            "service": t.service,
            "agency": t.agency,
            "status": t.status,
            "priority": t.priority,
            "issued_at": t.issued_at,
            "called_at": t.called_at,
            "started_at": t.started_at,
            "finished_at": t.finished_at,
            "counter": t.counter,
            "recalls": t.recalls,
            "transfers": t.transfers,
            "rated": t.rated,
        }

    def waiting(self, services: tuple[str, ...] | list[str]) -> list[MTicket]:
        """Waiting tickets of these services in the order `next` calls them."""
        found = [
            t for t in self.tickets.values() if t.status == domain.WAITING and t.service in services
        ]
        return sorted(found, key=MTicket.key)

    def count(self, service: str) -> int:
        return len(self.waiting([service]))

    def emit(
        self,
        kind: str,
        t: MTicket | None,
        counter: str | None,
        waiting: dict[str, int] | None = None,
        **extra: Any,
    ) -> None:
        self.events.append(
            (kind, None if t is None else self.view(t), counter, waiting or {}, extra)
        )

    # -- helpers ------------------------------------------------------------------

    def _held(self, c: MCounter) -> MTicket:
        if c.ticket is None:
            raise Refused("no_current_ticket")
        return self.tickets[c.ticket]

    def _can_call(self, c: MCounter) -> None:
        if c.status == domain.PAUSED:
            raise Refused("counter_paused")
        if c.status == domain.CLOSED:
            raise Refused("counter_closed")

    def _finish_held(self, c: MCounter) -> MTicket | None:
        if c.ticket is None:
            return None
        t = self.tickets[c.ticket]
        c.ticket = None
        t.status = domain.DONE
        t.finished_at = self.now_iso
        self.emit("ticket.finished", t, c.id)
        return t

    def _call(self, c: MCounter, t: MTicket) -> None:
        t.status = domain.CALLED
        t.called_at = self.now_iso
        t.started_at = None
        t.finished_at = None  # a latecomer called again has not finished
        t.counter = {"id": c.id, "name": c.name}
        c.ticket = t.id
        self.recent = [t.id, *(i for i in self.recent if i != t.id)][:10]
        self.emit("ticket.called", t, c.id, {t.service: self.count(t.service)})

    # -- the operations: each raises Refused, or changes the model and answers ----

    def issue(self, service_id: str, priority: bool, new_id: Callable[[], str]) -> MTicket:
        service = self.site.service_by_id[service_id]
        if not service.open:
            raise Refused("service_closed")
        quota = service.daily_quota
        if quota is not None and self.issued.get(service_id, 0) >= quota:
            raise Refused("quota_reached")
        n = self.numbers[service.prefix] = self.numbers.get(service.prefix, 0) + 1
        self.issued[service_id] = self.issued.get(service_id, 0) + 1
        t = MTicket(
            id=new_id(),
            number=domain.format_number(service.prefix, n),
            service=service_id,
            agency=service.agency,
            priority=priority,
            order=len(self.tickets),
            day=self.day,
            issued_at=self.now_iso,
        )
        self.tickets[t.id] = t
        self.emit("ticket.issued", t, None, {service_id: self.count(service_id)})
        return t

    def next(self, counter_id: str) -> MTicket | None:
        c = self.counters[counter_id]
        self._can_call(c)
        self._finish_held(c)
        waiting = self.waiting(c.services)
        if not waiting:
            return None
        self._call(c, waiting[0])
        return waiting[0]

    def call(self, counter_id: str, ticket_id: str) -> MTicket:
        c = self.counters[counter_id]
        t = self.tickets.get(ticket_id)
        if t is None:
            raise Refused("not_found", 404)
        if t.service not in c.services:
            raise Refused("wrong_service")
        self._can_call(c)
        latecomer = t.status == domain.NO_SHOW and t.day == self.day
        if t.id == c.ticket or not (t.status == domain.WAITING or latecomer):
            raise Refused("illegal_transition")
        self._finish_held(c)
        self._call(c, t)
        return t

    def recall(self, counter_id: str) -> MTicket:
        t = self._held(self.counters[counter_id])
        if t.status != domain.CALLED:
            raise Refused("illegal_transition")
        t.recalls += 1
        self.recent = [t.id, *(i for i in self.recent if i != t.id)][:10]
        self.emit("ticket.recalled", t, counter_id)
        return t

    def start(self, counter_id: str) -> MTicket:
        t = self._held(self.counters[counter_id])
        if t.status != domain.CALLED:
            raise Refused("illegal_transition")
        t.status = domain.SERVING
        t.started_at = self.now_iso
        self.emit("ticket.started", t, counter_id)
        return t

    def finish(self, counter_id: str) -> MTicket:
        c = self.counters[counter_id]
        self._held(c)
        t = self._finish_held(c)
        assert t is not None
        return t

    def no_show(self, counter_id: str) -> MTicket:
        c = self.counters[counter_id]
        t = self._held(c)
        if t.status != domain.CALLED:
            raise Refused("illegal_transition")
        t.status = domain.NO_SHOW
        t.finished_at = self.now_iso
        c.ticket = None
        self.emit("ticket.no_show", t, counter_id)
        return t

    def transfer(self, counter_id: str, service_id: str) -> MTicket:
        service = self.site.service_by_id[service_id]
        c = self.counters[counter_id]
        t = self._held(c)
        if not service.open:
            raise Refused("service_closed")
        if t.service == service_id:
            raise Refused("same_service", 422)
        t.status = domain.WAITING
        t.service = service_id
        t.agency = service.agency
        t.counter = None
        t.called_at = None
        t.started_at = None
        t.transfers += 1
        c.ticket = None
        self.emit("ticket.transferred", t, counter_id, {service_id: self.count(service_id)})
        return t

    def cancel(self, ticket_id: str) -> MTicket:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise Refused("not_found", 404)
        if t.status != domain.WAITING:
            raise Refused("illegal_transition")
        t.status = domain.CANCELLED
        t.finished_at = self.now_iso
        self.emit("ticket.cancelled", t, None, {t.service: self.count(t.service)})
        return t

    def rate(self, ticket_id: str, score: int) -> MTicket:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise Refused("not_found", 404)
        if t.status != domain.DONE:
            raise Refused("illegal_transition")
        if t.rated:
            raise Refused("already_rated")
        t.rated = True
        self.emit("ticket.rated", t, None if t.counter is None else t.counter["id"], score=score)
        return t

    def counter_action(self, counter_id: str, action: str) -> dict[str, Any]:
        c = self.counters[counter_id]
        allowed, new_status, event = domain.COUNTER_ACTIONS[action]
        if c.status not in allowed:
            raise Refused("illegal_transition")
        if new_status == domain.CLOSED and c.ticket is not None:
            raise Refused("counter_busy")
        c.status = new_status
        self.emit(event, None, counter_id)
        held = None if c.ticket is None else self.view(self.tickets[c.ticket])
        return {"id": c.id, "name": c.name, "status": c.status, "ticket": held}

    def rollover(self) -> None:
        """Local midnight: waiting tickets are cancelled, numbering and quotas restart."""
        previous, self.day = self.day, domain.service_day(self.clock(), self.site.timezone)
        cancelled = 0
        for t in self.tickets.values():
            if t.status == domain.WAITING:
                t.status = domain.CANCELLED
                t.finished_at = self.now_iso
                cancelled += 1
        self.numbers.clear()
        self.issued.clear()
        self.recent.clear()
        self.emit(
            "site.day_reset",
            None,
            None,
            {s: 0 for s in SERVICES},
            day=self.day,
            previous_day=previous,
            cancelled=cancelled,
        )


# ---------------------------------------------------------------------- the machine

Request = Callable[[Idem | None], Awaitable[Any]]


def answer_of(value: Any) -> Any:
    """A store answer in the form the model gives it: tickets as the API shows them."""
    if isinstance(value, dict) and "number" in value:
        return domain.ticket_view(value, with_id=True)
    if isinstance(value, dict) and "ticket" in value:  # a counter's state
        return {**value, "ticket": answer_of(value["ticket"])}
    return value


def machine(redis_url: str) -> type[RuleBasedStateMachine]:
    class LoketMachine(RuleBasedStateMachine):
        """One example: a fresh site, its own event loop, Redis client and clock."""

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.redis = Redis.from_url(redis_url)
            self.clock = FakeClock()
            self.store = Store(self.redis, clock=self.clock)
            self.site = config.parse(SITE_DOC, "<model>", fresh_site_id("model"))
            self.run(self.store.load_config(self.site))
            self.run(self.store.rollover(self.site))  # the first day starts: no event
            self.seq = self.run(self.store.log.last_seq(self.site.id))
            today = domain.service_day(self.clock(), self.site.timezone)
            self.model = Model(self.site, self.clock, today)
            self.keys = (f"key-{n}" for n in itertools.count(1))
            # Idempotency-Key digest -> (the request, its first answer)
            self.idem: dict[str, tuple[Request, Any]] = {}

        def teardown(self) -> None:
            try:
                self.run(self.redis.aclose())
            finally:
                self.loop.close()

        def run(self, coro: Awaitable[Any]) -> Any:
            return self.loop.run_until_complete(coro)

        # -- one step: the store, then the model, then compare ---------------------

        def attempt(self, request: Request, idem: Idem | None) -> Any:
            try:
                return ("ok", answer_of(self.run(request(idem))))
            except LoketError as exc:
                return ("err", exc.code, exc.status)

        def step(
            self, request: Request, expect: Callable[[Any], Any], use_idem: bool = False
        ) -> Any:
            """Run `request` on the store and `expect` on the model, which gets the
            store's answer (for the random id of a new ticket); both must agree."""
            idem = Idem(next(self.keys)) if use_idem else None
            got = self.attempt(request, idem)
            self.model.events.clear()
            try:
                value = expect(got)
                wanted: Any = (
                    "ok",
                    self.model.view(value) if isinstance(value, MTicket) else value,
                )
            except Refused as exc:
                wanted = ("err", exc.code, exc.status)
            assert got == wanted
            if idem is not None:
                self.idem[idem.digest] = (request, got)
            self.check_events()
            return got

        def check_events(self) -> None:
            """The events since the last step are exactly those the model expects."""
            events, complete = self.run(self.store.log.events_after(self.site.id, self.seq))
            assert complete
            assert [e["seq"] for e in events] == list(
                range(self.seq + 1, self.seq + 1 + len(events))
            )
            seen = []
            for e in events:
                assert e["site"] == self.site.id
                assert e["at"] == self.model.now_iso
                ticket = e["ticket"] and domain.ticket_view(e["ticket"], with_id=True)
                counter = e["counter"] and e["counter"]["id"]
                extra = {
                    k: v
                    for k, v in e.items()
                    if k not in ("seq", "type", "site", "at", "ticket", "counter", "waiting")
                }
                seen.append((e["type"], ticket, counter, e["waiting"], extra))
            assert seen == self.model.events
            if events:
                self.seq = events[-1]["seq"]

        def new_id(self, got: Any) -> Callable[[], str]:
            def take() -> str:
                assert got[0] == "ok", f"the store refused what the model allows: {got}"
                return str(got[1]["id"])

            return take

        def pick(self, n: int, *statuses: str) -> str:
            """A ticket: mostly one in `statuses`, else any, now and then an unknown id."""
            if n % 16 == 15:
                return NOT_A_TICKET
            ids = list(self.model.tickets)
            likely = [i for i in ids if self.model.tickets[i].status in statuses]
            if likely and n % 4:
                return likely[n % len(likely)]
            return ids[n % len(ids)]

        def busy(self, n: int) -> str:
            """A counter: mostly one that holds a ticket."""
            holding = [c.id for c in self.model.counters.values() if c.ticket is not None]
            if holding and n % 4:
                return holding[n % len(holding)]
            return str(COUNTERS[n % len(COUNTERS)])

        # -- rules -------------------------------------------------------------------

        @initialize(batch=st.lists(st.tuples(st.sampled_from(SERVICES), st.booleans()), max_size=8))
        def queue_up(self, batch: list[tuple[str, bool]]) -> None:
            for service, priority in batch:
                self.issue(service, priority, False)

        @rule(service=st.sampled_from(SERVICES), priority=st.booleans(), idem=st.booleans())
        def issue(self, service: str, priority: bool, idem: bool) -> None:
            got = self.step(
                lambda i: self.store.issue(self.site, service, priority=priority, idem=i),
                lambda got: self.model.issue(service, priority, self.new_id(got)),
                idem,
            )
            if got[0] == "ok":
                position = self.run(self.store.position(self.site, got[1]))
                t = self.model.tickets[got[1]["id"]]
                assert position == self.model.waiting([service]).index(t) + 1

        @rule(counter=st.sampled_from(COUNTERS), idem=st.booleans())
        def next(self, counter: str, idem: bool) -> None:
            self.step(
                lambda i: self.store.next(self.site, counter, actor=ACTOR, idem=i),
                lambda got: self.model.next(counter),
                idem,
            )

        @precondition(lambda self: self.model.tickets)
        @rule(counter=st.sampled_from(COUNTERS), n=st.integers(0, 200), idem=st.booleans())
        def call(self, counter: str, n: int, idem: bool) -> None:
            ticket = self.pick(n, domain.WAITING, domain.NO_SHOW)
            self.step(
                lambda i: self.store.call(self.site, counter, ticket, actor=ACTOR, idem=i),
                lambda got: self.model.call(counter, ticket),
                idem,
            )

        @rule(
            n=st.integers(0, 200),
            action=st.sampled_from(["recall", "start", "finish", "no_show"]),
            idem=st.booleans(),
        )
        def ticket_action(self, n: int, action: str, idem: bool) -> None:
            counter = self.busy(n)

            def request(i: Idem | None) -> Awaitable[Any]:
                if action == "finish":
                    return self.store.finish(self.site, counter, idem=i)
                method: Callable[..., Awaitable[Any]] = getattr(self.store, action)
                return method(self.site, counter, idem=i)

            self.step(request, lambda got: getattr(self.model, action)(counter), idem)

        @rule(n=st.integers(0, 200), service=st.sampled_from(SERVICES), idem=st.booleans())
        def transfer(self, n: int, service: str, idem: bool) -> None:
            counter = self.busy(n)
            self.step(
                lambda i: self.store.transfer(self.site, counter, service, idem=i),
                lambda got: self.model.transfer(counter, service),
                idem,
            )

        @precondition(lambda self: self.model.tickets)
        @rule(n=st.integers(0, 200), idem=st.booleans())
        def cancel(self, n: int, idem: bool) -> None:
            ticket = self.pick(n, domain.WAITING)
            self.step(
                lambda i: self.store.cancel(self.site, ticket, idem=i),
                lambda got: self.model.cancel(ticket),
                idem,
            )

        @precondition(
            lambda self: any(t.status == domain.DONE for t in self.model.tickets.values())
        )
        @rule(n=st.integers(0, 200), score=st.integers(1, 4))
        def rate(self, n: int, score: int) -> None:
            ticket = self.pick(n, domain.DONE)
            rating = {"score": score, "answers": {}, "comment": ""}
            self.step(
                lambda i: self.store.rate(self.site, ticket, rating, idem=i),
                lambda got: self.model.rate(ticket, score),
            )

        @rule(
            n=st.integers(0, 200),
            action=st.sampled_from(list(domain.COUNTER_ACTIONS)),
            idem=st.booleans(),
        )
        def counter_action(self, n: int, action: str, idem: bool) -> None:
            counter = self.busy(n)
            self.step(
                lambda i: self.store.counter_action(self.site, counter, action, idem=i),
                lambda got: self.model.counter_action(counter, action),
                idem,
            )

        @precondition(lambda self: self.idem)
        @rule(n=st.integers(0, 200))
        def repeat(self, n: int) -> None:
            """A repeat of an Idempotency-Key: the first answer, and nothing changes."""
            digest = list(self.idem)[n % len(self.idem)]
            request, first = self.idem[digest]
            self.model.events.clear()
            assert self.attempt(request, Idem(digest)) == first
            self.check_events()

        @rule(ms=st.sampled_from([0, 1, 7, 250, 1_000, 61_000, 3_600_000]))
        def tick(self, ms: int) -> None:
            """Time passes within the service day (`new_day` crosses midnight)."""
            later = self.clock() + timedelta(milliseconds=ms)
            if domain.service_day(later, self.site.timezone) == self.model.day:
                self.clock.advance(milliseconds=ms)

        @precondition(lambda self: self.model.day < "2026-11-30")
        @rule(
            after_s=st.integers(0, 7200),
            via=st.sampled_from(["ticker", "issue", "next"]),
            counter=st.sampled_from(COUNTERS),
        )
        def new_day(self, after_s: int, via: str, counter: str) -> None:
            """Past local midnight. The day rolls over by the ticker of app.py, or lazily
            at the first change of the new day (here an issue or a next)."""
            tz = ZoneInfo(self.site.timezone)
            today = self.clock().astimezone(tz).date()
            midnight = datetime.combine(today + timedelta(days=1), time(), tzinfo=tz)
            self.clock.now = midnight + timedelta(seconds=after_s)
            requests: dict[str, tuple[Request, Callable[[Any], Any]]] = {
                "ticker": (lambda i: self.store.rollover(self.site), lambda got: True),
                "issue": (
                    lambda i: self.store.issue(self.site, "ktp", priority=False, idem=i),
                    lambda got: self.model.issue("ktp", False, self.new_id(got)),
                ),
                "next": (
                    lambda i: self.store.next(self.site, counter, actor=ACTOR, idem=i),
                    lambda got: self.model.next(counter),
                ),
            }
            request, then = requests[via]

            def expect(got: Any) -> Any:
                self.model.rollover()
                return then(got)

            self.step(request, expect)

        # -- invariants ----------------------------------------------------------------

        @invariant()
        def agrees_with_the_store(self) -> None:
            model = self.model
            state, stored, *orders = self.run(self.read_all())
            assert state["seq"] == self.seq
            assert [(c["id"], c["status"], answer_of(c["ticket"])) for c in state["counters"]] == [
                (c.id, c.status, c.ticket and model.view(model.tickets[c.ticket]))
                for c in model.counters.values()
            ]
            assert state["waiting"] == {s: model.count(s) for s in SERVICES}
            assert state["quota_left"] == {
                s.id: s.daily_quota - model.issued.get(s.id, 0)
                for s in self.site.services
                if s.daily_quota is not None
            }
            assert [t["number"] for t in state["recent_calls"]] == [
                model.tickets[i].number for i in model.recent
            ]
            tickets = {
                k.decode(): domain.ticket_view(json.loads(v), with_id=True)
                for k, v in stored.items()
            }
            assert tickets == {i: model.view(t) for i, t in model.tickets.items()}
            for c, order in zip(COUNTERS, orders, strict=True):
                assert [t["number"] for t in order] == [
                    t.number for t in model.waiting(model.counters[c].services)
                ], f"the order {c} would call in"

        async def read_all(self) -> list[Any]:
            """The snapshot, every ticket, and the order each counter would call in."""
            return list(
                await asyncio.gather(
                    self.store.state(self.site),
                    self.redis.hgetall(keys.tickets(self.site.id)),
                    *(self.store.waiting_for(self.site, c) for c in COUNTERS),
                )
            )

    return LoketMachine


# A passing run takes about 15 s; a failing one may shrink for up to 5 minutes.
@pytest.mark.timeout(420)
def test_model(redis_url: str) -> None:
    run_state_machine_as_test(
        machine(redis_url),
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,
            report_multiple_bugs=False,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ------------------------------------------------- what the machine found, one case each


@pytest.fixture
async def small(store: Store) -> Site:
    site = config.parse(SITE_DOC, "<model>", fresh_site_id("model"))
    await store.load_config(site)
    return site


async def test_a_latecomer_called_again_is_not_finished(store: Store, small: Site) -> None:
    """Spec 1: times are null until they happen; the no-show's finished_at must go when
    the latecomer is called again (as started_at does)."""
    ticket = await store.issue(small, "ktp", priority=False, idem=None)
    await store.next(small, "loket-1", actor=ACTOR, idem=None)
    await store.no_show(small, "loket-1", idem=None)
    again = await store.call(small, "loket-1", ticket["id"], actor=ACTOR, idem=None)
    assert again["status"] == "called"
    assert again["finished_at"] is None


async def test_a_repeated_call_answers_as_the_first_after_a_transfer(
    store: Store, small: Site
) -> None:
    """Spec 2: a repeat of an Idempotency-Key returns the first answer."""
    ticket = await store.issue(small, "ktp", priority=False, idem=None)
    key = Idem("repeated-call")
    first = await store.call(small, "loket-1", ticket["id"], actor=ACTOR, idem=key)
    await store.transfer(small, "loket-1", "paspor", idem=None)  # not a loket-1 service
    again = await store.call(small, "loket-1", ticket["id"], actor=ACTOR, idem=key)
    assert again == first


async def test_a_repeated_refused_call_changes_nothing(store: Store, small: Site) -> None:
    """Spec 2: a repeat of an Idempotency-Key returns the first answer and changes
    nothing, also when the first answer was a refusal."""
    ticket = await store.issue(small, "ktp", priority=False, idem=None)
    key = Idem("refused-call")
    with pytest.raises(Conflict) as first:  # loket-2 serves kk only
        await store.call(small, "loket-2", ticket["id"], actor=ACTOR, idem=key)
    assert first.value.code == "wrong_service"
    await store.next(small, "loket-1", actor=ACTOR, idem=None)
    await store.transfer(small, "loket-1", "kk", idem=None)  # now it waits in kk
    seq = await store.log.last_seq(small.id)
    with pytest.raises(Conflict) as again:
        await store.call(small, "loket-2", ticket["id"], actor=ACTOR, idem=key)
    assert again.value.code == "wrong_service"
    assert await store.log.last_seq(small.id) == seq


async def test_a_repeated_counter_action_answers_as_the_first(store: Store, small: Site) -> None:
    """Spec 2: a repeat of an Idempotency-Key returns the first answer, not the counter's
    ticket as it is now."""
    await store.issue(small, "ktp", priority=False, idem=None)
    await store.next(small, "loket-1", actor=ACTOR, idem=None)
    key = Idem("repeated-pause")
    first = await store.counter_action(small, "loket-1", "pause", idem=key)
    await store.start(small, "loket-1", idem=None)
    again = await store.counter_action(small, "loket-1", "pause", idem=key)
    assert again == first
