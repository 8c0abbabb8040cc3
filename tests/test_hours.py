"""Opening hours and holidays: the pure rules (server/hours.py), their configuration,
and the kiosk's answer with a FakeClock (409 before opening, 201 inside, 409 on a
holiday)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from server import config, hours, reports
from server.errors import ConfigError, Conflict
from server.store import Store
from tests.conftest import ADMIN_TOKEN, FakeClock, LiveServer, fresh_site_id

WEEK = {"mon": "08:00-15:00", "tue": "08:00-12:00,13:00-15:00", "sat": "08:00-12:00"}
TZ = "Asia/Jakarta"  # UTC+7


def at(local: str) -> datetime:
    """A Jakarta local time as an aware UTC instant."""
    return datetime.fromisoformat(local + "+07:00").astimezone(UTC)


def test_parse_ranges() -> None:
    assert hours.parse_ranges("08:00-12:00, 13:00-15:30")[1][1].minute == 30
    for bad, reason in (
        ("8-15", "is not a range"),
        ("15:00-08:00", "ends before it starts"),
        ("08:00-12:00,11:00-13:00", "overlaps"),
        ("08:00-24:30", "24:00 is the latest end"),
    ):
        with pytest.raises(ValueError, match=reason):
            hours.parse_ranges(bad)


def test_open_inside_and_closed_outside() -> None:
    # 2026-11-30 is a Monday
    assert hours.closed_at(WEEK, (), TZ, at("2026-11-30T08:00:00")) is None
    assert hours.closed_at(None, (), TZ, at("2026-11-30T03:00:00")) is None
    early = hours.closed_at(WEEK, (), TZ, at("2026-11-30T07:30:00"))
    assert early is not None and early.code == "service_closed_now"
    assert (
        early.next_open is not None and early.next_open.isoformat() == "2026-11-30T08:00:00+07:00"
    )
    assert early.message(at("2026-11-30T07:30:00")).endswith("Layanan dibuka pukul 08.00.")
    # Tuesday lunch break: opens again at 13.00 the same day
    lunch = hours.closed_at(WEEK, (), TZ, at("2026-12-01T12:30:00"))
    assert lunch is not None and lunch.next_open == datetime.fromisoformat("2026-12-01T13:00+07:00")
    # Monday after closing: Tuesday 08.00 ("besok")
    late = hours.closed_at(WEEK, (), TZ, at("2026-11-30T15:00:00"))
    assert late is not None and "besok pukul 08.00" in late.message(at("2026-11-30T15:00:00"))
    # Saturday afternoon: closed Sunday, so Monday, by name
    weekend = hours.closed_at(WEEK, (), TZ, at("2026-12-05T13:00:00"))
    assert weekend is not None
    assert "Senin 07/12 pukul 08.00" in weekend.message(at("2026-12-05T13:00:00"))


def test_holidays() -> None:
    off = ("2026-12-25",)
    closed = hours.closed_at(None, off, TZ, at("2026-12-25T10:00:00"))
    assert closed is not None and closed.code == "holiday"
    assert closed.next_open == datetime.fromisoformat("2026-12-26T00:00+07:00")
    # a Friday holiday with hours: the next opening skips it and the closed Sunday
    closed = hours.closed_at(WEEK, ("2026-12-04",), TZ, at("2026-12-04T09:00:00"))
    assert closed is not None and closed.code == "holiday"
    assert closed.next_open == datetime.fromisoformat("2026-12-05T08:00+07:00")
    # nothing opens within two weeks: no next opening, still a sentence
    never = hours.closed_at({}, (), TZ, at("2026-12-04T09:00:00"))
    assert (
        never is not None
        and never.next_open is None
        and "belum ditentukan" in never.message(at("2026-12-04T09:00:00"))
    )


def _doc(**service: object) -> dict:
    doc = config.load_demo("h").to_dict()
    doc["services"][0].update(service)
    return doc


def test_configuration_fields_name_their_place() -> None:
    site = config.parse(_doc(hours=WEEK))
    assert site.services[0].hours == WEEK
    for bad, message in (
        ({"hours": {"monday": "08:00-15:00"}}, "hours: 'monday' is not a weekday"),
        ({"hours": {"mon": "8-15"}}, "hours: mon: '8-15' is not a range"),
        ({"hours": {"mon": 8}}, "hours: mon: must be a string"),
        ({"hours": "08:00-15:00"}, "hours: must be a table"),
    ):
        with pytest.raises(ConfigError, match=r'services\[0\] \(id "ktp-el"\): ' + message):
            config.parse(_doc(**bad))
    doc = _doc()
    doc["site"]["holidays"] = ["2026-12-25", "25-12-2026"]
    with pytest.raises(ConfigError, match=r"site: holidays: '25-12-2026' is not a date"):
        config.parse(doc)
    doc["site"]["holidays"] = ["2026-12-25"]
    doc["site"]["public_url"] = "mpp.bogorkota.go.id"
    with pytest.raises(ConfigError, match="site: public_url: must be an http"):
        config.parse(doc)
    doc["site"]["public_url"] = "https://mpp.bogorkota.go.id/"
    site = config.parse(doc)
    assert site.public_url == "https://mpp.bogorkota.go.id" and site.holidays == ("2026-12-25",)
    assert config.parse(site.to_dict()).to_dict() == site.to_dict()  # round trip
    public = site.public()
    assert public["holidays"] == ["2026-12-25"] and public["services"][1]["hours"] is None


async def test_store_refuses_tickets_outside_hours(store: Store, clock: FakeClock) -> None:
    doc = _doc(hours=WEEK)
    doc["site"]["holidays"] = ["2026-12-25"]
    site = config.parse(doc, site_id=fresh_site_id("h"))
    await store.load_config(site)
    clock.now = at("2026-11-30T07:59:00")
    with pytest.raises(Conflict) as refused:
        await store.issue(site, "ktp-el", priority=False, idem=None)
    assert refused.value.code == "service_closed_now"
    assert refused.value.details == {"next_open": "2026-11-30T08:00+07:00"}
    clock.now = at("2026-11-30T08:00:00")
    assert (await store.issue(site, "ktp-el", priority=False, idem=None))["number"] == "KT001"
    # another service has no hours: always open, but not on a holiday
    clock.now = at("2026-12-25T10:00:00")
    with pytest.raises(Conflict) as holiday:
        await store.issue(site, "ktp-el-cetak", priority=False, idem=None)
    assert holiday.value.code == "holiday"


async def test_http_answer_with_next_open(tmp_path, redis_url: str) -> None:
    """Through the API with a live server on a FakeClock: 409 with `next_open`, 201
    inside the hours, 409 `holiday`; the site document shows hours and holidays."""
    clock = FakeClock(at("2026-11-30T07:00:00"))
    live = LiveServer(redis_url, clock=clock)
    live.start()
    try:
        doc = _doc(hours=WEEK)
        doc["site"]["holidays"] = ["2026-12-25"]
        site_id = fresh_site_id("h")
        live.run(live.store.load_config(config.parse(doc, site_id=site_id)))
        url = f"/api/v1/sites/{site_id}/tickets"
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=live.url, headers=auth) as c:
            r = await c.post(url, json={"service": "ktp-el"})
            assert r.status_code == 409, r.text
            err = r.json()["error"]
            assert err["code"] == "service_closed_now"
            assert err["next_open"] == "2026-11-30T08:00+07:00"
            assert "Layanan dibuka pukul 08.00" in err["message"]
            clock.now = at("2026-11-30T09:00:00")
            assert (await c.post(url, json={"service": "ktp-el"})).status_code == 201
            clock.now = at("2026-12-25T09:00:00")
            r = await c.post(url, json={"service": "ktp-el-cetak"})
            assert r.status_code == 409 and r.json()["error"]["code"] == "holiday"
            public = (await c.get(f"/api/v1/sites/{site_id}")).json()
            assert public["holidays"] == ["2026-12-25"]
            assert public["services"][0]["hours"] == WEEK
    finally:
        live.stop()


async def test_kiosk_says_when_a_service_opens_and_prints_the_public_url(
    server: LiveServer, page: Any
) -> None:
    """The kiosk shows the closed-now message with the next opening in Indonesian, and
    the ticket's link and QR code carry the site's public_url."""
    from display.ticket import qr_svg
    from tests.test_kiosk_page import pair

    doc = _doc()
    later = hours.WEEKDAYS[(datetime.now(UTC).astimezone().weekday() + 2) % 7]
    doc["services"][0]["hours"] = {later: "08:00-09:00"}  # not open today
    doc["site"]["public_url"] = "https://mpp.contoh.go.id"
    site_id = fresh_site_id("h")
    server.run(server.store.load_config(config.parse(doc, site_id=site_id)))
    await pair(page, server, site_id)
    await page.locator('button.tile[data-agency="disdukcapil"]').click()
    closed = page.locator('button.service[data-service="ktp-el"]')
    await expect(closed).to_be_disabled()  # said before a tap, not after
    await expect(closed).to_contain_text(re.compile(r"Buka .*08\.00"))
    await page.locator('button.service[data-service="ktp-el-cetak"]').click()
    link = page.locator("#ticket-link")
    await expect(link).to_be_visible()
    ticket_id = await page.locator("#ticket").get_attribute("data-ticket")
    expected = f"https://mpp.contoh.go.id/t/{site_id}/{ticket_id}"
    await expect(link).to_have_text(expected)  # printed as text: a kiosk is no browser
    async with httpx.AsyncClient(base_url=server.url) as http:
        svg = await http.get(f"/qr/{site_id}/{ticket_id}.svg")
    assert svg.content == qr_svg(expected)


def test_breaks_left_today_in_seconds_from_now() -> None:
    breaks = {"mon": "12:00-13:00", "fri": "11:30-13:00,15:00-24:00"}
    # Monday 2026-11-30, 11:00 in Jakarta: the break starts in an hour, lasts an hour
    assert hours.windows_left(breaks, TZ, at("2026-11-30T11:00:00")) == ((3600.0, 7200.0),)
    # during it: started 30 minutes ago, ends in 30; after it: nothing left today
    assert hours.windows_left(breaks, TZ, at("2026-11-30T12:30:00")) == ((-1800.0, 1800.0),)
    assert hours.windows_left(breaks, TZ, at("2026-11-30T13:00:00")) == ()
    # a weekday not named has none; a range to 24:00 ends at midnight
    assert hours.windows_left(breaks, TZ, at("2026-12-01T12:30:00")) == ()
    assert hours.windows_left(breaks, TZ, at("2026-12-04T14:00:00")) == ((3600.0, 36000.0),)
    assert hours.windows_left(None, TZ, at("2026-12-04T14:00:00")) == ()


def test_counter_breaks_in_the_configuration() -> None:
    doc = config.load_demo("h").to_dict()
    doc["counters"][0]["breaks"] = {"mon": "12:00-13:00", "fri": "11:30-13:00"}
    site = config.parse(doc)
    assert site.counters[0].breaks == {"mon": "12:00-13:00", "fri": "11:30-13:00"}
    assert site.counters[2].breaks is None and "breaks" not in site.to_dict()["counters"][2]
    assert config.parse(site.to_dict()).to_dict() == site.to_dict()  # round trip
    counter = doc["counters"][0]["id"]
    for bad, message in (
        ({"monday": "12:00-13:00"}, "breaks: 'monday' is not a weekday"),
        ({"fri": "13:00-11:30"}, "breaks: fri: '13:00-11:30' ends before it starts"),
    ):
        doc["counters"][0]["breaks"] = bad
        with pytest.raises(ConfigError, match=rf'counters\[0\] \(id "{counter}"\): {message}'):
            config.parse(doc)


async def test_the_monitor_knows_a_counters_break(store: Store, clock: FakeClock) -> None:
    """During its break a paused counter shows when it is back and raises no long-pause
    alert; still away five minutes after its break: `break_over`. One closed long
    before its break (for the day) raises none."""
    doc = config.load_demo("h").to_dict()
    first, second = doc["counters"][0]["id"], doc["counters"][1]["id"]
    for counter in doc["counters"][:2]:
        counter["breaks"] = {"mon": "12:00-13:00"}
    site = config.parse(doc, site_id=fresh_site_id("h"))
    await store.load_config(site)
    clock.now = at("2026-11-30T09:00:00")  # a Monday
    await store.counter_action(site, second, "close", idem=None)
    clock.now = at("2026-11-30T11:58:00")
    await store.counter_action(site, first, "pause", idem=None)

    def about(doc: dict[str, Any], counter: str) -> tuple[Any, list[str]]:
        state = next(c for c in doc["counters"] if c["id"] == counter)
        kinds = [a["kind"] for a in doc["alerts"] if a.get("counter") == counter]
        return state["break_until"], kinds

    clock.now = at("2026-11-30T12:45:00")  # paused 47 minutes, within its break
    floor = await reports.floor(store, site, with_id=False)
    assert about(floor, first) == ("2026-11-30T13:00:00+07:00", [])
    assert about(floor, second) == ("2026-11-30T13:00:00+07:00", [])
    clock.now = at("2026-11-30T13:04:00")  # inside the grace
    floor = await reports.floor(store, site, with_id=False)
    assert about(floor, first) == (None, ["long_pause"])
    clock.now = at("2026-11-30T13:06:00")
    floor = await reports.floor(store, site, with_id=False)
    assert about(floor, first) == (None, ["break_over", "long_pause"])
    message = next(a["message"] for a in floor["alerts"] if a["kind"] == "break_over")
    assert message.endswith("istirahatnya selesai pukul 13.00.")
    assert about(floor, second) == (None, [])  # closed at 09:00: not for the break
