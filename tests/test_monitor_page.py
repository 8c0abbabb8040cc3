"""The live floor /monitor/{site} in headless Chromium against the live server: calls
made through the API appear within a second; the page's buttons act through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, Route, expect

from tests.conftest import SCREENSHOTS
from tests.test_reports_page import PASSWORD, issue, post, staff_login, staff_site


async def test_the_floor_is_live_and_its_buttons_act(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path)
    server.user("supri-m", PASSWORD, role="supervisor", site=site)
    budi = server.token("officer", site, name="Budi", counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=admin) as http,
        httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {budi}"}) as b,
    ):
        first = await issue(http, site, "ktp")
        second = await issue(http, site, "ktp")
        third = await issue(http, site, "kk")

        async with page.expect_websocket() as connecting:
            await staff_login(page, f"{server.url}/monitor/{site}", "supri-m")
        socket = await connecting.value
        await socket.wait_for_event("framereceived")
        loket1 = page.locator('#counters tr[data-counter="loket-1"]')
        await expect(loket1).to_be_visible()
        ktp = page.locator('#queues tr[data-service="ktp"]')
        await expect(ktp.locator('[data-col="waiting"]')).to_have_text("2")

        # A call made elsewhere shows here within a second.
        await post(b, f"/api/v1/sites/{site}/counters/loket-1/next")
        await expect(loket1.locator(".number")).to_have_text(first["number"], timeout=1000)
        await expect(ktp.locator('[data-col="waiting"]')).to_have_text("1", timeout=1000)
        monitor = (await http.get(f"/api/v1/sites/{site}/monitor")).json()
        counter = next(c for c in monitor["counters"] if c["id"] == "loket-1")
        assert counter["ticket"]["number"] == first["number"]
        await expect(loket1).to_contain_text("Budi")

        # Time in state counts up by itself.
        clock = loket1.locator("td.live")
        before = await clock.text_content()
        await expect(clock).not_to_have_text(before or "", timeout=2500)

        # Pause from the monitor: the counter is paused for everyone.
        await loket1.get_by_role("button", name="Jeda").click()
        await expect(loket1.locator('[data-role="status"]')).to_have_text("Jeda")
        await expect(page.locator("#message")).to_have_text("Loket 1 dijeda.")
        state = (await http.get(f"/api/v1/sites/{site}/counters/loket-1")).json()
        assert state["counter"]["status"] == "paused"
        await loket1.get_by_role("button", name="Lanjutkan").click()
        await expect(loket1.locator('[data-role="status"]')).to_have_text("Buka")

        # Close asks first; open again.
        loket2 = page.locator('#counters tr[data-counter="loket-2"]')
        await loket2.get_by_role("button", name="Tutup").click()
        await page.locator("#confirm-ok").click()
        await expect(loket2.locator('[data-role="status"]')).to_have_text("Tutup")
        await loket2.get_by_role("button", name="Buka").click()
        await expect(loket2.locator('[data-role="status"]')).to_have_text("Buka")

        # A queue row opens to its waiting tickets; cancel one of them.
        kk = page.locator('#queues tr[data-service="kk"]')
        await kk.get_by_role("button", name="Lihat tiket").click()
        tickets = page.locator('#queues tr[data-tickets-of="kk"]')
        await expect(tickets).to_contain_text(third["number"])
        await page.screenshot(path=str(SCREENSHOTS / "monitor.png"), full_page=True)
        await tickets.get_by_role("button", name="Batalkan").click()
        await page.locator("#confirm-ok").click()
        await expect(page.locator("#message")).to_have_text(f"Tiket {third['number']} dibatalkan.")
        # (a queue nobody waits in may leave the monitor document altogether)
        await expect(page.locator("#queues")).not_to_contain_text(third["number"])
        await expect(kk.locator('[data-col="waiting"]')).to_have_count(0)
        gone = (await http.get(f"/api/v1/sites/{site}/tickets/{third['id']}")).json()
        assert gone["ticket"]["status"] == "cancelled"
        await expect(ktp.locator('[data-col="waiting"]')).to_have_text("1")
        await ktp.get_by_role("button", name="Lihat tiket").click()
        await expect(page.locator('#queues tr[data-tickets-of="ktp"]')).to_contain_text(
            second["number"]
        )

        # An announcement reaches the TVs' event stream.
        seq = (await http.get(f"/api/v1/sites/{site}/state")).json()["seq"]
        await page.get_by_label("Pengumuman").fill("Layanan KTP-el ditutup pukul 14.00.")
        await page.get_by_role("button", name="Kirim ke TV").click()
        await expect(page.locator("#message")).to_have_text("Pengumuman terkirim ke layar TV.")
        events = (await http.get(f"/api/v1/sites/{site}/events", params={"since": seq})).json()
        said = [e for e in events["events"] if e["type"] == "site.announcement"]
        assert said and said[-1]["text"] == "Layanan KTP-el ditutup pukul 14.00."


async def test_a_queue_over_its_target_is_red(server: Any, page: Page, tmp_path: Path) -> None:
    """The server decides `breach` (oldest wait over the target); the page shows it red."""
    site = staff_site(server, tmp_path)
    server.user("supri-b", PASSWORD, role="supervisor", site=site)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}
    ) as http:
        await issue(http, site, "pbb")

    async def breach(route: Route) -> None:
        answer = await route.fetch()
        doc = await answer.json()
        for queue in doc["queues"]:
            if queue["service"] == "pbb":
                queue["breach"] = True
                queue["oldest_wait_s"] = 3600
        await route.fulfill(response=answer, body=json.dumps(doc))

    await page.route(f"**/api/v1/sites/{site}/monitor", breach)
    await staff_login(page, f"{server.url}/monitor/{site}", "supri-b")
    pbb = page.locator('#queues tr[data-service="pbb"]')
    await expect(pbb).to_have_attribute("data-breach", "true")
    await expect(pbb).to_contain_text("Melewati target")
    color = await pbb.locator(".oldest").evaluate("(el) => getComputedStyle(el).color")
    assert color == "rgb(180, 35, 24)"  # --danger
    await expect(page.locator('#queues tr[data-breach="true"]')).to_have_count(1)


async def test_a_counter_away_for_its_break_says_until_when(
    server: Any, page: Page, tmp_path: Path
) -> None:
    """The server decides `break_until` and the `break_over` alert (tests/test_hours.py);
    the page shows when a paused counter is due back, and the alert."""
    site = staff_site(server, tmp_path)
    server.user("supri-i", PASSWORD, role="supervisor", site=site)

    async def on_break(route: Route) -> None:
        answer = await route.fetch()
        doc = await answer.json()
        for counter in doc["counters"]:
            if counter["id"] == "loket-1":
                counter.update(status="paused", break_until="2026-11-30T13:00:00+07:00")
        doc["alerts"].append(
            {
                "kind": "break_over",
                "severity": "warning",
                "message": "Loket 2 belum buka lagi; istirahatnya selesai pukul 13.00.",
                "counter": "loket-2",
            }
        )
        await route.fulfill(response=answer, body=json.dumps(doc))

    await page.route(f"**/api/v1/sites/{site}/monitor", on_break)
    await staff_login(page, f"{server.url}/monitor/{site}", "supri-i")
    loket1 = page.locator('#counters tr[data-counter="loket-1"]')
    await expect(loket1.locator('[data-role="break"]')).to_have_text("istirahat s.d. 13.00")
    loket2 = page.locator('#counters tr[data-counter="loket-2"]')
    await expect(loket2).to_be_visible()
    await expect(loket2.locator('[data-role="break"]')).to_have_count(0)
    await expect(page.locator('#alerts [data-kind="break_over"]')).to_have_text(
        "Loket 2 belum buka lagi; istirahatnya selesai pukul 13.00."
    )


async def test_only_supervisors_of_the_site_and_admins(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path)
    server.user("budi-m", PASSWORD, role="officer", site=site, counters=["loket-1"])
    server.user("eva-m", PASSWORD, role="evaluator")
    await staff_login(page, f"{server.url}/monitor/{site}", "budi-m")
    await expect(page.locator("#view-denied")).to_contain_text("tidak memiliki akses ke monitor")
    await page.get_by_role("button", name="Keluar dan masuk dengan akun lain").click()
    await page.get_by_label("Nama pengguna").fill("eva-m")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk", exact=True).click()
    await expect(page.locator("#view-denied")).to_contain_text("evaluator")
