"""A citizen's booking journey end to end, in three browsers on one live server
(issue 11, "Tests (in CI)": book on a phone-sized page, see the QR code, check in at the
kiosk by the code, the ticket appears on the TV when called; screenshots).

1. The phone (390x844) books at /book/{site}: agency → service → date → session → NIK
   and name → the booking, its code and a QR code of it.
2. The kiosk (paired with a kiosk token) takes the code on its check-in keypad and
   prints a ticket of the booked service.
3. An officer calls the next ticket through the API at a counter serving that service:
   the booked visitor's ticket (`booked_first`: before a walk-in who came earlier).
4. The lobby TV shows that number as called within a second and queues its
   announcement.

The server's clock is fixed (Monday 08:15 in Jakarta, inside the 08:00–10:00 session),
so the date the page offers, the session and the check-in window do not depend on when
the test runs: the booking page is given the server's time, check-in and numbering are
the server's. The browsers' clocks start at the same instant (Playwright's clock) so
the kiosk's and the TV's headers agree with it in the screenshots.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.conftest import SCREENSHOTS, FakeClock, LiveServer
from tests.test_display_page import SILENT, open_tv
from tests.test_kiosk_page import COUNT_PRINTS

# A Monday ahead of the wall clock, on purpose: every `loket serve` in the test session
# sweeps all sites' bookings by its own clock (bookings.py, _expire_loop), and the
# suite's real-clock server would expire a booking whose session is past in real time.
MONDAY = date(2036, 12, 1)
NIK_KEY = "test-nik-key"  # the key every test process uses (tests/test_bookings.py)
NIK = "3271019876543210"
NAME = "Dewi Lestari"
PHONE: ViewportSize = {"width": 390, "height": 844}
ANNOUNCEMENT = "Nomor antrean {number}, silakan menuju {counter}"  # set, not the default
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A local time in Jakarta (UTC+7) as the UTC instant the clock holds."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=7)


START = at(MONDAY, 8, 15)  # the server's fixed clock: inside the 08:00–10:00 session


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        redis_url,
        clock=FakeClock(START),
        nik_key=NIK_KEY,
        data_dir=tmp_path_factory.mktemp("journey"),
    )
    server.start()
    yield server
    server.stop()


# Three agencies, two of which take bookings (so the page asks for the agency). KTP-el
# takes bookings in a session that holds the server's 08:15; booked visitors go first
# (booked_first). Loket 1 serves KTP-el; Loket 2 and 3 other agencies' services only.
SITE: dict[str, Any] = {
    "site": {
        "id": "journey",
        "name": "MPP Uji Perjalanan",
        "timezone": "Asia/Jakarta",
        "announcement": ANNOUNCEMENT,
        "booking_check_in_margin_min": 30,
        "booked_first": True,
    },
    "agencies": [
        {"id": "dukcapil", "name": "Dinas Kependudukan Kota Uji", "short_name": "Disdukcapil"},
        {"id": "imigrasi", "name": "Kantor Imigrasi Kelas I Uji", "short_name": "Imigrasi"},
        {"id": "samsat", "name": "Samsat Kota Uji", "short_name": "Samsat"},
    ],
    "services": [
        {
            "id": "ktp",
            "agency": "dukcapil",
            "name": "Perekaman KTP-el",
            "prefix": "K",
            "booking_days_ahead": 7,
            "booking_sessions": [
                {"days": ALL_DAYS, "start": "08:00", "end": "10:00", "quota": 10},
                {"days": ALL_DAYS, "start": "10:00", "end": "12:00", "quota": 10},
            ],
        },
        {"id": "info", "agency": "dukcapil", "name": "Informasi", "prefix": "U"},
        {
            "id": "paspor",
            "agency": "imigrasi",
            "name": "Paspor Baru",
            "prefix": "B",
            "booking_sessions": [{"days": ALL_DAYS, "start": "09:00", "end": "11:00", "quota": 5}],
        },
        {"id": "pajak", "agency": "samsat", "name": "Pajak Kendaraan Tahunan", "prefix": "P"},
    ],
    "counters": [
        {"id": "loket-1", "name": "Loket 1", "agency": "dukcapil", "services": ["ktp", "info"]},
        {"id": "loket-2", "name": "Loket 2", "agency": "imigrasi", "services": ["paspor"]},
        {"id": "loket-3", "name": "Loket 3", "agency": "samsat", "services": ["pajak"]},
    ],
}


def counter_serving(service: str) -> dict[str, Any]:
    counter: dict[str, Any] = next(c for c in SITE["counters"] if service in c["services"])
    return counter


def watch_console(page: Page, problems: list[str], name: str) -> None:
    """Errors a page logs (a CSP violation, a failed import, an exception)."""

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"{name}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{name}: {error}"))


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[dict[str, BrowserContext]]:
    made = {
        "phone": await browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        ),
        "kiosk": await browser.new_context(viewport={"width": 1080, "height": 1920}),
        "tv": await browser.new_context(viewport={"width": 1920, "height": 1080}),
    }
    # The devices' clocks agree with the server's (an MPP's kiosk and TV keep good time):
    # their headers show the Monday morning the server lives in, and time flows on.
    for context in made.values():
        await context.clock.install(time=START)
        await context.clock.resume()
    yield made
    for context in made.values():
        await context.close()


async def test_book_on_a_phone_check_in_at_the_kiosk_called_on_the_tv(
    live: LiveServer, contexts: dict[str, BrowserContext], tmp_path: Path
) -> None:
    live.settings.clock.now = START  # type: ignore[attr-defined]
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps(SITE), encoding="utf-8")
    site = live.new_site(path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    phone, kiosk, tv = [await contexts[name].new_page() for name in ("phone", "kiosk", "tv")]
    for name, page in (("phone", phone), ("kiosk", kiosk), ("tv", tv)):
        watch_console(page, problems, name)

    # The lobby TV is on from the start, silent (no sound card in a test).
    await open_tv(tv, live, site)
    await tv.evaluate(SILENT)

    # A walk-in came earlier for the same service.
    kiosk_token = live.token("kiosk", site, name="kiosk-lobi")
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {kiosk_token}"}
    ) as http:
        walk_in = await http.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp"})
        assert walk_in.status_code == 201, walk_in.text
    assert walk_in.json()["ticket"]["number"] == "K001"

    # 1. The phone: agency → service → date → session → details → booking.
    await phone.goto(f"{live.url}/book/{site}")
    await expect(phone.get_by_role("heading", name="Pilih instansi")).to_be_visible()
    labels = await phone.locator(".choice .choice-label").all_inner_texts()
    assert labels == ["Disdukcapil", "Imigrasi"], labels  # Samsat takes no bookings
    await phone.get_by_role("button", name="Disdukcapil").click()
    await expect(phone.get_by_role("heading", name="Pilih layanan")).to_be_visible()
    await expect(phone.locator(".choice")).to_have_count(1)  # "Informasi" takes none
    await phone.get_by_role("button", name="Perekaman KTP-el").click()
    await expect(phone.get_by_role("heading", name="Pilih tanggal")).to_be_visible()
    today = phone.locator("button.date").first
    await expect(today).to_contain_text("Hari ini")  # the server's Monday, not the phone's
    await expect(today).to_contain_text("1 Des")
    await today.click()
    await expect(phone.get_by_role("heading", name="Pilih sesi")).to_be_visible()
    session = phone.locator("button.choice").first
    await expect(session).to_contain_text("08:00–10:00")
    await expect(session).to_contain_text("Sisa 10 tempat")
    await expect(session).to_be_enabled()  # under way at 08:15, still bookable
    await session.click()
    await expect(phone.get_by_role("heading", name="Data Anda")).to_be_visible()
    await expect(phone.locator(".chosen")).to_contain_text("Senin, 1 Desember 2036 · 08:00–10:00")
    await phone.get_by_label("NIK (16 digit, sesuai KTP/KK)").fill(
        f"{NIK[:4]} {NIK[4:8]} {NIK[8:12]} {NIK[12:]}"
    )
    await phone.get_by_label("Nama lengkap").fill(NAME)
    await phone.get_by_role("button", name="Pesan sekarang").click()

    await expect(phone.get_by_role("heading", name="Pemesanan berhasil")).to_be_visible()
    shown_code = await phone.locator("#code").inner_text()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4} [A-HJ-NP-Z2-9]{4}", shown_code), shown_code
    code = shown_code.replace(" ", "")
    qr = phone.get_by_role("img", name=f"Kode QR pemesanan {code}")
    await expect(qr).to_be_visible()
    await expect(qr).to_be_in_viewport()
    assert await qr.get_attribute("data-text") == code
    box = await qr.bounding_box()
    assert box and box["width"] >= 180 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    await expect(phone.locator(".kiosk-help")).to_contain_text("mulai pukul 07:30 sampai 10:00")
    await expect(phone.locator(".details")).to_contain_text(f"**** **** **** {NIK[-4:]}")
    assert NIK not in await phone.content()
    assert re.fullmatch(rf"{re.escape(live.url)}/book/{site}/[A-Za-z0-9_-]+", phone.url)
    booking_link = phone.url
    await phone.screenshot(path=str(SCREENSHOTS / "journey-book.png"), full_page=True)

    # 2. The kiosk: "Sudah booking? Check-in", the code on the keypad, a ticket prints.
    await kiosk.add_init_script(COUNT_PRINTS)
    await kiosk.goto(f"{live.url}/kiosk/{site}?token={kiosk_token}")
    assert "token" not in kiosk.url
    entry = kiosk.get_by_role("button", name="Sudah booking? Check-in")
    await expect(entry).to_be_visible()
    await entry.click()
    await expect(kiosk.locator("#screen-checkin")).to_be_visible()
    for char in code:
        await kiosk.locator(f'#code-keys button.key[data-key="{char}"]').click()
    await expect(kiosk.locator("#code .code-char.filled")).to_have_count(8)
    await kiosk.locator("#checkin-go").click()
    number = kiosk.locator("#ticket-number")
    await expect(number).to_have_text("K002")  # numbered at check-in, after the walk-in
    ticket_card = kiosk.locator("#ticket")
    await expect(ticket_card).to_contain_text("Perekaman KTP-el")
    await expect(ticket_card).to_contain_text(f"Booking {code} · sesi 08.00–10.00")
    await kiosk.wait_for_function("() => window.printed === 1", timeout=3000)
    await kiosk.screenshot(path=str(SCREENSHOTS / "journey-kiosk.png"))

    async with httpx.AsyncClient(base_url=live.url) as http:
        booking_id = booking_link.rsplit("/", 1)[1]
        booking = (await http.get(f"/api/v1/sites/{site}/bookings/{booking_id}")).json()
        assert booking["booking"]["status"] == "checked_in"
        assert booking["booking"]["ticket"]["number"] == "K002"

        # 3. The officer at a counter serving KTP-el calls the next ticket: the booking's,
        # before the walk-in's (booked_first).
        counter = counter_serving("ktp")
        officer = live.token("officer", site, name="petugas-1", counters=[counter["id"]])
        called_at = time.monotonic()
        response = await http.post(
            f"/api/v1/sites/{site}/counters/{counter['id']}/next",
            headers={"Authorization": f"Bearer {officer}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["ticket"]["number"] == "K002"

    # 4. The TV: the number as called within a second, its announcement queued.
    await expect(tv.locator("#call-number")).to_have_text("K002", timeout=1000)
    await expect(tv.locator("#call-counter")).to_have_text(counter["name"], timeout=1000)
    await expect(tv.locator("#call-service")).to_have_text("Perekaman KTP-el")
    announced = "(a => [...a.spoken, ...a.queue])(window.loket.announcer)"
    await tv.wait_for_function(f"() => {announced}.length >= 1", timeout=1000)
    assert time.monotonic() - called_at < 1.5
    assert await tv.evaluate(announced) == [
        ANNOUNCEMENT.format(number="K002", counter=counter["name"])
    ]
    await expect(tv.locator(f'.tile[data-counter="{counter["id"]}"] .tile-ticket')).to_have_text(
        "K002"
    )
    await tv.screenshot(path=str(SCREENSHOTS / "journey-tv.png"))

    # The phone's booking link now names the ticket.
    await phone.reload()
    await expect(phone.locator(".booking-status")).to_have_text("Sudah check-in")
    await expect(phone.locator(".ticket-line")).to_have_text("Nomor antrean Anda: K002")
    assert not problems, problems
