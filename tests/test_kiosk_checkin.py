"""The kiosk against a site whose times are built around the real clock (no FakeClock:
the browser and the server both read the wall clock): a booking session that holds
"now", a service that opens later. Check-in of a booking by keypad, USB scanner and
camera; the refusals in Indonesian; services outside their hours shown before a tap."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import tomli_w
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS
from tests.test_kiosk_page import pair

JAKARTA = ZoneInfo("Asia/Jakarta")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MARGIN_MIN = 30
_niks = itertools.count(1)

# A camera and a QR detector for headless Chromium (which has neither): the stream is a
# blank canvas; the detector "sees" whatever the test puts in window.scanned.
FAKE_CAMERA = """
window.scanned = null;
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  async detect() { return window.scanned ? [{ rawValue: window.scanned, format: "qr_code" }] : []; }
};
if (navigator.mediaDevices) {
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 48;
    canvas.getContext("2d").fillRect(0, 0, 64, 48);
    return canvas.captureStream(5);
  };
}
"""


def nik() -> str:
    return f"3271{next(_niks) + 500_000:012d}"


def session_hours(now: datetime) -> tuple[str, str]:
    """A session that holds `now`, on every weekday: from the previous hour (or
    midnight) to the end of the hour after next (at most 23:59)."""
    start = max(0, now.hour - 1)
    end = min(23, now.hour + 2)
    return f"{start:02d}:00", f"{end:02d}:59"


def later_hour(now: datetime) -> int:
    """An hour in which the "later" service opens: two hours from now (wrapping)."""
    return (now.hour + 2) % 24


def write_site(path: Path, now: datetime) -> Path:
    start, end = session_hours(now)
    later = later_hour(now)
    doc = {
        "site": {
            "id": "ci",
            "name": "MPP Uji Check-in",
            "timezone": "Asia/Jakarta",
            "booking_check_in_margin_min": MARGIN_MIN,
        },
        "agencies": [
            {"id": "dukcapil", "name": "Dinas Kependudukan Kota Uji", "short_name": "Disdukcapil"},
            {"id": "bpjs-kes", "name": "BPJS Kesehatan Cabang Uji", "short_name": "BPJS Kesehatan"},
        ],
        "services": [
            {
                "id": "ktp",
                "agency": "dukcapil",
                "name": "Perekaman KTP-el",
                "prefix": "K",
                "booking_sessions": [{"days": DAYS, "start": start, "end": end, "quota": 50}],
            },
            {
                "id": "arsip",
                "agency": "dukcapil",
                "name": "Legalisir Arsip",
                "prefix": "L",
                "hours": {d: f"{later:02d}:00-{later:02d}:59" for d in DAYS},
            },
            {"id": "umum", "agency": "dukcapil", "name": "Informasi", "prefix": "U"},
            {"id": "jkn", "agency": "bpjs-kes", "name": "Informasi JKN", "prefix": "J"},
        ],
        "counters": [
            {
                "id": "loket-1",
                "name": "Loket 1",
                "agency": "dukcapil",
                "services": ["ktp", "arsip", "umum"],
            },
            {"id": "loket-2", "name": "Loket 2", "agency": "bpjs-kes", "services": ["jkn"]},
        ],
    }
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


async def book(http: httpx.AsyncClient, site: str, day: str, session: str) -> dict[str, Any]:
    body = {"service": "ktp", "date": day, "session": session, "nik": nik(), "name": "Siti Aminah"}
    r = await http.post(f"/api/v1/sites/{site}/bookings", json=body)
    assert r.status_code == 201, r.text
    booking: dict[str, Any] = r.json()["booking"]
    return booking


def spaced(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


async def back_to_start(page: Page) -> None:
    await page.get_by_role("button", name="Selesai").click()
    await expect(page.locator("#screen-agencies")).to_be_visible()


async def test_check_in_by_keypad_scanner_and_camera(
    server: Any, page: Page, tmp_path: Path
) -> None:
    now = datetime.now(JAKARTA)
    if now.hour == 23 and now.minute >= 58:
        # sessions end by 23:59 and a booking checks in on its own date only
        pytest.skip("no session can hold the next minute before midnight in Jakarta")
    site = server.new_site(write_site(tmp_path / "site.toml", now))
    start, end = session_hours(now)
    session = f"{start.replace(':', '')}-{end.replace(':', '')}"
    today = now.date().isoformat()
    tomorrow = now.date() + timedelta(days=1)
    async with httpx.AsyncClient(base_url=server.url) as http:
        by_keypad, by_scanner, by_camera = [await book(http, site, today, session) for _ in "abc"]
        early = await book(http, site, tomorrow.isoformat(), session)

    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.add_init_script(FAKE_CAMERA)
    await pair(page, server, site)
    entry = page.get_by_role("button", name="Sudah booking? Check-in")
    await expect(entry).to_be_visible()

    # 1. The on-screen keypad.
    await entry.click()
    await expect(page.locator("#screen-checkin")).to_be_visible()
    go = page.locator("#checkin-go")
    await expect(go).to_be_disabled()
    for char in by_keypad["code"]:
        await page.locator(f'#code-keys button.key[data-key="{char}"]').click()
    await expect(page.locator("#code .code-char.filled")).to_have_count(8)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "kiosk-checkin.png"))
    await go.click()
    number = page.locator("#ticket-number")
    await expect(number).to_have_text("K001")
    ticket = page.locator("#ticket")
    await expect(ticket).to_contain_text("Perekaman KTP-el")
    await expect(ticket).to_contain_text(
        f"Booking {by_keypad['code']} · sesi {start.replace(':', '.')}–{end.replace(':', '.')}"
    )
    await page.wait_for_function("() => window.printed === 1", timeout=3000)
    await expect(page.locator("#done")).to_be_in_viewport(ratio=1)
    await back_to_start(page)

    # 2. A USB scanner on the start screen: it types the code (here as printed: lower
    # case with a dash would do too) and Enter, with no field focused.
    code = by_scanner["code"].lower()
    await page.keyboard.type(f"{code[:4]}-{code[4:]}")
    await page.keyboard.press("Enter")
    await expect(number).to_have_text("K002")
    await page.wait_for_function("() => window.printed === 2", timeout=3000)
    await back_to_start(page)

    # 3. The camera (BarcodeDetector), reading a link that carries the code.
    await entry.click()
    camera_button = page.get_by_role("button", name="Pindai dengan kamera")
    await expect(camera_button).to_be_visible()
    await camera_button.click()
    await expect(page.locator("#camera")).to_be_visible()
    await page.evaluate(
        "(code) => { window.scanned = `${location.origin}/book/x?code=${code}`; }",
        by_camera["code"],
    )
    await expect(number).to_have_text("K003")
    await expect(page.locator("#camera")).to_be_hidden()
    await back_to_start(page)

    # Refusals, in Indonesian, from the start screen (scanner) and the keypad.
    notice = page.locator("#notice-text")
    await page.keyboard.type("ZZZZ2222")
    await page.keyboard.press("Enter")
    await expect(notice).to_have_text(
        "Kode booking ZZZZ 2222 tidak ditemukan. "
        "Periksa kembali kodenya, atau tanyakan kepada petugas."
    )
    await page.get_by_role("button", name="OK", exact=True).click()

    opens = datetime.combine(tomorrow, time.fromisoformat(start), JAKARTA) - timedelta(
        minutes=MARGIN_MIN
    )
    when = ("" if opens.date() == now.date() else "besok ") + f"pukul {opens:%H.%M}"
    await page.keyboard.type(early["code"])
    await page.keyboard.press("Enter")
    await expect(notice).to_have_text(
        f"Check-in untuk booking ini baru dibuka {when}. Silakan kembali pada waktu tersebut."
    )
    await page.get_by_role("button", name="OK", exact=True).click()

    await page.keyboard.type(by_keypad["code"])
    await page.keyboard.press("Enter")
    await expect(notice).to_have_text("Booking ini sudah check-in dengan nomor antrean K001.")
    await page.get_by_role("button", name="OK", exact=True).click()

    # Too late: the server's answer as it comes after the session (the clock is real).
    await page.route(
        "**/check-in",
        lambda route: route.fulfill(
            status=409,
            json={"error": {"code": "too_late", "message": "Too late: the session is over."}},
        ),
    )
    await entry.click()
    await page.keyboard.type(early["code"])  # a keyboard types into the code on this screen
    await expect(page.locator("#code .code-char.filled")).to_have_count(8)
    await go.click()
    await expect(notice).to_have_text(
        "Sesi booking ini sudah berakhir. Silakan ambil nomor antrean biasa."
    )
    await expect(page.locator("#screen-checkin")).to_be_visible()


async def test_camera_option_only_with_a_barcode_detector(server: Any, page: Page) -> None:
    site = server.new_site()
    await page.add_init_script("delete window.BarcodeDetector;")
    await pair(page, server, site)
    await page.get_by_role("button", name="Sudah booking? Check-in").click()
    await expect(page.locator("#code-keys button.key")).to_have_count(34)
    await expect(page.locator("#camera-open")).to_be_hidden()


async def test_services_outside_their_hours_are_shown_before_a_tap(
    server: Any, page: Page, tmp_path: Path
) -> None:
    now = datetime.now(JAKARTA)
    site = server.new_site(write_site(tmp_path / "site.toml", now))
    later = later_hour(now)
    expected = (
        f"Buka pukul {later:02d}.00" if later > now.hour else f"Buka besok pukul {later:02d}.00"
    )
    await pair(page, server, site)
    await page.locator('button.tile[data-agency="dukcapil"]').click()
    arsip = page.locator('button.service[data-service="arsip"]')
    await expect(arsip).to_be_disabled()
    await expect(arsip).to_contain_text(expected)
    await expect(page.locator('button.service[data-service="umum"]')).to_be_enabled()
    # English too
    await page.get_by_role("button", name="English").click()
    await expect(arsip).to_contain_text(f"{later:02d}:00")
