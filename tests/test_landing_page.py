"""The landing page `/`: every site with its pages by role, in Indonesian and English."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS


async def test_root_is_a_page_not_a_json_404(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "<script>" not in answer.text


async def test_the_demo_sites_pages_by_role(server: Any, page: Page) -> None:
    site = server.new_site()  # the MPP Kota Bogor demo
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(f"{server.url}/")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    if await page.locator("#filter-box").is_visible():
        await page.get_by_label("Cari situs").fill(site)
    card = page.locator(f'section[data-site="{site}"]')
    await expect(card).to_contain_text("Mal Pelayanan Publik Kota Bogor")
    expected = {
        "tv": f"/display/{site}",
        "kiosk": f"/kiosk/{site}",
        "counter": f"/counter/{site}",
        "monitor": f"/monitor/{site}",
        "reports": f"/reports/{site}",
        "evaluation": "/evaluation",
        "admin": f"/admin?site={site}",
    }
    for role, href in expected.items():
        item = card.locator(f'li[data-role="{role}"]')
        await expect(item.locator("a").first).to_have_attribute("href", href)
        assert len((await item.locator("p").first.text_content() or "").strip()) > 20
    # The demo's named TVs open with their own layout and filters.
    await expect(card.get_by_role("link", name="TV Lobby Utama")).to_have_attribute(
        "href", f"/display/{site}?display=tv-lobby"
    )
    await expect(card.locator('li[data-role="kiosk"]')).to_contain_text("token kios")
    await page.screenshot(path=str(SCREENSHOTS / "landing.png"), full_page=False)

    await page.get_by_role("button", name="English").click()
    await expect(card.locator('li[data-role="counter"]')).to_contain_text("Officers sign in")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("button", name="Bahasa Indonesia")).to_be_visible()

    # A link leads where it says.
    await page.get_by_role("button", name="Bahasa Indonesia").click()
    await card.locator('li[data-role="admin"] a').first.click()
    await expect(page).to_have_url(f"{server.url}/admin?site={site}")
    assert not errors, errors
