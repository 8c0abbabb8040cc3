"""The booking page /book/{site} and a booking's page /book/{site}/{id}, in headless
Chromium at a phone's size (390x844), against a server whose clock the test sets."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS, FakeClock, LiveServer

IMG = SCREENSHOTS
MONDAY = date(2036, 12, 1)  # in the future: the real-clock servers of the suite expire
# the bookings of sessions already over in real time
NIK_KEY = "test-nik-key"  # the key every test process uses (tests/test_bookings.py)
PHONE = {"width": 390, "height": 844}
_niks = itertools.count(1)


def nik() -> str:
    return f"3271{next(_niks) + 500_000:012d}"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A local time in Jakarta (UTC+7) as the UTC instant the clock holds."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        redis_url,
        clock=FakeClock(at(MONDAY, 7, 45)),
        nik_key=NIK_KEY,
        data_dir=tmp_path_factory.mktemp("book-page"),
    )
    server.start()
    yield server
    server.stop()


def small_site(tmp_path: Path, quota: int = 2) -> Path:
    """One agency, one bookable service (two sessions a weekday, `quota` places each) and
    one that takes no bookings."""
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    doc = {
        "site": {"id": "bp", "name": "MPP Uji Pesan"},
        "agencies": [{"id": "dukcapil", "name": "Disdukcapil Uji", "short_name": "Dukcapil"}],
        "services": [
            {
                "id": "ktp",
                "agency": "dukcapil",
                "name": "Perekaman KTP-el",
                "prefix": "K",
                "booking_days_ahead": 7,
                "booking_sessions": [
                    {"days": weekdays, "start": "08:00", "end": "10:00", "quota": quota},
                    {"days": weekdays, "start": "10:00", "end": "12:00", "quota": quota},
                ],
            },
            {"id": "info", "agency": "dukcapil", "name": "Informasi", "prefix": "U"},
        ],
        "counters": [
            {"id": "loket-1", "name": "Loket 1", "agency": "dukcapil", "services": ["ktp", "info"]}
        ],
    }
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


async def watch_console(page: Page) -> list[str]:
    """Errors the page logs (a CSP violation, a failed module import, an exception);
    not the API's refusals, which the page shows in words."""
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def test_book_on_a_phone_then_open_check_in_and_cancel(live: LiveServer, page: Page) -> None:
    live.settings.clock.now = at(MONDAY, 7, 45)  # type: ignore[attr-defined]
    site = live.new_site()  # the demo: KTP-el and KK take bookings
    problems = await watch_console(page)
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live.url}/book/{site}")
    await expect(page.get_by_role("heading", name="Pilih instansi")).to_be_visible()
    # only agencies with services that take bookings
    agencies = page.locator(".choice")
    names = await agencies.locator(".choice-label").all_inner_texts()
    assert "Disdukcapil" in names and "Samsat" not in names
    await page.get_by_role("button", name="Disdukcapil").click()

    await expect(page.get_by_role("heading", name="Pilih layanan")).to_be_visible()
    services = await page.locator(".choice-label").all_inner_texts()
    assert "Perekaman KTP-el" in services and "Kartu Keluarga Baru" in services
    assert "Cetak Ulang KTP-el (Hilang/Rusak)" not in services  # takes no bookings
    await page.get_by_role("button", name="Perekaman KTP-el").click()

    # Dates: today (the server's Monday) to 14 days ahead, no Sundays.
    await expect(page.get_by_role("heading", name="Pilih tanggal")).to_be_visible()
    dates = page.locator("button.date")
    await expect(dates.first).to_contain_text("Hari ini")
    await expect(dates.first).to_contain_text("1 Des")
    labels = await dates.locator(".choice-label").all_inner_texts()
    assert not [label for label in labels if label.startswith("Min")]
    assert labels[-1].endswith("15 Des")  # 1 Des + 14 days
    # The phone's back button goes one step back.
    await page.go_back()
    await expect(page.get_by_role("heading", name="Pilih layanan")).to_be_visible()
    await page.go_forward()
    await expect(page.get_by_role("heading", name="Pilih tanggal")).to_be_visible()
    await dates.first.click()

    # Sessions with places left, from the slots API.
    await expect(page.get_by_role("heading", name="Pilih sesi")).to_be_visible()
    sessions = page.locator("button.choice")
    await expect(sessions).to_have_count(3)
    await expect(sessions.first).to_contain_text("08:00–10:00")
    await expect(sessions.first).to_contain_text("Sisa 20 tempat")
    await sessions.first.click()

    # NIK checked before it is sent.
    await expect(page.get_by_role("heading", name="Data Anda")).to_be_visible()
    await expect(page.locator(".chosen")).to_contain_text("Senin, 1 Desember 2036 · 08:00–10:00")
    someone = nik()
    await page.get_by_label("NIK (16 digit, sesuai KTP/KK)").fill(someone[:15])
    await page.get_by_label("Nama lengkap").fill("Siti Rahayu")
    await page.get_by_label("Nomor ponsel (tidak wajib)").fill("0812-3456-7890")
    await page.get_by_role("button", name="Pesan sekarang").click()
    nik_field = page.get_by_label("NIK (16 digit, sesuai KTP/KK)")
    await expect(page.locator(".field-error")).to_have_text(
        "NIK harus 16 angka (tanpa huruf). Sekarang: 15 angka."
    )
    await expect(nik_field).to_be_focused()
    await expect(nik_field).to_have_attribute("aria-invalid", "true")
    await nik_field.fill(f"{someone[:4]} {someone[4:8]} {someone[8:12]} {someone[12:]}")
    IMG.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(IMG / "book.png"))
    await page.get_by_role("button", name="Pesan sekarang").click()

    # The booking: code, QR code of the code, the secret link in the address bar.
    await expect(page.get_by_role("heading", name="Pemesanan berhasil")).to_be_visible()
    code = (await page.locator("#code").inner_text()).replace(" ", "")
    assert len(code) == 8
    qr = page.get_by_role("img", name=f"Kode QR pemesanan {code}")
    await expect(qr).to_be_visible()
    assert await qr.get_attribute("data-text") == code
    box = await qr.bounding_box()
    assert box and box["width"] >= 180
    assert page.url.startswith(f"{live.url}/book/{site}/")
    booking_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator(".details")).to_contain_text(f"**** **** **** {someone[-4:]}")
    await expect(page.locator(".details")).to_contain_text("+6281234567890")
    await expect(page.locator(".kiosk-help")).to_contain_text("mulai pukul 07:30 sampai 10:00")
    html = await page.content()
    assert someone not in html and someone[:12] not in html
    stored = await page.evaluate("() => JSON.stringify(localStorage)")
    assert someone not in stored
    await page.screenshot(path=str(IMG / "book-done.png"), full_page=True)

    async with httpx.AsyncClient(base_url=live.url) as http:
        api = (await http.get(f"/api/v1/sites/{site}/bookings/{booking_id}")).json()["booking"]
        assert api["code"] == code and api["status"] == "booked"

        # Opened later by its link; the start page lists it too.
        await page.goto(f"{live.url}/book/{site}")
        await page.get_by_role("link", name=f"{code} · Perekaman KTP-el").click()
        await expect(page.locator("#code")).to_have_text(f"{code[:4]} {code[4:]}")
        await expect(page.get_by_role("heading", name="Pemesanan Anda")).to_be_visible()
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("heading", name="Your booking")).to_be_visible()
        await expect(page.locator(".kiosk-help")).to_contain_text("from 07:30 until 10:00")
        await page.get_by_role("button", name="Bahasa Indonesia").click()

        # Shown at the kiosk: the code checks in; the page shows the queue number.
        kiosk = {"Authorization": f"Bearer {live.token('kiosk', site)}"}
        checked = await http.post(
            f"/api/v1/sites/{site}/bookings/{code.lower()}/check-in", headers=kiosk
        )
        assert checked.status_code == 201, checked.text
        number = checked.json()["ticket"]["number"]
        await page.reload()
        await expect(page.locator(".booking-status")).to_have_text("Sudah check-in")
        await expect(page.locator(".ticket-line")).to_have_text(f"Nomor antrean Anda: {number}")
        await page.get_by_role("link", name="Lihat posisi antrean").click()
        await expect(page.locator("#number")).to_have_text(number)

        # A second booking, cancelled from its page.
        other = await http.post(
            f"/api/v1/sites/{site}/bookings",
            json={
                "service": "kk-baru",
                "date": "2036-12-02",
                "session": "0800-1000",
                "nik": nik(),
                "name": "Budi",
            },
        )
        assert other.status_code == 201, other.text
        await page.goto(f"{live.url}/book/{site}/{other.json()['booking']['id']}")
        await page.get_by_role("button", name="Batalkan pemesanan").click()
        await page.get_by_role("button", name="Ya, batalkan").click()
        await expect(page.locator(".booking-status")).to_have_text("Dibatalkan")
        await expect(page.get_by_role("button", name="Batalkan pemesanan")).to_have_count(0)
        await expect(page.get_by_role("img")).to_have_count(0)  # no QR code to show

        assert not problems, problems

        # An unknown booking: a clear message, not a blank page.
        await page.goto(f"{live.url}/book/{site}/{'A' * 22}")
        await expect(page.locator(".book-error")).to_contain_text("tidak ditemukan")


async def test_refusals_in_clear_words(live: LiveServer, page: Page, tmp_path: Path) -> None:
    live.settings.clock.now = at(MONDAY, 7, 45)  # type: ignore[attr-defined]
    site = live.new_site(small_site(tmp_path, quota=2))
    problems = await watch_console(page)
    await page.set_viewport_size(PHONE)
    base = f"/api/v1/sites/{site}"
    body = {"service": "ktp", "date": "2036-12-02", "session": "0800-1000", "name": "Budi"}
    async with httpx.AsyncClient(base_url=live.url) as http:
        taken = nik()
        first = await http.post(f"{base}/bookings", json={**body, "nik": taken})
        assert first.status_code == 201, first.text

        # One agency only: the page starts at its services.
        await page.goto(f"{live.url}/book/{site}")
        await expect(page.get_by_role("heading", name="Pilih layanan")).to_be_visible()
        await expect(page.locator(".choice")).to_have_count(1)  # "Informasi" takes none
        await page.get_by_role("button", name="Perekaman KTP-el").click()
        await page.locator("button.date").nth(1).click()  # Tuesday 2 December
        session = page.locator("button.choice").first
        await expect(session).to_contain_text("Sisa 1 tempat")
        await session.click()

        # The same NIK again: already booked.
        form_nik = page.get_by_label("NIK (16 digit, sesuai KTP/KK)")
        await form_nik.fill(taken)
        await page.get_by_label("Nama lengkap").fill("Budi")
        await page.get_by_role("button", name="Pesan sekarang").click()
        error = page.locator("#book-error")
        await expect(error).to_contain_text("NIK ini sudah memiliki pemesanan untuk layanan ini")
        await expect(error).to_be_focused()
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("#book-error")).to_contain_text(
            "This NIK already has a booking for this service on that date"
        )
        await page.get_by_role("button", name="Bahasa Indonesia").click()

        # The last place goes to someone else meanwhile: session full, pick another.
        last = await http.post(f"{base}/bookings", json={**body, "nik": nik()})
        assert last.status_code == 201, last.text
        await form_nik.fill(nik())
        await page.get_by_role("button", name="Pesan sekarang").click()
        await expect(page.locator("#book-error")).to_contain_text("Maaf, sesi ini baru saja penuh")
        await page.locator("#book-error").get_by_role("button", name="Pilih sesi").click()
        await expect(page.get_by_role("heading", name="Pilih sesi")).to_be_visible()
        full = page.locator("button.choice").first
        await expect(full).to_contain_text("Penuh")
        await expect(full).to_be_disabled()
        await page.locator("button.choice").nth(1).click()  # 10:00-12:00

        # Too many tries from this address: rate limited (10 per 10 minutes).
        tries = 0
        while True:
            tries += 1
            response = await http.post(
                f"{base}/bookings", json={**body, "session": "1000-1200", "nik": "1"}
            )
            if response.status_code == 429:
                break
            assert response.status_code == 400 and tries < 10, response.text
        await page.get_by_label("NIK (16 digit, sesuai KTP/KK)").fill(nik())
        await page.get_by_label("Nama lengkap").fill("Budi")
        await page.get_by_role("button", name="Pesan sekarang").click()
        await expect(page.locator("#book-error")).to_contain_text(
            "Terlalu banyak percobaan pemesanan"
        )
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("#book-error")).to_contain_text("Too many booking attempts")
    assert not problems, problems


async def test_unknown_site_and_malformed_booking_are_404(live: LiveServer) -> None:
    site = live.new_site()
    async with httpx.AsyncClient(base_url=live.url) as http:
        for path in ("/book/no-such-site", f"/book/{site}/not-an-id", f"/book/{site}/{'x' * 30}"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "tidak" in response.text
        ok = await http.get(f"/book/{site}")
        assert ok.status_code == 200
        assert ok.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in ok.headers["content-security-policy"]
        assert "unsafe-inline" not in ok.headers["content-security-policy"]
        assert ok.headers["cache-control"] == "no-store"


async def test_the_language_switch_works_with_storage_blocked(live: LiveServer, page: Page) -> None:
    """Private mode may refuse localStorage: the choice is then not remembered, but the
    page still switches (and does not fail)."""
    site = live.new_site()
    problems = await watch_console(page)
    await page.add_init_script(
        """(() => {
          const deny = () => { throw new DOMException("blocked", "SecurityError"); };
          Storage.prototype.getItem = deny;
          Storage.prototype.setItem = deny;
        })()"""
    )
    await page.goto(f"{live.url}/book/{site}")
    await expect(page.get_by_role("heading", name="Pilih instansi")).to_be_visible()
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Choose an agency")).to_be_visible()
    await expect(page.get_by_role("button", name="Bahasa Indonesia")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "en"
    await page.get_by_role("button", name="Bahasa Indonesia").click()
    await expect(page.get_by_role("heading", name="Pilih instansi")).to_be_visible()
    assert not problems, problems
