"""Bookings (docs/bookings.md): quotas under concurrency, one per NIK, the walk-in share,
holidays, the check-in window's edges with an injected clock, expiry counted in reports,
the NIK never stored or shown in clear; the HTTP flow and phone tickets."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from redis.asyncio import Redis

from server import config, reports
from server.booking_store import Bookings
from server.config import Site
from server.errors import Conflict, InvalidField, NotFound
from server.store import Store
from tests.conftest import FakeClock, LiveServer, fresh_site_id

NIK_KEY = "test-nik-key"  # every test process hashes NIKs with the same key
MONDAY = date(2026, 11, 30)
HOLIDAY = "2026-12-02"  # a Wednesday
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
_niks = itertools.count(1)


def nik() -> str:
    """A fresh 16-digit NIK (Kota Bogor's region code, then a counter)."""
    return f"3271{next(_niks):012d}"


def site_doc() -> dict[str, Any]:
    return {
        "site": {
            "id": "bk",
            "name": "MPP Uji Booking",
            "holidays": [HOLIDAY],
            "booked_first": True,
            "booking_check_in_margin_min": 30,
        },
        "agencies": [{"id": "dukcapil", "name": "Disdukcapil", "short_name": "Dukcapil"}],
        "services": [
            {
                "id": "ktp",
                "agency": "dukcapil",
                "name": "Perekaman KTP-el",
                "prefix": "K",
                "daily_quota": 20,
                "walk_in_share": 0.5,  # 10 of 20 for bookings
                "booking_sessions": [
                    {"days": WEEKDAYS, "start": "08:00", "end": "10:00", "quota": 6},
                    {"days": WEEKDAYS, "start": "10:00", "end": "12:00", "quota": 6},
                ],
            },
            {
                "id": "kk",
                "agency": "dukcapil",
                "name": "Kartu Keluarga",
                "prefix": "A",
                "booking_days_ahead": 7,
                "booking_sessions": [
                    {"days": [*WEEKDAYS, "sat"], "start": "08:00", "end": "12:00", "quota": 10}
                ],
            },
            {
                "id": "umum",
                "agency": "dukcapil",
                "name": "Informasi",
                "prefix": "U",
                "remote_ticket": True,
                "hours": {d: "08:00-15:00" for d in WEEKDAYS},
            },
            {"id": "lain", "agency": "dukcapil", "name": "Lainnya", "prefix": "L"},
        ],
        "counters": [
            {
                "id": "loket-1",
                "name": "Loket 1",
                "agency": "dukcapil",
                "services": ["ktp", "kk", "umum", "lain"],
            }
        ],
    }


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A local time in Jakarta (UTC+7) as the UTC instant the clock holds."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
async def bsite(store: Store, clock: FakeClock) -> Site:
    clock.now = at(MONDAY, 7)
    site = config.parse(site_doc(), "test", fresh_site_id("bk"))
    await store.load_config(site)
    return site


@pytest.fixture
def bookings(store: Store) -> Bookings:
    return Bookings(store, NIK_KEY.encode())


async def book(
    bookings: Bookings, site: Site, service: str = "ktp", session: str = "0800-1000", **kw: Any
) -> dict[str, Any]:
    return await bookings.book(
        site,
        service,
        kw.pop("day", MONDAY),
        session,
        kw.pop("nik", None) or nik(),
        kw.pop("name", "Siti Aminah"),
        kw.pop("phone", None),
    )


# -- the store --------------------------------------------------------------------------


async def test_quota_holds_under_concurrency(bookings: Bookings, bsite: Site) -> None:
    """50 visitors book the last 10 places at once: exactly 10 get one."""
    results = await asyncio.gather(
        *(book(bookings, bsite, "kk", "0800-1200") for _ in range(50)), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 10 and len(lost) == 40, results
    assert {e.code for e in lost} == {"session_full"}
    slots = await bookings.slots(bsite, "kk", MONDAY)
    assert slots["sessions"] == [
        {"id": "0800-1200", "start": "08:00", "end": "12:00", "quota": 10, "left": 0}
    ]


async def test_one_booking_per_nik_per_service_per_day(bookings: Bookings, bsite: Site) -> None:
    someone = nik()
    first = await book(bookings, bsite, nik=someone)
    with pytest.raises(Conflict) as refused:
        await book(bookings, bsite, session="1000-1200", nik=someone)
    assert refused.value.code == "already_booked"
    # another service, or another day, is another booking
    await book(bookings, bsite, "kk", "0800-1200", nik=someone)
    await book(bookings, bsite, nik=someone, day=MONDAY + timedelta(days=1))
    # cancelled, the NIK may book that day again, and the place is free again
    cancelled = await bookings.cancel(bsite, first["id"], idem=None)
    assert cancelled["status"] == "cancelled"
    with pytest.raises(Conflict, match="Only a booking not yet checked in"):
        await bookings.cancel(bsite, first["id"], idem=None)
    await book(bookings, bsite, session="1000-1200", nik=someone)


async def test_walk_in_share_is_kept(bookings: Bookings, bsite: Site) -> None:
    """daily_quota 20 with walk_in_share 0.5: 10 bookings a day, over both sessions."""
    for _ in range(6):
        await book(bookings, bsite, session="0800-1000")
    for _ in range(4):
        await book(bookings, bsite, session="1000-1200")
    with pytest.raises(Conflict) as refused:
        await book(bookings, bsite, session="1000-1200")
    assert refused.value.code == "day_full"
    slots = await bookings.slots(bsite, "ktp", MONDAY)
    assert [(s["id"], s["left"]) for s in slots["sessions"]] == [
        ("0800-1000", 0),
        ("1000-1200", 0),
    ]


async def test_dates_holidays_and_sessions(bookings: Bookings, bsite: Site) -> None:
    holiday = date.fromisoformat(HOLIDAY)
    for day, code in (
        (holiday, "holiday"),
        (MONDAY - timedelta(days=1), "date_past"),
        (MONDAY + timedelta(days=8), "date_too_far"),  # kk opens 7 days ahead
        (MONDAY + timedelta(days=6), "no_sessions"),  # a Sunday
    ):
        with pytest.raises(Conflict) as refused:
            await book(bookings, bsite, "kk", "0800-1200", day=day)
        assert refused.value.code == code, day
        assert (await bookings.slots(bsite, "kk", day))["closed"] == code
    saturday = MONDAY + timedelta(days=5)
    assert (await book(bookings, bsite, "kk", "0800-1200", day=saturday))["status"] == "booked"
    with pytest.raises(Conflict, match="no bookings on that day"):
        await book(bookings, bsite, "ktp", "0800-1000", day=saturday)  # ktp: weekdays only
    with pytest.raises(InvalidField):
        await book(bookings, bsite, session="0900-1000")
    with pytest.raises(InvalidField):
        await book(bookings, bsite, nik="12345")
    with pytest.raises(Conflict, match="takes no bookings"):
        await book(bookings, bsite, "lain")


async def test_check_in_window_edges(
    bookings: Bookings, bsite: Site, store: Store, clock: FakeClock
) -> None:
    """Session 08:00-10:00 with a 30 minute margin: check-in opens at 07:30:00 and
    closes at 10:00:00 (exclusive)."""
    early, on_time, late, edge = [await book(bookings, bsite) for _ in range(4)]
    clock.now = at(MONDAY, 7, 29, 59)
    with pytest.raises(Conflict) as refused:
        await bookings.check_in(bsite, early["code"], idem=None)
    assert refused.value.code == "too_early"
    assert refused.value.details == {"opens_at": "2026-11-30T07:30+07:00"}
    clock.now = at(MONDAY, 7, 30)
    ticket, booking = await bookings.check_in(bsite, early["code"].lower(), idem=None)
    assert booking["status"] == "checked_in" and booking["ticket"] == ticket["id"]
    assert ticket["status"] == "waiting" and ticket["priority"] is True  # booked_first
    assert ticket["issued_at"] == "2026-11-30T07:30:00+07:00"  # joins the queue now
    with pytest.raises(Conflict) as again:
        await bookings.check_in(bsite, early["code"], idem=None)
    assert again.value.code == "already_checked_in"
    clock.now = at(MONDAY, 9, 59, 59)
    await bookings.check_in(bsite, edge["code"], idem=None)
    clock.now = at(MONDAY, 10)
    with pytest.raises(Conflict) as refused:
        await bookings.check_in(bsite, late["code"], idem=None)
    assert refused.value.code == "too_late"
    with pytest.raises(NotFound):
        await bookings.check_in(bsite, "ZZZZZZZZ", idem=None)
    # a booked visitor goes before walk-ins of the same service (booked_first)
    clock.now = at(MONDAY, 8)
    walk_in = await store.issue(bsite, "ktp", priority=False, idem=None)
    assert await store.position(bsite, walk_in) == 3
    assert on_time["status"] == "booked"


async def test_expiry_is_counted_in_reports(
    bookings: Bookings, bsite: Site, store: Store, clock: FakeClock
) -> None:
    shown, missed, dropped = [await book(bookings, bsite) for _ in range(3)]
    await bookings.cancel(bsite, dropped["id"], idem=None)
    clock.now = at(MONDAY, 8)
    await bookings.check_in(bsite, shown["code"], idem=None)
    assert await bookings.expire(bsite) == (0, 0)  # the session is not over
    clock.now = at(MONDAY, 10)
    assert await bookings.expire(bsite) == (1, 0)
    assert (await bookings.get(bsite, missed["id"]))["status"] == "expired"
    with pytest.raises(Conflict) as refused:
        await bookings.check_in(bsite, missed["code"], idem=None)
    assert refused.value.code == "booking_expired"
    doc = await reports.report(store, bsite, "service", MONDAY, MONDAY)
    row = next(r for r in doc["rows"] if r["key"] == "ktp")
    assert (row["booked"], row["checked_in"], row["booking_cancelled"]) == (3, 1, 1)
    assert (row["booking_no_show"], row["issued"]) == (1, 1)
    assert doc["total"]["booking_no_show"] == 1
    # personal data goes 35 days after the booking's date
    clock.now = at(MONDAY + timedelta(days=35), 0, 0, 1)
    assert await bookings.expire(bsite) == (0, 3)
    with pytest.raises(NotFound):
        await bookings.get(bsite, shown["id"])


async def _everything(redis: Redis) -> list[bytes]:
    """Every key of the store and every value under it, as bytes."""
    out: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        out.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            out.append(await redis.get(key) or b"")
        elif kind == "hash":
            out.extend(b for kv in (await redis.hgetall(key)).items() for b in kv)
        elif kind == "list":
            out.extend(await redis.lrange(key, 0, -1))
        elif kind == "set":
            out.extend(await redis.smembers(key))
        elif kind == "zset":
            out.extend(m for m, _ in await redis.zrange(key, 0, -1, withscores=True))
        elif kind == "stream":
            for _, fields in await redis.xrange(key):
                out.extend(b for kv in fields.items() for b in kv)
    return out


async def test_nik_is_never_stored_in_clear(
    bookings: Bookings, bsite: Site, store: Store, clock: FakeClock, redis: Redis
) -> None:
    someone = nik()
    booking = await book(bookings, bsite, nik=someone, phone="0812-3456-7890")
    assert booking["nik_last4"] == someone[-4:] and booking["phone"] == "+6281234567890"
    clock.now = at(MONDAY, 8)
    await bookings.check_in(bsite, booking["code"], idem=None)
    with pytest.raises(Conflict):
        await book(bookings, bsite, nik=someone)
    stored = await _everything(redis)
    assert stored and not [v for v in stored if someone.encode() in v]
    assert not [v for v in stored if someone[:12].encode() in v]  # nor most of it


# -- over HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        redis_url,
        clock=FakeClock(at(MONDAY, 7)),
        nik_key=NIK_KEY,
        data_dir=tmp_path_factory.mktemp("bookings"),
    )
    server.start()
    yield server
    server.stop()


def new_site(live: LiveServer, tmp_path: Path) -> str:
    live.settings.clock.now = at(MONDAY, 7)  # type: ignore[attr-defined]
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps(site_doc()))
    return live.new_site(path)


def test_booking_over_http(live: LiveServer, tmp_path: Path) -> None:
    site = new_site(live, tmp_path)
    kiosk = {"Authorization": f"Bearer {live.token('kiosk', site)}"}
    base = f"/api/v1/sites/{site}"
    someone = nik()
    with httpx.Client(base_url=live.url) as c:
        info = c.get(base).json()
        flags = {s["id"]: (s["bookings"], s["remote_ticket"]) for s in info["services"]}
        assert flags["ktp"] == (True, False) and flags["umum"] == (False, True)
        slots = c.get(f"{base}/services/ktp/slots", params={"date": "2026-11-30"}).json()
        assert slots["date"] == "2026-11-30"
        assert [(s["id"], s["quota"], s["left"]) for s in slots["sessions"]] == [
            ("0800-1000", 6, 6),
            ("1000-1200", 6, 6),
        ]
        assert c.get(f"{base}/services/ktp/slots", params={"date": "30-11"}).status_code == 400
        body = {
            "service": "ktp",
            "date": "2026-11-30",
            "session": "0800-1000",
            "nik": someone,
            "name": "Budi Santoso",
            "phone": "081234567890",
        }
        r = c.post(f"{base}/bookings", json=body)
        assert r.status_code == 201, r.text
        booking = r.json()["booking"]
        assert booking["nik"] == f"**** **** **** {someone[-4:]}"
        assert booking["status"] == "booked" and len(booking["code"]) == 8
        assert someone not in r.text
        again = c.post(f"{base}/bookings", json=body)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_booked"
        bad = c.post(f"{base}/bookings", json={**body, "nik": "1234"})
        assert bad.status_code == 400 and someone not in bad.text
        left = c.get(f"{base}/services/ktp/slots", params={"date": "2026-11-30"}).json()
        assert left["sessions"][0]["left"] == 5
        mine = c.get(f"{base}/bookings/{booking['id']}").json()["booking"]
        assert mine["code"] == booking["code"] and someone not in str(mine)
        assert c.get(f"{base}/bookings/{'x' * 22}").status_code == 404
        # check-in: the kiosk only, in the window
        url = f"{base}/bookings/{booking['code']}/check-in"
        assert c.post(url).status_code == 401
        early = c.post(url, headers=kiosk)
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "too_early"
        assert early.json()["error"]["opens_at"] == "2026-11-30T07:30+07:00"
        live.settings.clock.now = at(MONDAY, 7, 45)  # type: ignore[attr-defined]
        r = c.post(url, headers=kiosk)
        assert r.status_code == 201, r.text
        ticket = r.json()["ticket"]
        assert ticket["number"] == "K001" and ticket["id"] and r.json()["position"] == 1
        mine = c.get(f"{base}/bookings/{booking['id']}").json()["booking"]
        assert mine["status"] == "checked_in"
        assert mine["ticket"] == {"number": "K001", "id": ticket["id"]}
        assert c.post(f"{base}/bookings/{booking['id']}/cancel").status_code == 409
        # a second booking, cancelled by its holder
        other = c.post(f"{base}/bookings", json={**body, "nik": nik()}).json()["booking"]
        r = c.post(f"{base}/bookings/{other['id']}/cancel")
        assert r.status_code == 200 and r.json()["booking"]["status"] == "cancelled"
        events = c.get(f"{base}/events", params={"since": 0}).json()["events"]
        assert someone not in str(events)


def test_phone_tickets(live: LiveServer, tmp_path: Path) -> None:
    site = new_site(live, tmp_path)
    base = f"/api/v1/sites/{site}"
    with httpx.Client(base_url=live.url) as c:
        closed = c.post(f"{base}/phone-tickets", json={"service": "umum"})
        assert closed.status_code == 409  # opens at 08:00
        assert closed.json()["error"]["code"] == "service_closed_now"
        live.settings.clock.now = at(MONDAY, 9)  # type: ignore[attr-defined]
        r = c.post(f"{base}/phone-tickets", json={"service": "umum"})
        assert r.status_code == 201, r.text
        ticket = r.json()["ticket"]
        assert r.json()["status_url"] == f"/t/{site}/{ticket['id']}"
        assert c.get(f"{base}/tickets/{ticket['id']}").json()["position"] == 1
        refused = c.post(f"{base}/phone-tickets", json={"service": "lain"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "remote_ticket_not_allowed"
        statuses = [
            c.post(f"{base}/phone-tickets", json={"service": "umum"}).status_code for _ in range(3)
        ]
        assert statuses == [201, 201, 429]  # three per address in ten minutes


async def test_booking_figures_per_service_and_session(
    bookings: Bookings, bsite: Site, store: Store, clock: FakeClock
) -> None:
    early = [await book(bookings, bsite, session="0800-1000") for _ in range(2)]
    late = await book(bookings, bsite, session="1000-1200")
    await bookings.cancel(bsite, early[1]["id"], idem=None)
    clock.now = at(MONDAY, 8)
    await bookings.check_in(bsite, early[0]["code"], idem=None)
    clock.now = at(MONDAY, 12)
    await bookings.expire(bsite)  # `late` never came
    doc = await reports.report(store, bsite, "session", MONDAY, MONDAY)
    rows = {r["key"]: r for r in doc["rows"]}
    first, second = rows["ktp@0800-1000"], rows["ktp@1000-1200"]
    assert first["name"] == "Perekaman KTP-el 08:00-10:00"
    assert (first["booked"], first["checked_in"], first["booking_cancelled"]) == (2, 1, 1)
    assert (second["booked"], second["booking_no_show"]) == (1, 1)
    assert late["session"] == "1000-1200"
