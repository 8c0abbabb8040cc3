"""The ticket kiosk /kiosk/{site} in headless Chromium, against the live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from server import config
from tests.conftest import SCREENSHOTS, write_small_site

ROOT = Path(__file__).resolve().parent.parent
IMG = SCREENSHOTS


async def test_unpaired_kiosk_is_neutral_to_the_public_and_issues_nothing(
    server: Any, page: Page
) -> None:
    site = server.new_site()
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{server.url}/kiosk/{site}?display=kiosk-selatan")
    box = page.locator("#pairing")
    await expect(box).to_be_visible()
    await expect(box).to_contain_text("Kiosk belum siap, hubungi petugas")
    # no server command, no pairing address on the public screen (nor in the page)
    assert "loket token" not in await page.content()
    await expect(page.locator("#app")).to_be_hidden()
    await expect(page.locator("button.tile, button.service")).to_have_count(0)
    IMG.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(IMG / "kiosk-unready.png"))

    # Staff tap the discreet "Petugas" link: the instructions, for this kiosk's address.
    await page.get_by_role("link", name="Petugas").click()
    await expect(page).to_have_url(f"{server.url}/kiosk/{site}?display=kiosk-selatan&setup=1")
    await expect(box).to_contain_text(f"loket token create --role kiosk --site {site}")
    await expect(box).to_contain_text(f"/kiosk/{site}?display=kiosk-selatan&token=TOKEN")
    await expect(page.locator("#remote")).to_be_hidden()

    async with httpx.AsyncClient(base_url=server.url) as http:
        # a wrong token, a display token, a kiosk token of another site: refused, no cookie
        other = server.new_site()
        for token in ("nope", server.token("display", site), server.token("kiosk", other)):
            refused = await http.get(f"/kiosk/{site}", params={"token": token})
            assert refused.status_code == 403
            assert "Token ditolak" in refused.text
            assert "loket_device" not in refused.headers.get("set-cookie", "")
        unknown = await http.get("/kiosk/no-such-site")
        assert unknown.status_code == 404
        assert "no-such-site" in unknown.text
        no_display = await http.get(f"/kiosk/{site}", params={"display": "tv-lobby"})
        assert no_display.status_code == 404  # a TV is not a kiosk


# Headless Chromium never finishes a window.print() (and then refuses page.pdf), so the
# tests count print requests instead of printing.
COUNT_PRINTS = "window.print = () => { window.printed = (window.printed || 0) + 1; };"


async def pair(page: Page, server: Any, site: str, query: str = "") -> None:
    await page.add_init_script(COUNT_PRINTS)
    token = server.token("kiosk", site, name="kiosk-test")
    await page.goto(f"{server.url}/kiosk/{site}?token={token}{query}")
    # the token left the address bar; the device cookie holds it
    assert "token" not in page.url
    cookies = {c["name"]: c for c in await page.context.cookies()}
    device = cookies["loket_device"]
    assert device["value"] == token and device["httpOnly"] and device["sameSite"] == "Strict"
    assert device["expires"] > 9 * 365 * 24 * 3600
    assert not cookies["loket_csrf"]["httpOnly"]


async def test_kiosk_issues_a_ticket_with_a_qr_code(server: Any, page: Page) -> None:
    site = server.new_site()
    await page.set_viewport_size({"width": 1080, "height": 1920})
    await pair(page, server, site)
    assert page.url == f"{server.url}/kiosk/{site}"
    await expect(page.locator("#pairing")).to_be_hidden()
    tiles = page.locator("button.tile")
    await expect(tiles.first).to_be_visible()
    IMG.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(IMG / "kiosk.png"))

    # A closed service is shown as such and cannot be taken.
    await page.locator('button.tile[data-agency="imigrasi"]').click()
    closed = page.locator('button.service[data-service="paspor-simpatik"]')
    await expect(closed).to_be_disabled()
    await expect(closed).to_contain_text("Tutup")
    await closed.click(force=True)
    await expect(page.locator("#screen-ticket")).to_be_hidden()
    await page.get_by_role("button", name="Kembali").click()

    # Agency, service, one tap: a ticket with its number and a QR code.
    await page.locator('button.tile[data-agency="disdukcapil"]').click()
    await page.locator('button.service[data-service="ktp-el"]').click()
    await expect(page.locator("#ticket-number")).to_have_text("KT001")
    await page.wait_for_function("() => window.printed === 1", timeout=3000)
    ticket = page.locator("#ticket")
    await expect(ticket).to_contain_text("Perekaman KTP-el")
    await expect(ticket).to_contain_text("Tidak ada antrean sebelum Anda")
    qr = ticket.locator("img.t-qr")
    await expect(qr).to_be_visible()
    await page.wait_for_function(
        "() => document.querySelector('#ticket img.t-qr').naturalWidth > 0", timeout=3000
    )
    ticket_id = await ticket.get_attribute("data-ticket")
    assert ticket_id
    async with httpx.AsyncClient(base_url=server.url) as http:
        svg = await http.get(await qr.get_attribute("src") or "")
        assert svg.status_code == 200
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert "private" in svg.headers["cache-control"]
        assert svg.text.lstrip().startswith("<svg")
        missing = await http.get(f"/qr/{site}/{'x' * len(ticket_id)}.svg")
        assert missing.status_code == 404

    # The QR code's target, also printed as text (not a link a tap would follow away from
    # the kiosk), opens the visitor's status page.
    link = page.locator("#ticket-link")
    href = f"{server.url}/t/{site}/{ticket_id}"
    await expect(link).to_have_text(href)
    assert await page.locator("#ticket a").count() == 0
    await page.goto(href)
    await expect(page.locator("#number")).to_have_text("KT001")
    await expect(page.locator("#status-text")).to_have_text("Menunggu dipanggil")


async def test_printed_ticket_58mm(server: Any, browser: Any) -> None:
    site = server.new_site()
    context = await browser.new_context(
        viewport={"width": 1080, "height": 1920}, device_scale_factor=3
    )
    try:
        page = await context.new_page()
        await pair(page, server, site, "&display=kiosk-selatan")
        assert page.url == f"{server.url}/kiosk/{site}?display=kiosk-selatan"
        await expect(page.locator("body")).to_have_class(re.compile("paper-58mm"))
        await page.locator('button.tile[data-agency="samsat"]').click()
        await page.locator("button.service:enabled").first.click()
        await expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^[A-Z]{1,2}\d{3}$"))
        await page.wait_for_function(
            "() => document.querySelector('#ticket img.t-qr').naturalWidth > 0", timeout=3000
        )
        # As the printer sees it: 58 mm wide (219 CSS px), print stylesheet.
        await page.set_viewport_size({"width": 219, "height": 600})
        await page.emulate_media(media="print")
        await page.locator("#ticket").screenshot(path=str(IMG / "ticket-58mm.png"))
        pdf = await page.pdf(
            path=str(IMG / "ticket-58mm.pdf"), prefer_css_page_size=True, print_background=True
        )
        assert pdf.startswith(b"%PDF")
        # One page, 58 mm x 130 mm as the stylesheet's @page says (1 mm = 72 / 25.4 pt).
        assert b"/Count 1" in pdf
        boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert boxes, "no page size in the PDF"
        width_pt, height_pt = (float(v) for v in boxes[0])
        assert abs(width_pt * 25.4 / 72 - 58) < 1 and abs(height_pt * 25.4 / 72 - 130) < 1
    finally:
        await context.close()


# Every visible control of the page smaller than 44 x 44 CSS px (WCAG 2.5.8 asks 24;
# a kiosk, touched standing, gets the platforms' 44).
SMALL_TARGETS = """() => [...document.querySelectorAll('button, a[href], input, select')]
  .filter((n) => n.getClientRects().length && getComputedStyle(n).visibility !== 'hidden')
  .map((n) => [n.id || n.dataset.key || n.dataset.service || n.dataset.agency
                || n.textContent.trim(), n.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""


async def take_ticket(page: Page, agency: str = "disdukcapil", service: str = "ktp-el") -> None:
    await page.locator(f'button.tile[data-agency="{agency}"]').click()
    await page.locator(f'button.service[data-service="{service}"]').click()
    await expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^[A-Z]{1,2}\d{3}$"))


async def test_start_screen_and_ticket_fit_the_screen(server: Any, page: Page) -> None:
    """Landscape 1280x800 and 1920x1080, portrait 1080x1920: every agency on the start
    screen, "Selesai" on the ticket screen, no scrolling needed; targets >= 44 px."""
    site = server.new_site()
    await pair(page, server, site)
    for width, height, shot in (
        (1280, 800, "kiosk-landscape.png"),
        (1920, 1080, ""),
        (1080, 1920, ""),
    ):
        await page.set_viewport_size({"width": width, "height": height})
        tiles = page.locator("button.tile")
        await expect(tiles).to_have_count(13)
        await expect(tiles.last).to_be_in_viewport(ratio=1)
        await expect(page.get_by_role("button", name="Sudah booking? Check-in")).to_be_in_viewport()
        await expect(page.locator("#more")).to_be_hidden()  # nothing below the fold
        assert await page.evaluate(SMALL_TARGETS) == [], (width, height)
        if shot:
            await page.screenshot(path=str(IMG / shot))
        await take_ticket(page)
        await expect(page.locator("#done")).to_be_in_viewport(ratio=1)
        await expect(page.locator("#back-in")).to_contain_text("Kembali ke layar awal dalam")
        assert await page.evaluate(SMALL_TARGETS) == [], (width, height)
        if shot:
            await page.screenshot(path=str(IMG / "kiosk-ticket-landscape.png"))
        await page.get_by_role("button", name="Selesai").click()
        await expect(page.locator("#screen-agencies")).to_be_visible()


async def test_agencies_have_distinct_badges(server: Any, page: Page) -> None:
    site = server.new_site()
    await pair(page, server, site)
    await expect(page.locator("button.tile")).to_have_count(13)
    marks = await page.locator("button.tile .badge").evaluate_all(
        "(nodes) => nodes.map((n) => n.dataset.badge)"
    )
    assert len(set(marks)) == len(marks), marks
    bpjs = page.locator('button.tile[data-agency^="bpjs"] .badge')
    assert await bpjs.evaluate_all("(nodes) => nodes.map((n) => n.dataset.badge)") == [
        "BPJS-K",
        "BPJS-TK",
    ]
    # the tiles' colours come from CSSOM (the CSP forbids style attributes): not all alike
    hues = await page.locator("button.tile").evaluate_all(
        "(nodes) => nodes.map((n) => n.style.getPropertyValue('--hue'))"
    )
    assert all(hues) and len(set(hues)) > 5


async def test_many_services_get_a_search_and_a_scroll_cue(server: Any, page: Page) -> None:
    site = server.new_site()
    await page.set_viewport_size({"width": 1280, "height": 800})
    await pair(page, server, site)
    await page.locator('button.tile[data-agency="disdukcapil"]').click()
    services = page.locator("#services button.service")
    await expect(services).to_have_count(28)
    # more below the fold: the cue says so, and a tap on it scrolls
    more = page.locator("#more")
    await expect(more).to_be_visible()
    await expect(more).to_contain_text("Geser ke bawah")
    await more.click()
    await page.wait_for_function("() => window.scrollY > 100")
    await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    await expect(more).to_be_hidden()
    await page.evaluate("() => window.scrollTo(0, 0)")

    # the search: its own letters on screen (a kiosk has no keyboard)
    search = page.get_by_label("Cari layanan")
    await expect(search).to_be_visible()
    await search.click()
    keys = page.locator("#search-keys")
    await expect(keys).to_be_visible()
    for char in "AKTA":
        await keys.locator(f'button.key[data-key="{char}"]').click()
    await expect(search).to_have_value("akta")
    names = await services.evaluate_all(
        "(nodes) => nodes.map((n) => n.querySelector('.service-name').textContent)"
    )
    akta = [
        s.name
        for s in config.load_demo().services
        if s.agency == "disdukcapil" and "akta" in s.name.lower()
    ]
    assert names == akta and len(akta) > 5
    await expect(page.locator("#search-count")).to_have_text(f"{len(akta)} dari 28 layanan")
    await page.screenshot(path=str(IMG / "kiosk-search.png"))
    await keys.get_by_role("button", name="Hapus", exact=True).click()
    await expect(services).to_have_count(28)
    await search.fill("keluarga kartu")  # a keyboard, if the kiosk has one; any order
    await expect(services).to_have_count(3)  # new, change, reprint
    await search.fill("zzz")
    await expect(page.locator("#services")).to_contain_text("Tidak ada layanan yang cocok")
    await services.first.wait_for(state="detached")
    # leaving the agency forgets the search
    await page.get_by_role("button", name="Kembali").click()
    await page.locator('button.tile[data-agency="disdukcapil"]').click()
    await expect(search).to_have_value("")
    await expect(services).to_have_count(28)
    await expect(keys).to_be_hidden()
    # an agency with a few services needs no search
    await page.get_by_role("button", name="Kembali").click()
    await page.locator('button.tile[data-agency="bjb"]').click()
    await expect(page.locator("#services button.service")).to_have_count(5)
    await expect(page.locator("#search")).to_be_hidden()


async def test_ticket_screen_returns_to_the_start_by_itself(server: Any, page: Page) -> None:
    site = server.new_site()
    await pair(page, server, site)
    await take_ticket(page)
    await expect(page.locator("#back-in")).to_have_text("Kembali ke layar awal dalam 10 detik")
    await expect(page.locator("#screen-agencies")).to_be_visible(timeout=13_000)
    await expect(page.locator("#screen-ticket")).to_be_hidden()


async def test_a_phone_takes_a_phone_ticket_and_goes_to_its_status_page(
    server: Any, browser: Any
) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as http:
        doc = (await http.get(f"/api/v1/sites/{site}")).json()
    remote = [s["id"] for s in doc["services"] if s["remote_ticket"]]
    assert remote  # the demo lets phones take a few
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = await context.new_page()
        await page.goto(f"{server.url}/kiosk/{site}")
        box = page.locator("#remote")
        await expect(box).to_be_visible()
        await expect(box).to_contain_text("Ambil nomor antrean dari ponsel")
        await expect(box).to_contain_text("langsung melihat status antrean")
        await expect(page.locator("#pairing")).to_be_hidden()
        buttons = box.locator("button.service")
        await expect(buttons).to_have_count(len(remote))
        assert (
            await buttons.evaluate_all("(nodes) => nodes.map((n) => n.dataset.service)") == remote
        )
        assert await page.evaluate(SMALL_TARGETS) == []
        await page.screenshot(path=str(IMG / "kiosk-phone.png"))

        await buttons.first.click()
        await expect(page).to_have_url(re.compile(rf"/t/{site}/[\w-]+$"))
        number = page.locator("#number")
        await expect(number).to_have_text(re.compile(r"^[A-Z]{1,2}\d{3}$"))
        await expect(page.locator("#status-text")).to_have_text("Menunggu dipanggil")
        taken = await number.text_content()
        status_url = page.url

        # back on the kiosk page, the phone is reminded of its number
        await page.goto(f"{server.url}/kiosk/{site}")
        mine = page.locator("#remote-mine")
        await expect(mine).to_contain_text(f"Nomor Anda hari ini: {taken}")
        await mine.get_by_role("link", name="Lihat status antrean").click()
        await expect(page).to_have_url(status_url)
    finally:
        await context.close()


async def test_an_unpaired_phone_without_phone_tickets_is_told_so(
    server: Any, browser: Any, tmp_path: Path
) -> None:
    site = server.new_site(write_small_site(tmp_path / "small.toml"))
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = await context.new_page()
        await page.goto(f"{server.url}/kiosk/{site}")
        await expect(page.locator("#remote")).to_contain_text(
            "Nomor antrean di lokasi ini diambil di kiosk di lokasi."
        )
        await expect(page.locator("button.service")).to_have_count(0)
    finally:
        await context.close()
