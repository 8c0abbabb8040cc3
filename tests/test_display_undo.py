"""The lobby TV and an officer's undo (`ticket.reverted`): the undone call leaves the
screen, the ticket before it comes back, and nothing is announced again."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.test_display_page import SILENT, client, issue, next_ticket, open_tv


async def test_an_undone_next_takes_its_call_off_the_tv(server: Any, page: Page) -> None:
    site = server.new_site()
    async with client(server) as api:
        await open_tv(page, server, site)
        await page.evaluate(SILENT)
        first = await issue(api, site, "ktp-el")
        second = await issue(api, site, "ktp-el")
        assert (await next_ticket(api, site, "loket-1"))["number"] == first["number"]
        tile = page.locator('.tile[data-counter="loket-1"] .tile-ticket')
        await expect(tile).to_have_text(first["number"])
        assert (await next_ticket(api, site, "loket-1"))["number"] == second["number"]
        await expect(tile).to_have_text(second["number"])
        spoken = "() => window.loket.announcer.spoken.length + window.loket.announcer.queue.length"
        await page.wait_for_function(f"() => ({spoken})() === 2")

        undone = await api.post(f"/api/v1/sites/{site}/counters/loket-1/undo")
        assert undone.status_code == 200, undone.text
        # the first ticket is back at its counter; the second waits again, off the screen
        await expect(tile).to_have_text(first["number"])
        recent = page.locator(".recent-number")
        await expect(recent.filter(has_text=second["number"])).to_have_count(0)
        assert await page.evaluate(f"({spoken})") == 2  # nothing said about the undo
