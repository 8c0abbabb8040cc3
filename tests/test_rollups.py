"""rollups.py: days folded into months once, late figures of a folded day counted in
both, old days compressed and still read the same; a year report reads months."""

from __future__ import annotations

from datetime import date

from server import config, keys, reports
from server.store import Store
from tests.conftest import FakeClock


async def serve_one(store: Store, site: config.Site, clock: FakeClock, wait_s: int) -> dict:
    ticket = await store.issue(site, "ktp-el", priority=False, idem=None)
    clock.advance(seconds=wait_s)
    called = await store.next(site, "loket-1", actor="budi", idem=None)
    assert called is not None and called["id"] == ticket["id"]
    return ticket


async def report(store: Store, site: config.Site, first: str, last: str) -> dict:
    doc = await reports.report(
        store, site, "service", date.fromisoformat(first), date.fromisoformat(last)
    )
    return {row["key"]: row for row in doc["rows"]}


async def test_a_folded_day_and_its_late_figures(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    # 2026-11-28: two tickets called, the second still held at midnight.
    await serve_one(store, site, clock, 60)
    held = await serve_one(store, site, clock, 120)
    clock.advance(days=1)  # 2026-11-29, 08:03 local: the next call rolls the day over
    await serve_one(store, site, clock, 30)  # finishes `held` first: a late figure
    folded = await store.redis.smembers(keys.rollups_folded(site.id))
    assert b"2026-11-28" in folded and b"2026-11-29" not in folded
    day1 = await report(store, site, "2026-11-28", "2026-11-28")
    month = await report(store, site, "2026-11-01", "2026-11-30")
    both = await report(store, site, "2026-11-28", "2026-11-29")
    assert day1["ktp-el"]["served"] == 2  # `held` finished the next day, counted on its day
    assert month["ktp-el"]["issued"] == both["ktp-el"]["issued"] == 3
    assert month["ktp-el"]["served"] == both["ktp-el"]["served"] == 2
    assert month["ktp-el"]["wait_s"] == both["ktp-el"]["wait_s"]
    # the month's hash holds the folded day, late figure included, and not the open day
    raw = await store.redis.hgetall(keys.rollup(site.id, "2026-11", "v"))
    assert int(raw[b"ktp-el|issued"]) == 2 and int(raw[b"ktp-el|served"]) == 2
    assert (await store.ticket(site, held["id"]))["status"] == "done"


async def test_old_days_are_compressed_and_read_the_same(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    for wait_s in (40, 400, 900):
        await serve_one(store, site, clock, wait_s)
    before = await report(store, site, "2026-11-28", "2026-11-28")
    clock.advance(days=store.rollups.compress_after_days)
    await store.rollover(site)  # folds and compresses the day now 40 days old
    assert not await store.redis.exists(keys.rollup(site.id, "2026-11-28", "v"))
    assert await store.redis.exists(keys.rollup_archive(site.id, "2026-11-28", "v"))
    assert await report(store, site, "2026-11-28", "2026-11-28") == before
    assert (await report(store, site, "2026-11-01", "2026-11-30"))["ktp-el"]["called"] == 3


async def test_a_range_reads_months_less_the_days_outside_it(
    store: Store, site: config.Site, clock: FakeClock
) -> None:
    """One ticket a day from 28 November to 4 January: any range's figures equal the sum
    of its days, whether read by days, by whole months, or by months less some days."""
    start = clock.now
    for _ in range(38):
        await serve_one(store, site, clock, 30)
        clock.advance(days=1)
        clock.now = clock.now.replace(hour=1, minute=0)
    await store.rollover(site)  # folds every finished day
    for first, last in [
        ("2026-12-03", "2026-12-31"),  # December less two days
        ("2026-11-29", "2026-12-30"),  # part of November, December less a day
        ("2026-12-10", "2026-12-12"),  # a few days
        ("2026-11-28", "2027-01-04"),  # everything, today's month unfolded in part
    ]:
        got = await report(store, site, first, last)
        days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
        assert got["ktp-el"]["issued"] == days, (first, last)
        assert got["ktp-el"]["called"] == days
    assert start.date().isoformat() == "2026-11-28"
