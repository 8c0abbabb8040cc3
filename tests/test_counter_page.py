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

        # An officer of exactly one counter goes straight to it: no picker.
        await log_in(page, server, site)
        number = page.locator("#ticket-number")
        await expect(number).to_have_text("—")
        await expect(page.locator("#view-pick")).to_be_hidden()
        await expect(page.locator("#counter-name")).to_have_text("Loket 1")
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
        await expect(number).to_have_text(first)
        # Should the first answer beat the second click, that click asks whether the
        # (never started) ticket was served: cancelling it leaves one ticket called.
        # (Asked once the first answer is shown: the dialog cannot come later.)
        unstarted = page.locator("#unstarted-dialog")
        if await unstarted.is_visible():
            await page.keyboard.press("Escape")
        await expect(unstarted).to_be_hidden()
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


CONTRAST_JS = """(pairs) => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(rgb(a)), lum(rgb(b))].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  return pairs.map(([a, b]) => ratio(a, b));
}"""


async def contrast(page: Page, pairs: list[tuple[str, str]]) -> list[float]:
    ratios: list[float] = await page.evaluate(CONTRAST_JS, pairs)
    return ratios


async def test_keys_follow_the_focus_and_every_button_shows_its_focus(
    server: Any, page: Page
) -> None:
    """Space presses the focused button, never Next as well; shortcuts act only while
    the focus is on the page; every button has a visible focus ring (>= 3:1); the
    shortcut hints read at >= 4.5:1."""
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        first, second = [await issue_ticket(http, site, "ktp-el") for _ in range(2)]
        await log_in(page, server, site)
        number = page.locator("#ticket-number")
        next_button = page.locator('[data-action="next"]')
        await expect(next_button).to_be_enabled()
        await next_button.click()
        await expect(number).to_have_text(first["number"])
        await expect(page.locator('[data-action="start"]')).to_be_enabled()

        # Tab to "Mulai layani": a ring shows where the keyboard is.
        await page.locator('[data-action="recall"]').focus()
        await page.keyboard.press("Tab")
        start = page.locator('[data-action="start"]')
        await expect(start).to_be_focused()
        ring = await start.evaluate(
            "(el) => { const s = getComputedStyle(el); return [el.matches(':focus-visible'),"
            " s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,"
            " getComputedStyle(document.body).backgroundColor]; }"
        )
        assert ring[0] and ring[1] == "solid" and ring[2] >= 2, ring
        (ring_contrast,) = await contrast(page, [(ring[3], ring[4])])
        assert ring_contrast >= 3, ring

        # Space presses it: Start, and nothing else (no Next, no dialog).
        await page.keyboard.press("Space")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        await expect(number).to_have_text(first["number"])
        assert (await ticket_now(http, site, second["id"]))["status"] == "waiting"

        # Every button of the console gets the same ring from the keyboard.
        rings = await page.evaluate(
            """() => [...document.querySelectorAll('button')]
              .filter((b) => b.offsetParent && !b.disabled && !b.closest('dialog'))
              .map((b) => { b.focus(); const s = getComputedStyle(b);
                return [b.textContent.trim(), b.matches(':focus-visible'), s.outlineStyle,
                        parseFloat(s.outlineWidth), s.outlineColor]; })"""
        )
        assert len(rings) >= 8, rings
        body = await page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        ratios = await contrast(page, [(r[4], body) for r in rings])
        for r, ratio in zip(rings, ratios, strict=True):
            assert r[1] and r[2] == "solid" and r[3] >= 2 and ratio >= 3, (r, ratio)

        # The shortcut hints: their own colour on their button's background, >= 4.5:1.
        hints = await page.evaluate(
            """() => [...document.querySelectorAll('#actions .act:not(:disabled) kbd')]
              .filter((k) => k.offsetParent).map((k) => [k.textContent, getComputedStyle(k).color,
                getComputedStyle(k.closest('button')).backgroundColor,
                Number(getComputedStyle(k).opacity)])"""
        )
        assert len(hints) >= 4, hints
        ratios = await contrast(page, [(h[1], h[2]) for h in hints])
        for h, ratio in zip(hints, ratios, strict=True):
            assert h[3] == 1 and ratio >= 4.5, (h, ratio)

        # A shortcut on a focused button does nothing; Esc gives the focus back to the
        # page, and then Space is Next.
        await page.locator("#lang").focus()
        await page.keyboard.press("n")
        await page.keyboard.press("d")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        assert (await ticket_now(http, site, first["id"]))["status"] == "serving"
        await page.keyboard.press("Escape")
        await page.wait_for_function("() => document.activeElement === document.body")
        await page.keyboard.press("Space")
        await expect(number).to_have_text(second["number"])
        assert (await ticket_now(http, site, first["id"]))["status"] == "done"


async def test_transfer_needs_an_explicit_choice(server: Any, page: Page) -> None:
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        first, second = [await issue_ticket(http, site, "ktp-el") for _ in range(2)]
        await log_in(page, server, site)
        dialog = page.locator("#transfer-dialog")
        ok = page.locator("#transfer-ok")
        await page.locator('[data-action="next"]').click()
        await expect(page.locator("#ticket-number")).to_have_text(first["number"])
        await page.keyboard.press("s")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        await expect(page.locator('[data-action="next"]')).to_be_enabled()  # the answer too

        # Nothing is chosen beforehand: Enter does nothing.
        await page.keyboard.press("t")
        await expect(dialog).to_be_visible()
        await expect(dialog.locator('[aria-selected="true"]')).to_have_count(0)
        await expect(ok).to_be_disabled()
        await page.keyboard.press("Enter")
        await expect(dialog).to_be_visible()
        assert (await ticket_now(http, site, first["id"]))["status"] == "serving"
        # The ticket's own agency first, the others grouped under their names.
        groups = dialog.locator(".service-group-name")
        await expect(groups.first).to_contain_text("(instansi ini)")
        await expect(dialog.locator(".service-group", has_text="Kantor Imigrasi")).to_have_count(1)

        # Same agency: choose with the arrow keys, Enter confirms, no further question.
        await page.locator("#transfer-filter").fill("ktp-el-cetak")
        await expect(ok).to_be_disabled()
        await page.keyboard.press("ArrowDown")
        await expect(dialog.locator('[aria-selected="true"]')).to_contain_text("Cetak Ulang")
        await expect(ok).to_be_enabled()
        await page.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(page.locator("#message")).to_contain_text("dialihkan ke Cetak Ulang")
        moved = await ticket_now(http, site, first["id"])
        assert (moved["status"], moved["service"]) == ("waiting", "ktp-el-cetak")

        # Another agency: a click chooses, Alihkan asks "Pindahkan ke layanan instansi
        # lain?"; Batal leaves the ticket where it is.
        await page.locator('[data-action="next"]').click()
        await expect(page.locator("#ticket-number")).to_have_text(second["number"])
        # The stream can show the call before Next's answer; until then T is ignored.
        await expect(page.locator('[data-action="next"]')).to_be_enabled()
        confirm = page.locator("#confirm-dialog")
        for answer in ("Batal", "Ya, pindahkan"):
            await page.keyboard.press("t")
            await page.locator("#transfer-filter").fill("paspor baru")
            group = dialog.locator(".service-group", has_text="Kantor Imigrasi")
            await group.get_by_role("option", name="Paspor Baru (Dewasa)").click()
            await expect(page.locator("#transfer-choice")).to_contain_text("instansi lain")
            await ok.click()
            await expect(confirm.locator("h2")).to_have_text("Pindahkan ke layanan instansi lain?")
            await expect(confirm).to_contain_text("Paspor Baru (Dewasa)")
            await confirm.get_by_role("button", name=answer).click()
            await expect(confirm).to_be_hidden()
        moved = await ticket_now(http, site, second["id"])
        assert (moved["status"], moved["service"]) == ("waiting", "paspor-baru")


async def test_undo_after_next_no_show_and_transfer(server: Any, page: Page) -> None:
    site = server.new_site()
    server.user("budi", PASSWORD, role="officer", site=site, counters=["loket-1"])
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        first, second = [await issue_ticket(http, site, "ktp-el") for _ in range(2)]
        await log_in(page, server, site)
        number = page.locator("#ticket-number")
        toast = page.locator("#undo-toast")
        message = page.locator("#message")
        await expect(page.locator("#view-console")).to_be_visible()
        await expect(page.locator('[data-action="next"]')).to_be_enabled()
        await expect(toast).to_be_hidden()

        # Next, then U: the called ticket waits again, in its place.
        await page.keyboard.press("n")
        await expect(number).to_have_text(first["number"])
        await expect(page.locator("#ticket-timer")).to_have_text("Dipanggil baru saja")
        await expect(toast).to_be_visible()
        await expect(toast).to_contain_text("Salah tekan Berikutnya?")
        await page.keyboard.press("u")
        await expect(message).to_have_text(
            f"Diurungkan. {first['number']} kembali menunggu di antrean."
        )
        await expect(toast).to_be_hidden()
        await expect(number).to_have_text("—")
        waiting = (await http.get(f"/api/v1/sites/{site}/counters/loket-1/waiting")).json()
        assert [t["id"] for t in waiting["tickets"]] == [first["id"], second["id"]]

        # No-show, then a click on Urungkan: called here again. The message follows
        # the language switch.
        await page.keyboard.press("n")
        await expect(number).to_have_text(first["number"])
        await expect(toast).to_be_visible()  # the answer came: the console is free
        await page.keyboard.press("x")
        await page.locator("#confirm-dialog").get_by_role("button", name="Ya, tidak hadir").click()
        await expect(message).to_have_text(f"{first['number']} ditandai tidak hadir.")
        await page.locator("#undo-button").click()
        await expect(message).to_have_text(f"Diurungkan. {first['number']} kembali di loket ini.")
        await expect(number).to_have_text(first["number"])
        assert (await ticket_now(http, site, first["id"]))["status"] == "called"
        await page.locator("#lang").click()
        await expect(message).to_have_text(f"Undone. {first['number']} is back at this counter.")
        await expect(page.locator("#ticket-timer")).to_have_text("Called just now")

        # Transfer, then U: back at the counter, out of the other queue.
        await page.keyboard.press("t")
        await page.locator("#transfer-filter").fill("ktp-el-cetak")
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await expect(page.locator("#undo-toast")).to_contain_text("Pressed Transfer by mistake?")
        await page.keyboard.press("u")
        await expect(message).to_have_text(f"Undone. {first['number']} is back at this counter.")
        back = await ticket_now(http, site, first["id"])
        assert (back["status"], back["service"], back["transfers"]) == ("called", "ktp-el", 0)

        # Something else changed since (here a recall by another device): refused.
        await page.locator("#lang").click()
        await page.keyboard.press("s")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        await expect(page.locator('[data-action="next"]')).to_be_enabled()
        await page.keyboard.press("n")
        await expect(number).to_have_text(second["number"])
        await expect(toast).to_be_visible()
        recalled = await http.post(f"/api/v1/sites/{site}/counters/loket-1/recall")
        assert recalled.status_code == 200, recalled.text
        await page.keyboard.press("u")
        await expect(message).to_contain_text("Tidak bisa diurungkan lagi")
        assert (await ticket_now(http, site, first["id"]))["status"] == "done"

        # "Dipanggil 3 menit lalu" after three minutes.
        three_min_ago = await page.evaluate("() => new Date(Date.now() - 185000).toISOString()")
        text = await page.evaluate(
            """async (calledAt) => {
              const { renderTimer } = await import('/static/counter/render.js');
              renderTimer({ counter: { ticket: { status: 'called', called_at: calledAt } } });
              return document.getElementById('ticket-timer').textContent;
            }""",
            three_min_ago,
        )
        assert text == "Dipanggil 3 menit lalu"
