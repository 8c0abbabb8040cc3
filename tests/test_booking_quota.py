"""Walk-ins and bookings share the daily quota (docs/bookings.md, issue 11): the day's
bookings still `booked` hold their places, so a walk-in (kiosk, officer, phone ticket:
every ticket of issue.lua) is refused once issued + booked reaches daily_quota; a
booking's check-in never is; cancelled and expired bookings give their places back.
Also under concurrency, with the count of places held checked against the bookings."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from server import config, keys
from server.booking_store import Bookings
from server.config import Site
from server.errors import Conflict
from server.store import Store
from tests.conftest import FakeClock, fresh_site_id
from tests.test_bookings import MONDAY, NIK_KEY, WEEKDAYS, at, nik

DAY = MONDAY.isoformat()


def site_doc() -> dict[str, Any]:
    return {
        "site": {"id": "bq", "name": "MPP Uji Kuota", "booking_check_in_margin_min": 30},
        "agencies": [{"id": "dukcapil", "name": "Disdukcapil", "short_name": "Dukcapil"}],
        "services": [
            {
                "id": "ktp",
                "agency": "dukcapil",
                "name": "Perekaman KTP-el",
                "prefix": "K",
                "daily_quota": 10,
                "walk_in_share": 0.4,  # 6 of 10 bookable
                "booking_sessions": [
                    {"days": WEEKDAYS, "start": "08:00", "end": "10:00", "quota": 6},
                    {"days": WEEKDAYS, "start": "10:00", "end": "12:00", "quota": 6},
                ],
            },
        ],
        "counters": [
            {"id": "loket-1", "name": "Loket 1", "agency": "dukcapil", "services": ["ktp"]}
        ],
    }


@pytest.fixture
async def qsite(store: Store, clock: FakeClock) -> Site:
    clock.now = at(MONDAY, 7)
    site = config.parse(site_doc(), "test", fresh_site_id("bq"))
    await store.load_config(site)
    return site


@pytest.fixture
def bookings(store: Store) -> Bookings:
    return Bookings(store, NIK_KEY.encode())


async def book(bookings: Bookings, site: Site, session: str = "0800-1000") -> dict[str, Any]:
    return await bookings.book(site, "ktp", MONDAY, session, nik(), "Siti Aminah", None)


async def walk_in(store: Store, site: Site) -> dict[str, Any]:
    return await store.issue(site, "ktp", priority=False, idem=None)


async def walk_ins(store: Store, site: Site, n: int) -> None:
    for _ in range(n):
        await walk_in(store, site)


async def refused(store: Store, site: Site) -> Conflict:
    with pytest.raises(Conflict) as no:
        await walk_in(store, site)
    assert no.value.code == "quota_reached"
    return no.value


async def issued(redis: Redis, site: Site) -> int:
    return int(await redis.hget(keys.issued(site.id, DAY), "ktp") or 0)


async def held_count_is_exact(redis: Redis, site: Site) -> int:
    """The places held (`ktp|booked`) are exactly the date's bookings still `booked`."""
    held = int(await redis.hget(keys.booking_taken(site.id, DAY), "ktp|booked") or 0)
    stored = [json.loads(v) for v in (await redis.hgetall(keys.bookings(site.id))).values()]
    assert held == sum(1 for b in stored if b["date"] == DAY and b["status"] == "booked")
    assert all(bool(b.get("_held")) == (b["status"] == "booked") for b in stored)
    return held


async def test_walk_ins_leave_the_booked_places(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    """Quota 10, 6 booked: walk-ins get exactly 4; every booking still checks in."""
    first = [await book(bookings, qsite, "0800-1000") for _ in range(3)]
    second = [await book(bookings, qsite, "1000-1200") for _ in range(3)]
    assert await held_count_is_exact(redis, qsite) == 6
    assert (await store.state(qsite))["quota_left"] == {"ktp": 4}
    await walk_ins(store, qsite, 4)
    assert "booked" in (await refused(store, qsite)).message
    assert (await store.state(qsite))["quota_left"] == {"ktp": 0}
    clock.now = at(MONDAY, 8)
    for b in first:
        await bookings.check_in(qsite, b["code"], idem=None)
    await refused(store, qsite)  # the places became the check-ins' tickets
    clock.now = at(MONDAY, 10)
    for b in second:
        ticket, booking = await bookings.check_in(qsite, b["code"], idem=None)
        assert ticket["status"] == "waiting" and booking["status"] == "checked_in"
    assert "booked" not in (await refused(store, qsite)).message  # simply full now
    assert await issued(redis, qsite) == 10
    assert await held_count_is_exact(redis, qsite) == 0


async def test_cancelling_frees_a_walk_in_place(
    bookings: Bookings, qsite: Site, store: Store, redis: Redis
) -> None:
    made = [await book(bookings, qsite) for _ in range(6)]
    await walk_ins(store, qsite, 4)
    await refused(store, qsite)
    await bookings.cancel(qsite, made[0]["id"], idem=None)
    assert await held_count_is_exact(redis, qsite) == 5
    await walk_in(store, qsite)
    await refused(store, qsite)
    # a refused cancel (already cancelled) frees nothing more
    with pytest.raises(Conflict):
        await bookings.cancel(qsite, made[0]["id"], idem=None)
    await refused(store, qsite)
    # the place went to a walk-in: a new booking for today no longer fits either
    with pytest.raises(Conflict) as full:
        await book(bookings, qsite)
    assert full.value.code == "day_full"
    assert (await bookings.slots(qsite, "ktp", MONDAY))["sessions"][0]["left"] == 0
    assert await held_count_is_exact(redis, qsite) == 5


async def test_an_expired_booking_frees_its_place(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    early = [await book(bookings, qsite, "0800-1000") for _ in range(3)]
    late = [await book(bookings, qsite, "1000-1200") for _ in range(3)]
    await walk_ins(store, qsite, 4)
    clock.now = at(MONDAY, 8)
    await bookings.check_in(qsite, early[0]["code"], idem=None)
    await refused(store, qsite)
    clock.now = at(MONDAY, 10)  # the first session is over: its two unchecked expire
    assert await bookings.expire(qsite) == (2, 0)
    assert await bookings.expire(qsite) == (0, 0)  # and only once
    assert await held_count_is_exact(redis, qsite) == 3
    await walk_ins(store, qsite, 2)
    await refused(store, qsite)
    for b in late:  # the later session's places were kept
        await bookings.check_in(qsite, b["code"], idem=None)
    assert await issued(redis, qsite) == 10
    assert await held_count_is_exact(redis, qsite) == 0


async def test_a_same_day_booking_fits_only_in_what_walk_ins_left(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    """Walk-ins may take unbooked places; then today's bookings stop where issued +
    booked reaches the quota, so every check-in still fits in it."""
    await walk_ins(store, qsite, 8)
    made = [await book(bookings, qsite) for _ in range(2)]
    with pytest.raises(Conflict) as full:
        await book(bookings, qsite)
    assert full.value.code == "day_full"
    assert [s["left"] for s in (await bookings.slots(qsite, "ktp", MONDAY))["sessions"]] == [0, 0]
    await refused(store, qsite)
    clock.now = at(MONDAY, 8)
    for b in made:
        await bookings.check_in(qsite, b["code"], idem=None)
    assert await issued(redis, qsite) == 10


async def test_concurrent_walk_ins_and_check_ins_never_pass_the_quota(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    made = [await book(bookings, qsite) for _ in range(6)]
    clock.now = at(MONDAY, 8)
    checks = [bookings.check_in(qsite, b["code"], idem=None) for b in made]
    results = await asyncio.gather(
        *checks, *(walk_in(store, qsite) for _ in range(30)), return_exceptions=True
    )
    checked, walked = results[:6], results[6:]
    assert all(isinstance(r, tuple) for r in checked), checked  # never refused
    won = [r for r in walked if isinstance(r, dict)]
    lost = [r for r in walked if isinstance(r, Conflict)]
    assert len(won) == 4 and len(lost) == 26, walked
    assert {e.code for e in lost} == {"quota_reached"}
    assert await issued(redis, qsite) == 10
    assert await held_count_is_exact(redis, qsite) == 0


async def test_concurrent_cancels_and_walk_ins_share_the_freed_places(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    made = [await book(bookings, qsite) for _ in range(6)]
    gone, kept = made[:2], made[2:]
    results = await asyncio.gather(
        *(bookings.cancel(qsite, b["id"], idem=None) for b in gone),
        *(walk_in(store, qsite) for _ in range(30)),
        return_exceptions=True,
    )
    assert all(isinstance(r, dict) and r["status"] == "cancelled" for r in results[:2])
    won = [r for r in results[2:] if isinstance(r, dict)]
    # 4 places never booked, and as many of the 2 freed as came free before the last try
    assert 4 <= len(won) <= 6
    await walk_ins(store, qsite, 6 - len(won))  # the rest of the freed places
    await refused(store, qsite)
    clock.now = at(MONDAY, 8)
    for b in kept:
        await bookings.check_in(qsite, b["code"], idem=None)
    assert await issued(redis, qsite) == 10
    assert await held_count_is_exact(redis, qsite) == 0


async def test_bookings_made_before_the_count_free_nothing(
    bookings: Bookings, qsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    """A booking stored before places were counted (no `_held`) never makes the count
    negative: its check-in, cancel or expiry leaves the others' places held."""
    old, counted = await book(bookings, qsite), await book(bookings, qsite)
    raw = json.loads(await redis.hget(keys.bookings(qsite.id), old["id"]) or "{}")
    del raw["_held"]
    await redis.hset(keys.bookings(qsite.id), old["id"], json.dumps(raw))
    await redis.hincrby(keys.booking_taken(qsite.id, DAY), "ktp|booked", -1)
    clock.now = at(MONDAY, 8)
    await bookings.check_in(qsite, old["code"], idem=None)
    assert await redis.hget(keys.booking_taken(qsite.id, DAY), "ktp|booked") == b"1"
    assert counted["status"] == "booked"
