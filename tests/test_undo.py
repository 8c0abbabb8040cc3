"""Undo of a counter's last next, no-show or transfer (server/lua/undo.lua).

Each undo must put the tickets, the queues (with their order), the counter record and the
service times back as they were, append one `ticket.reverted` per ticket, and leave
figures that equal those of a twin run in which the action never happened: the same
steps at the same times on a second site, without the action and its undo, and every
report of the day compared. Too late (over domain.UNDO_WINDOW_S) or after anything else
changed the counter or its tickets, the undo is refused with 409 `undo_expired`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from server import config, domain, keys, reports
from server.errors import Conflict
from server.store import Store
from tests.conftest import FakeClock, LiveServer, fresh_site_id

DAY = date(2026, 11, 28)
BYS = ("site", "agency", "service", "counter", "officer", "day", "hour")
OTHER_AGENCY_SERVICE = "paspor-baru"  # imigrasi: a transfer out of the agency

Step = Callable[[Store, config.Site, FakeClock, dict[str, Any]], Awaitable[None]]


async def new_site(store: Store) -> config.Site:
    site = config.load_demo(fresh_site_id("u"))
    await store.load_config(site)
    return site


async def snapshot(store: Store, site: config.Site, ids: list[str]) -> dict[str, Any]:
    """Everything an action and its undo touch, as stored."""
    r = store.redis
    record = json.loads(await r.hget(keys.counters(site.id), "loket-1") or "{}")
    record.pop("undo", None)
    return {
        "tickets": {i: await r.hget(keys.tickets(site.id), i) for i in ids},
        "counter": record,
        "queues": {
            s: await r.zrange(keys.queue(site.id, s), 0, -1, withscores=True)
            for s in ("ktp-el", "ktp-el-ubah", OTHER_AGENCY_SERVICE)
        },
        "times": await r.hgetall(keys.service_times(site.id)),
        "recent": await r.lrange(keys.recent(site.id), 0, -1),
    }


async def figures(store: Store, site: config.Site) -> dict[str, Any]:
    out = {}
    for by in BYS:
        doc = await reports.report(store, site, by, DAY, DAY)
        doc.pop("site")
        for row in doc["rows"]:
            if row["key"] == site.id:
                row["key"] = "SITE"
        out[by] = doc
    return out


async def twin_runs(
    store: Store, clock: FakeClock, setup: Step, action: Step, after: Step
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Run setup, action + undo, after on one site; setup, after on another, from the
    same start time. Answers the state before the action and after its undo, the
    report figures of both runs, and the events of the undo."""
    start = clock.now
    site = await new_site(store)
    ids: dict[str, Any] = {}
    await setup(store, site, clock, ids)
    before = await snapshot(store, site, [t["id"] for t in ids.values() if t])
    await action(store, site, clock, ids)
    clock.advance(seconds=3)
    seq = await store.log.last_seq(site.id)
    done = await store.undo(site, "loket-1", idem=None)
    events, _ = await store.log.events_after(site.id, seq)
    restored = await snapshot(store, site, [t["id"] for t in ids.values() if t])
    assert restored == before
    assert done["ticket"] == (before["counter"]["ticket"] and ids["held"])
    await after(store, site, clock, ids)
    undone = await figures(store, site)

    clock.now = start
    twin = await new_site(store)
    twin_ids: dict[str, Any] = {}
    await setup(store, twin, clock, twin_ids)
    clock.advance(seconds=3)
    await after(store, twin, clock, twin_ids)
    assert undone == await figures(store, twin)
    return before, restored, done, events


async def issue(store: Store, site: config.Site, service: str) -> dict[str, Any]:
    return await store.issue(site, service, priority=False, idem=None)


def setup_held(status: str) -> Step:
    """Three waiting (two services of loket-1), the first called, maybe started."""

    async def setup(store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]) -> None:
        ids["a"] = await issue(store, site, "ktp-el")
        clock.advance(seconds=20)
        ids["b"] = await issue(store, site, "ktp-el-ubah")
        clock.advance(seconds=20)
        ids["c"] = await issue(store, site, "ktp-el")
        clock.advance(minutes=2)
        await store.next(site, "loket-1", actor="budi", idem=None)
        if status == "serving":
            clock.advance(seconds=40)
            await store.start(site, "loket-1", idem=None)
        clock.advance(minutes=3)
        ids["held"] = await store.ticket(site, ids["a"]["id"])

    return setup


async def go_on(store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]) -> None:
    """What follows: the day goes on at both counters."""
    clock.advance(minutes=1)
    if (await store.counter_state(site, "loket-1"))["ticket"]:
        await store.finish(site, "loket-1", idem=None)
    clock.advance(seconds=30)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.next(site, "loket-2", actor="andi", idem=None)
    clock.advance(minutes=2)
    await store.start(site, "loket-1", idem=None)
    clock.advance(minutes=4)
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.counter_action(site, "loket-2", "pause", idem=None)


async def elsewhere(store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]) -> None:
    """What follows happens at another counter only: loket-1 and its officer must have no
    figures of the day at all (no row of zeros either)."""
    clock.advance(minutes=1)
    await store.next(site, "loket-2", actor="andi", idem=None)
    clock.advance(minutes=3)
    await store.finish(site, "loket-2", idem=None)


@pytest.mark.parametrize("held", ["called", "serving"])
async def test_undo_next(store: Store, clock: FakeClock, held: str) -> None:
    async def action(
        store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]
    ) -> None:
        called = await store.next(site, "loket-1", actor="budi", idem=None)
        assert called and called["id"] == ids["b"]["id"]
        assert (await store.ticket(site, ids["a"]["id"]))["status"] == "done"

    before, _, done, events = await twin_runs(store, clock, setup_held(held), action, go_on)
    assert done["undone"] == "next" and done["ticket"]["status"] == held
    # one event per ticket, the last changed first: B waits again, A is back
    assert [(e["type"], e["ticket"]["number"], e["ticket"]["status"]) for e in events] == [
        ("ticket.reverted", events[0]["ticket"]["number"], "waiting"),
        ("ticket.reverted", done["ticket"]["number"], held),
    ]
    assert all(e["counter"]["id"] == "loket-1" and e["undone"] == "next" for e in events)
    assert events[0]["waiting"] == {"ktp-el-ubah": 1}
    assert before["counter"]["ticket"] == done["ticket"]["id"]


async def test_undo_next_with_nothing_held(store: Store, clock: FakeClock) -> None:
    """Next from an empty counter: undo only puts the called ticket back."""

    async def setup(store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]) -> None:
        ids["a"] = await issue(store, site, "ktp-el")
        ids["b"] = await issue(store, site, "ktp-el")
        ids["held"] = None
        clock.advance(minutes=5)

    async def action(
        store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]
    ) -> None:
        await store.next(site, "loket-1", actor="budi", idem=None)

    _, _, done, events = await twin_runs(store, clock, setup, action, elsewhere)
    assert done == {"ticket": None, "undone": "next"}
    assert [e["ticket"]["status"] for e in events] == ["waiting"]


async def test_undo_no_show(store: Store, clock: FakeClock) -> None:
    async def action(
        store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]
    ) -> None:
        await store.no_show(site, "loket-1", idem=None)
        assert (await store.counter_today(site, "loket-1"))["no_show"] == 1

    _, _, done, events = await twin_runs(store, clock, setup_held("called"), action, go_on)
    assert done["undone"] == "no_show" and done["ticket"]["status"] == "called"
    assert [(e["type"], e["ticket"]["status"]) for e in events] == [("ticket.reverted", "called")]


@pytest.mark.parametrize("held", ["called", "serving"])
async def test_undo_transfer_to_another_agency(store: Store, clock: FakeClock, held: str) -> None:
    async def action(
        store: Store, site: config.Site, clock: FakeClock, ids: dict[str, Any]
    ) -> None:
        moved = await store.transfer(site, "loket-1", OTHER_AGENCY_SERVICE, idem=None)
        assert moved["status"] == "waiting" and moved["agency"] == "imigrasi"

    _, _, done, events = await twin_runs(store, clock, setup_held(held), action, go_on)
    assert done["undone"] == "transfer" and done["ticket"]["service"] == "ktp-el"
    (event,) = events
    assert event["ticket"]["status"] == held and event["ticket"]["counter"]["id"] == "loket-1"
    assert event["waiting"] == {OTHER_AGENCY_SERVICE: 0}


async def expect_expired(store: Store, site: config.Site) -> None:
    with pytest.raises(Conflict) as refused:
        await store.undo(site, "loket-1", idem=None)
    assert refused.value.code == "undo_expired"


async def test_undo_expires(store: Store, site: config.Site, clock: FakeClock) -> None:
    for _ in range(6):
        await issue(store, site, "ktp-el")
    await expect_expired(store, site)  # nothing done yet
    await store.next(site, "loket-1", actor="budi", idem=None)
    clock.advance(seconds=domain.UNDO_WINDOW_S, milliseconds=1)
    await expect_expired(store, site)  # too late

    await store.next(site, "loket-1", actor="budi", idem=None)
    clock.advance(seconds=domain.UNDO_WINDOW_S)
    await store.undo(site, "loket-1", idem=None)  # just in time
    await expect_expired(store, site)  # once only

    # another action of the counter since: start, recall (the ticket changed), finish,
    # pause (the counter changed)
    for other in ("start", "recall", "finish", "pause"):
        assert await store.next(site, "loket-1", actor="budi", idem=None)
        if other == "pause":
            await store.counter_action(site, "loket-1", "pause", idem=None)
        else:
            await getattr(store, other)(site, "loket-1", idem=None)
        await expect_expired(store, site)


async def test_undo_expires_when_another_counter_took_the_ticket(
    store: Store, site: config.Site
) -> None:
    t = await issue(store, site, "ktp-el")
    await store.next(site, "loket-1", actor="budi", idem=None)
    await store.transfer(site, "loket-1", "ktp-el-cetak", idem=None)
    called = await store.next(site, "loket-3", actor="andi", idem=None)
    assert called and called["id"] == t["id"]
    await expect_expired(store, site)
    assert (await store.ticket(site, t["id"]))["counter"]["id"] == "loket-3"


def test_reverted_is_an_event_type() -> None:
    assert "ticket.reverted" in domain.EVENT_TYPES


def test_undo_over_http(server: LiveServer) -> None:
    site = server.new_site()
    token = server.token("officer", site, "budi", ["loket-1"])
    base = f"/api/v1/sites/{site}/counters/loket-1"
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        issued = http.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
        assert issued.status_code == 201, issued.text
        assert http.post(f"{base}/next").json()["ticket"]["id"] == issued.json()["ticket"]["id"]
        undone = http.post(f"{base}/undo")
        assert undone.status_code == 200, undone.text
        assert undone.json() == {"ticket": None, "undone": "next"}
        again = http.post(f"{base}/undo")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "undo_expired"
        assert (
            http.get(f"/api/v1/sites/{site}/tickets/{issued.json()['ticket']['id']}").json()[
                "position"
            ]
            == 1
        )
        spec = http.get("/api/openapi.json").json()
        assert "post" in spec["paths"]["/api/v1/sites/{site}/counters/{counter}/undo"]
