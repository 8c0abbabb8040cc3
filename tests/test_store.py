"""Every transition of spec section 1, legal and illegal, straight against the store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.asyncio import Redis

from server import config, keys
from server.errors import Conflict, NotFound, Unprocessable
from server.store import Idem, Store
from tests.conftest import FakeClock, fresh_site_id

# The demo: loket-1 serves ktp-el (prefix KT) and ktp-el-ubah; loket-2 serves ktp-el too.
KTP, KK = "ktp-el", "ktp-el-ubah"


async def issue(store: Store, site: config.Site, service: str = KTP, **kw: bool) -> dict:
    return await store.issue(site, service, priority=kw.get("priority", False), idem=None)


async def test_issue_numbers_per_prefix(store: Store, site: config.Site, clock: FakeClock) -> None:
    a = await issue(store, site)
    b = await issue(store, site)
    assert (a["number"], b["number"]) == ("KT001", "KT002")
    assert a["status"] == "waiting" and a["counter"] is None and a["rated"] is False
    assert a["issued_at"].endswith("+07:00")
    assert await store.position(site, b) == 2


async def test_services_sharing_a_prefix_share_the_sequence(
    store: Store, site: config.Site
) -> None:
    shared = [s for s in site.services if s.prefix == "A"][:2]
    first = await issue(store, site, shared[0].id)
    second = await issue(store, site, shared[1].id)
    assert (first["number"], second["number"]) == ("A001", "A002")


async def test_next_calls_priority_first_then_oldest(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    old = await issue(store, site, KTP)
    clock.advance(seconds=1)
    newer_other_service = await issue(store, site, KK)
    clock.advance(seconds=1)
    vip = await issue(store, site, KTP, priority=True)
    called = []
    for _ in range(3):
        clock.advance(seconds=1)
        t = await store.next(site, "loket-1", actor="budi", idem=None)
        assert t is not None
        called.append(t["id"])
    assert called == [vip["id"], old["id"], newer_other_service["id"]]
    assert await store.next(site, "loket-1", actor="budi", idem=None) is None
    state = await store.state(site)
    held = {c["id"]: c for c in state["counters"]}["loket-1"]
    assert held["ticket"] is None  # next finished the last one and found nothing


async def test_next_finishes_the_held_ticket(store: Store, site: config.Site) -> None:
    first = await issue(store, site)
    await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.next(site, "loket-1", actor="budi", idem=None)
    done = await store.ticket(site, first["id"])
    assert done["status"] == "done" and done["finished_at"]


async def test_full_life_recall_start_finish(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    t = await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    recalled = await store.recall(site, "loket-1", idem=None)
    assert recalled["recalls"] == 1 and recalled["status"] == "called"
    clock.advance(seconds=30)
    started = await store.start(site, "loket-1", idem=None)
    assert started["status"] == "serving" and started["started_at"]
    with pytest.raises(Conflict) as exc:
        await store.recall(site, "loket-1", idem=None)
    assert exc.value.code == "illegal_transition"
    clock.advance(seconds=240)
    done = await store.finish(site, "loket-1", idem=None)
    assert done["id"] == t["id"] and done["status"] == "done"
    today = await store.counter_today(site, "loket-1")
    assert today["served"] == 1 and today["avg_service_s"] == 240
    with pytest.raises(Conflict) as exc:
        await store.finish(site, "loket-1", idem=None)
    assert exc.value.code == "no_current_ticket"


async def test_no_show_and_the_latecomer(store: Store, site: config.Site) -> None:
    t = await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    gone = await store.no_show(site, "loket-1", idem=None)
    assert gone["status"] == "no_show"
    with pytest.raises(Conflict):
        await store.no_show(site, "loket-1", idem=None)
    back = await store.call(site, "loket-2", t["id"], actor="ani", idem=None)
    assert back["status"] == "called" and back["counter"]["id"] == "loket-2"


async def test_start_needs_called_and_no_show_needs_called(store: Store, site: config.Site) -> None:
    await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.start(site, "loket-1", idem=None)
    for action in (store.start, store.no_show):
        with pytest.raises(Conflict) as exc:
            await action(site, "loket-1", idem=None)
        assert exc.value.code == "illegal_transition"


async def test_transfer_keeps_issued_at(store: Store, site: config.Site, clock: FakeClock) -> None:
    t = await issue(store, site)
    clock.advance(minutes=5)
    later = await issue(store, site, KK)
    await store.next(site, "loket-1", actor="budi", idem=None)
    moved = await store.transfer(site, "loket-1", KK, idem=None)
    assert moved["status"] == "waiting" and moved["service"] == KK
    assert moved["transfers"] == 1 and moved["counter"] is None
    assert moved["issued_at"] == t["issued_at"]
    assert await store.position(site, moved) == 1  # older than `later`
    assert await store.position(site, later) == 2
    with pytest.raises(Unprocessable):
        await store.next(site, "loket-1", actor="budi", idem=None)
        await store.transfer(site, "loket-1", KK, idem=None)


async def test_transfer_to_unknown_or_closed_service(store: Store, site: config.Site) -> None:
    await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    with pytest.raises(NotFound):
        await store.transfer(site, "loket-1", "no-such-service", idem=None)
    closed = next(s for s in site.services if not s.open)
    with pytest.raises(Conflict) as exc:
        await store.transfer(site, "loket-1", closed.id, idem=None)
    assert exc.value.code == "service_closed"


async def test_cancel_only_while_waiting(store: Store, site: config.Site) -> None:
    t = await issue(store, site)
    gone = await store.cancel(site, t["id"], idem=None)
    assert gone["status"] == "cancelled"
    with pytest.raises(Conflict):
        await store.cancel(site, t["id"], idem=None)
    assert await store.next(site, "loket-1", actor="budi", idem=None) is None
    with pytest.raises(NotFound):
        await store.cancel(site, "x" * 22, idem=None)


async def test_paused_and_closed_counters_cannot_call(store: Store, site: config.Site) -> None:
    await issue(store, site)
    state = await store.counter_action(site, "loket-1", "pause", idem=None)
    assert state["status"] == "paused"
    with pytest.raises(Conflict) as exc:
        await store.next(site, "loket-1", actor="budi", idem=None)
    assert exc.value.code == "counter_paused"
    with pytest.raises(Conflict):
        await store.counter_action(site, "loket-1", "pause", idem=None)
    await store.counter_action(site, "loket-1", "close", idem=None)
    with pytest.raises(Conflict) as exc:
        await store.next(site, "loket-1", actor="budi", idem=None)
    assert exc.value.code == "counter_closed"
    with pytest.raises(Conflict):
        await store.counter_action(site, "loket-1", "resume", idem=None)
    await store.counter_action(site, "loket-1", "open", idem=None)
    assert await store.next(site, "loket-1", actor="budi", idem=None) is not None
    with pytest.raises(Conflict) as exc:  # closing while holding a ticket
        await store.counter_action(site, "loket-1", "close", idem=None)
    assert exc.value.code == "counter_busy"


async def test_quota_and_closed_service(store: Store, site: config.Site) -> None:
    small = config.parse(
        {
            "site": {"id": "x", "name": "Kecil"},
            "agencies": [{"id": "a", "name": "A"}],
            "services": [
                {"id": "s", "agency": "a", "name": "S", "prefix": "S", "daily_quota": 2},
                {"id": "tutup", "agency": "a", "name": "T", "prefix": "T", "open": False},
            ],
            "counters": [{"id": "c", "name": "Loket 1", "agency": "a", "services": ["s"]}],
        },
        "<test>",
        fresh_site_id(),
    )
    await store.load_config(small)
    await store.issue(small, "s", priority=False, idem=None)
    await store.issue(small, "s", priority=False, idem=None)
    with pytest.raises(Conflict) as exc:
        await store.issue(small, "s", priority=False, idem=None)
    assert exc.value.code == "quota_reached"
    with pytest.raises(Conflict) as exc:
        await store.issue(small, "tutup", priority=False, idem=None)
    assert exc.value.code == "service_closed"
    assert (await store.state(small))["quota_left"] == {"s": 0}


async def test_idempotent_repeat_changes_nothing(store: Store, site: config.Site) -> None:
    await issue(store, site)
    await issue(store, site)
    key = Idem("k1")
    first = await store.next(site, "loket-1", actor="budi", idem=key)
    again = await store.next(site, "loket-1", actor="budi", idem=key)
    assert first == again
    assert (await store.state(site))["waiting"][KTP] == 1


async def test_events_are_gapless_and_match_changes(store: Store, site: config.Site) -> None:
    start = (await store.state(site))["seq"]
    await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.next(site, "loket-1", actor="budi", idem=None)
    events, complete = await store.log.events_after(site.id, start)
    assert complete
    assert [e["seq"] for e in events] == list(range(start + 1, start + 4))
    assert [e["type"] for e in events] == ["ticket.issued", "ticket.called", "ticket.finished"]
    assert events[1]["counter"] == {"id": "loket-1", "name": "Loket 1"}
    assert events[0]["waiting"] == {KTP: 1} and events[1]["waiting"] == {KTP: 0}


async def test_day_rollover_cancels_waiting_and_restarts_numbers(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(hour=16, minute=59)  # 23:59 in Jakarta
    waiting = await issue(store, site)
    await issue(store, site)
    held = await store.next(site, "loket-1", actor="budi", idem=None)
    assert held is not None and held["id"] == waiting["id"]
    clock.advance(minutes=2)  # 00:01 the next day
    fresh = await issue(store, site)
    assert fresh["number"] == "KT001"
    events, _ = await store.log.events_after(site.id, 0)
    reset = [e for e in events if e["type"] == "site.day_reset"]
    assert len(reset) == 1 and reset[0]["cancelled"] == 1
    state = await store.state(site)
    assert state["waiting"][KTP] == 1 and state["recent_calls"] == []
    # the ticket the counter held across midnight can still be finished
    done = await store.finish(site, "loket-1", idem=None)
    assert done["id"] == waiting["id"]
    # a no-show of yesterday is no latecomer today
    assert not await store.rollover(site)


async def test_todays_counter_figures_count_the_journal_without_settling_it(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    """The console asks for its figures of today after every click: they are exact
    whether or not the journal of figures was settled, and asking settles nothing (a
    settle per click would put the click's field-by-field work back on the store)."""
    await issue(store, site)
    await issue(store, site)
    await store.next(site, "loket-1", actor="budi", idem=None)
    clock.advance(seconds=120)
    await store.next(site, "loket-1", actor="budi", idem=None)  # the first served, 120 s
    clock.advance(seconds=60)
    await store.no_show(site, "loket-1", idem=None)
    journal = keys.rollup_journal(site.id)
    pending = await store.redis.llen(journal)
    assert pending > 0
    expected = {"day": "2026-11-28", "served": 1, "no_show": 1, "avg_service_s": 120}
    assert await store.counter_today(site, "loket-1") == expected
    assert await store.redis.llen(journal) == pending  # nothing settled
    assert await store.rollups.settle(site.id) == pending
    assert await store.redis.llen(journal) == 0
    assert await store.counter_today(site, "loket-1") == expected


async def test_the_day_only_moves_forward_between_skewed_processes(
    redis: Redis, store: Store, site: config.Site, clock: FakeClock
) -> None:
    """Two processes whose clocks are two seconds apart at midnight (hardening issue,
    critical 6): the one behind must not take the site back to yesterday, cancel the
    fresh tickets or reset the day again; its changes land on the stored day."""
    clock.now = clock.now.replace(hour=16, minute=59, second=59)  # 23:59:59 in Jakarta
    await issue(store, site)  # yesterday's, left waiting
    ahead_clock = FakeClock(clock.now + timedelta(seconds=2))  # 00:00:01
    ahead = Store(redis, clock=ahead_clock)
    fresh = await issue(ahead, site)  # rolls the day over
    assert fresh["number"] == "KT001"
    behind = await issue(store, site)  # its clock says yesterday
    assert behind["number"] == "KT002"
    clock.advance(seconds=3)  # now past midnight too
    later = await issue(store, site)
    assert later["number"] == "KT003"
    events, _ = await store.log.events_after(site.id, 0)
    assert [e["cancelled"] for e in events if e["type"] == "site.day_reset"] == [1]
    state = await store.state(site)
    assert state["waiting"][KTP] == 3


async def test_old_service_days_are_forgotten(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    old = await issue(store, site)
    clock.advance(days=store.retention_days - 1)
    kept = await issue(store, site)  # a new day: nothing is old enough yet
    await store.ticket(site, old["id"])
    clock.advance(days=2)
    await issue(store, site)  # the day rolls over and the first day is past retention
    with pytest.raises(NotFound):
        await store.ticket(site, old["id"])
    assert (await store.ticket(site, kept["id"]))["status"] == "cancelled"
    assert not await store.redis.exists(keys.day_tickets(site.id, "2026-11-28"))
