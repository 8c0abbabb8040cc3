"""The ticket kiosk /kiosk/{site} in headless Chromium, against the live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS

ROOT = Path(__file__).resolve().parent.parent
IMG = SCREENSHOTS


async def test_unpaired_kiosk_explains_pairing_and_issues_nothing(server: Any, page: Page) -> None:
    site = server.new_site()
    await page.goto(f"{server.url}/kiosk/{site}")
    help_box = page.locator("#pairing")
    await expect(help_box).to_be_visible()
    await expect(help_box).to_contain_text(f"loket token create --role kiosk --site {site}")
    await expect(help_box).to_contain_text(f"/kiosk/{site}?token=")
    await expect(page.locator("#app")).to_be_hidden()
    await expect(page.locator("button.tile, button.service")).to_have_count(0)

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

    # The QR code's target, also printed as a link, opens the visitor's status page.
    link = page.locator("#ticket-link")
    href = await link.get_attribute("href")
    assert href == f"{server.url}/t/{site}/{ticket_id}"
    await expect(link).to_have_text(href)
    await link.click()
    await expect(page).to_have_url(href)
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
