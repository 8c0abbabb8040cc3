"""The officer console /counter/{site} in headless Chromium, against the live server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, Route, expect

from tests.conftest import SCREENSHOTS

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = SCREENSHOTS / "counter-console.png"
PASSWORD = "rahasia-123"


async def issue(http: httpx.AsyncClient, site: str, service: str) -> str:
    response = await http.post(f"/api/v1/sites/{site}/tickets", json={"service": service})
    assert response.status_code == 201, response.text
    number: str = response.json()["ticket"]["number"]
    return number


async def issue_ticket(http: httpx.AsyncClient, site: str, service: str) -> dict[str, Any]:
    response = await http.post(f"/api/v1/sites/{site}/tickets", json={"service": service})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def ticket_now(http: httpx.AsyncClient, site: str, ticket_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/v1/sites/{site}/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def log_in(page: Page, server: Any, site: str, query: str = "") -> None:
    await page.goto(f"{server.url}/counter/{site}{query}")
    await page.get_by_label("Nama pengguna").fill("budi")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()


async def test_unknown_site_is_a_friendly_404(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/counter/no-such-site")
    assert response.status_code == 404
    assert "Situs tidak ditemukan" in response.text and "no-such-site" in response.text


async def test_next_shows_the_ticket_here_and_on_the_tv(server: Any, page: Page) -> None:
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        first = await issue(http, site, "ktp-el")
        second = await issue(http, site, "ktp-el")
        others = [await issue(http, site, "ktp-el-ubah") for _ in range(3)]

        await log_in(page, server, site)
        await page.get_by_role("button", name="Loket 1").click()
        number = page.locator("#ticket-number")
        await expect(number).to_have_text("—")
        await expect(page.locator("#waiting-list")).to_contain_text(second)
        next_button = page.locator('[data-action="next"]')
        await expect(next_button).to_be_enabled()

        # The lobby TV, live once its event stream has sent the first message.
        tv = await page.context.new_page()
        async with tv.expect_websocket() as connecting:
            await tv.goto(f"{server.url}/display/{site}", wait_until="domcontentloaded")
        socket = await connecting.value
        await socket.wait_for_event("framereceived")

        # A double click calls exactly one ticket.
        await next_button.dblclick()
        # Should the first answer beat the second click, that click asks whether the
        # (never started) ticket was served: cancelling it leaves one ticket called.
        if await page.locator("#unstarted-dialog").is_visible():
            await page.keyboard.press("Escape")
        await expect(number).to_have_text(first)
        await expect(tv.locator("body")).to_contain_text(first, timeout=1000)
        await tv.close()
        await expect(page.locator("#ticket-status")).to_have_text("Dipanggil")
        await expect(next_button).to_be_enabled()
        state = (await http.get(f"/api/v1/sites/{site}/counters/loket-1")).json()
        assert state["counter"]["ticket"]["number"] == first
        waiting = (await http.get(f"/api/v1/sites/{site}/counters/loket-1/waiting")).json()
        assert [t["number"] for t in waiting["tickets"]] == [second, *others]
        assert state["counter"]["ticket"]["status"] == "called"

        # Keyboard: S starts serving; the waiting list no longer holds the called ticket.
        await page.keyboard.press("s")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        await expect(page.locator("#waiting-list")).not_to_contain_text(first)
        # The event stream may show it before the action's answer: wait for that too.
        await expect(next_button).to_be_enabled()

        # The answer to Next is lost after the server acted: the console retries with
        # the same Idempotency-Key, so exactly one more ticket is called.
        keys: list[str | None] = []

        async def drop_first_answer(route: Route) -> None:
            keys.append(route.request.headers.get("idempotency-key"))
            if len(keys) == 1:
                await route.fetch()
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/counters/loket-1/next", drop_first_answer)
        await page.keyboard.press("n")
        await expect(number).to_have_text(second)
        await expect(next_button).to_be_enabled(timeout=5000)
        assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
        waiting = (await http.get(f"/api/v1/sites/{site}/counters/loket-1/waiting")).json()
        assert [t["number"] for t in waiting["tickets"]] == others
        await expect(page.locator("#today-served")).to_have_text("1")
        await expect(page.locator("#waiting-list")).not_to_contain_text(second)
        await page.screenshot(path=str(SCREENSHOT))

        # Changed elsewhere (a supervisor pauses it): the console follows, only Resume
        # and the finishing actions remain.
        paused = await http.post(f"/api/v1/sites/{site}/counters/loket-1/pause")
        assert paused.status_code == 200, paused.text
        await expect(page.locator("#notice")).to_contain_text("Loket sedang jeda")
        await expect(next_button).to_be_disabled()
        await expect(page.locator('[data-action="resume"]')).to_be_enabled()
        await expect(page.locator('[data-action="finish"]')).to_be_enabled()


async def test_officer_cannot_work_at_another_counter(server: Any, page: Page) -> None:
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    await log_in(page, server, site, "?counter=loket-2")
    await expect(page.locator("#notice")).to_have_text("Anda tidak ditugaskan di loket ini.")
    await expect(page.locator('[data-action="next"]')).to_be_disabled()
    async with httpx.AsyncClient(base_url=server.url) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": "budi", "password": PASSWORD}
        )
        token = login.json()["token"]
        refused = await http.post(
            f"/api/v1/sites/{site}/counters/loket-2/next",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] in ("forbidden", "not_your_counter")


async def test_next_on_a_ticket_never_started_asks_served_or_no_show(
    server: Any, page: Page
) -> None:
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        first, second, third = [await issue_ticket(http, site, "ktp-el") for _ in range(3)]

        await log_in(page, server, site)
        await page.get_by_role("button", name="Loket 1").click()
        number = page.locator("#ticket-number")
        status = page.locator("#ticket-status")
        dialog = page.locator("#unstarted-dialog")
        next_button = page.locator('[data-action="next"]')
        await expect(next_button).to_be_enabled()

        # Nothing held: Next calls at once.
        await next_button.click()
        await expect(number).to_have_text(first["number"])
        await expect(status).to_have_text("Dipanggil")
        await expect(next_button).to_be_enabled()  # the answer too, not only the event

        # Called, never started: Next asks. The dialog itself has the focus, so a second
        # N, Space or Enter chooses nothing; Esc cancels and nothing happened.
        await page.keyboard.press("n")
        await expect(dialog).to_be_visible()
        await expect(dialog.locator("h2")).to_have_text(
            f"Nomor {first['number']} belum mulai dilayani. Apakah pengunjung sudah dilayani?"
        )
        await expect(dialog).to_be_focused()
        for key in ("n", "Space", "Enter"):
            await page.keyboard.press(key)
        await expect(dialog).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(number).to_have_text(first["number"])
        assert (await ticket_now(http, site, first["id"]))["status"] == "called"

        # "Tidak hadir": the ticket is a no-show, then the next one is called.
        await next_button.click()
        await expect(dialog).to_be_visible()
        if os.environ.get("LOKET_SCREENSHOTS"):
            await page.screenshot(path=str(SCREENSHOTS / "counter-unstarted.png"))
        await dialog.get_by_role("button", name="Tidak hadir").click()
        await expect(dialog).to_be_hidden()
        await expect(number).to_have_text(second["number"])
        await expect(page.locator("#message")).to_contain_text(
            f"{first['number']} ditandai tidak hadir."
        )
        assert (await ticket_now(http, site, first["id"]))["status"] == "no_show"
        assert (await ticket_now(http, site, second["id"]))["status"] == "called"
        await expect(page.locator("#today-no-show")).to_have_text("1")

        # The key S answers "sudah dilayani" (and is not also the Start shortcut).
        await page.keyboard.press("n")
        await expect(dialog).to_be_visible()
        await page.keyboard.press("s")
        await expect(dialog).to_be_hidden()
        await expect(number).to_have_text(third["number"])
        await expect(next_button).to_be_enabled()
        served = await ticket_now(http, site, second["id"])
        assert served["status"] == "done" and served["started_at"] is None

        # In English too; then Start, and Next on a ticket being served is one click.
        await page.locator("#lang").click()
        await page.keyboard.press("n")
        await expect(dialog.locator("h2")).to_have_text(
            f"Ticket {third['number']} was never started. Has the visitor been served?"
        )
        await expect(dialog.get_by_role("button", name="No-show")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await page.keyboard.press("s")
        await expect(status).to_have_text("Being served")
        await expect(next_button).to_be_enabled()
        await page.keyboard.press("n")
        await expect(page.locator("#message")).to_have_text("Nobody is waiting.")
        await expect(dialog).to_be_hidden()
        assert (await ticket_now(http, site, third["id"]))["status"] == "done"

        # The figures: one served without a start, one no-show.
        report = await http.get(f"/api/v1/sites/{site}/reports", params={"by": "site"})
        assert report.status_code == 200, report.text
        (row,) = report.json()["rows"]
        assert row["unstarted"] == 1
        assert row["no_show"] == 1
        assert row["served"] == 2
