"""A lobby TV survives a server restart: it reconnects by itself, shows the call made
while the server was away, and announces it exactly once."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from server.store import Store
from tests.conftest import LiveServer
from tests.test_display_page import SILENT, open_tv


async def test_tv_catches_up_after_a_restart(redis_url: str, store: Store, page: Any) -> None:
    first = LiveServer(redis_url)
    first.start()
    site_id = first.new_site()
    site = await store.site(site_id)
    try:
        await open_tv(page, first, site_id)
        await page.evaluate(SILENT)
        await store.issue(site, "ktp-el", priority=False, idem=None)
        before = await store.next(site, "loket-1", actor="test", idem=None)
        assert before is not None
        spoken = "(a => [...a.spoken, ...a.queue])(window.loket.announcer)"
        await page.wait_for_function(f"() => {spoken}.length === 1", timeout=3000)
    finally:
        first.stop()
    await expect(page.locator("#offline")).to_be_visible(timeout=5000)

    # While the server is down an officer's call lands through another process.
    await store.issue(site, "ktp-el", priority=False, idem=None)
    missed = await store.next(site, "loket-2", actor="test", idem=None)
    assert missed is not None

    second = LiveServer(redis_url, port=first.port)
    second.start()
    try:
        await expect(page.locator("#offline")).to_be_hidden(timeout=15000)
        big = page.locator("body")
        await expect(big).to_contain_text(missed["number"], timeout=3000)
        await page.wait_for_function(f"() => {spoken}.length === 2", timeout=5000)
        announced = await page.evaluate(spoken)
        assert announced == [
            f"Nomor antrean {before['number']}, silakan menuju Loket 1",
            f"Nomor antrean {missed['number']}, silakan menuju Loket 2",
        ]
    finally:
        second.stop()
