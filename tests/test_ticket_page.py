"""The visitor's status page /t/{site}/{id} and the rating tablet, in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS

ROOT = Path(__file__).resolve().parent.parent
IMG = SCREENSHOTS


async def issue(http: httpx.AsyncClient, site: str, service: str) -> dict[str, Any]:
    response = await http.post(f"/api/v1/sites/{site}/tickets", json={"service": service})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def test_status_page_follows_the_ticket_to_the_survey(server: Any, page: Page) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    await page.set_viewport_size({"width": 390, "height": 844})
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        await issue(http, site, "ktp-el")
        await issue(http, site, "ktp-el")
        mine = await issue(http, site, "ktp-el")

        await page.goto(f"{server.url}/t/{site}/{mine['id']}")
        await expect(page.locator("#number")).to_have_text(mine["number"])
        await expect(page.locator("#status-text")).to_have_text("Menunggu dipanggil")
        await expect(page.locator("#ahead")).to_have_text("2")
        await expect(page.locator("#wait")).to_contain_text("menit")
        await expect(page.locator("#conn")).to_have_text("Tersambung, diperbarui otomatis")
        IMG.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(IMG / "status-page.png"))

        # The two ahead are called: the position follows live.
        for _ in range(2):
            called = await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")
            assert called.status_code == 200, called.text
        await expect(page.locator("#ahead")).to_have_text("Anda berikutnya")

        # Called: the page turns into "go to Loket 1" within a second.
        called = await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")
        assert called.json()["ticket"]["number"] == mine["number"]
        call = page.locator("#call")
        await expect(call).to_be_visible(timeout=1000)
        await expect(call).to_contain_text("Silakan menuju Loket 1", timeout=1000)
        await page.get_by_role("button", name="Baik, saya menuju loket").click()
        await expect(call).to_be_hidden()

        # A recall shows it again.
        recalled = await http.post(f"/api/v1/sites/{site}/counters/loket-1/recall")
        assert recalled.status_code == 200, recalled.text
        await expect(call).to_be_visible(timeout=1000)
        await page.get_by_role("button", name="Baik, saya menuju loket").click()

        # Done: the survey; one tap sends it, once.
        finished = await http.post(f"/api/v1/sites/{site}/counters/loket-1/finish")
        assert finished.status_code == 200, finished.text
        survey = page.locator("#survey")
        await expect(survey).to_be_visible()
        await expect(survey.locator("summary")).to_contain_text("9 pertanyaan")
        await survey.get_by_role("button", name="Sangat baik").click()
        await expect(survey).to_contain_text("Terima kasih atas penilaian Anda!")
        again = await http.post(
            f"/api/v1/sites/{site}/tickets/{mine['id']}/rating", json={"score": 1}
        )
        assert again.status_code == 409
        ticket = (await http.get(f"/api/v1/sites/{site}/tickets/{mine['id']}")).json()["ticket"]
        assert ticket["rated"] is True

        # Opened again later: no second form.
        await page.reload()
        await expect(survey).to_contain_text("Terima kasih, penilaian sudah diterima")
        await expect(survey.locator("button.score")).to_have_count(0)


async def test_full_questionnaire_and_cancel(server: Any, page: Page) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    await page.set_viewport_size({"width": 390, "height": 844})
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        # Cancel while waiting, after a confirmation (the visitor has no credential).
        waiting = await issue(http, site, "ktp-el")
        await page.goto(f"{server.url}/t/{site}/{waiting['id']}")
        await page.get_by_role("button", name="Batalkan antrean").click()
        await page.get_by_role("button", name="Ya, batalkan").click()
        await expect(page.locator("#status-text")).to_have_text("Dibatalkan")
        await expect(page.get_by_role("button", name="Batalkan antrean")).to_be_hidden()

        # The full 9-element questionnaire, in English.
        served = await issue(http, site, "ktp-el")
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/finish")).status_code == 200
        await page.goto(f"{server.url}/t/{site}/{served['id']}")
        await page.get_by_role("button", name="English").click()
        survey = page.locator("#survey")
        await survey.locator("summary").click()
        elements = survey.locator("fieldset.element")
        await expect(elements).to_have_count(9)
        for index in range(9):
            await elements.nth(index).locator("button.answer").nth(index % 4).click()
        await survey.locator("textarea").fill("Antrean tertib.")
        await survey.locator("button.score-3").click()
        await expect(survey).to_be_visible()  # selecting does not send yet
        await survey.get_by_role("button", name="Send rating").click()
        await expect(survey).to_contain_text("Thank you for your rating!")


async def test_unknown_tickets_get_a_friendly_404(server: Any) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in (
            f"/t/{site}/AAAAAAAAAAAAAAAAAAAAAA",
            f"/t/{site}/not a ticket",
            f"/t/{site}/{'x' * 300}",
            "/t/no-such-site/AAAAAAAAAAAAAAAAAAAAAA",
            f"/qr/{site}/AAAAAAAAAAAAAAAAAAAAAA.svg",
            f"/rate/{site}/loket-999",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("text/html")
            assert "tidak" in response.text and "Traceback" not in response.text


async def test_rating_tablet_offers_the_survey_after_each_finish(server: Any, page: Page) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    token = server.token("kiosk", site, name="tablet-loket-1")
    await page.goto(f"{server.url}/rate/{site}/loket-1")
    await expect(page.locator("#pairing")).to_be_visible()
    # unpaired: a neutral notice for the public, not the server's commands
    await expect(page.locator("#pairing")).to_contain_text("Perangkat belum siap, hubungi petugas")
    await expect(page.locator("#pairing")).not_to_contain_text("loket token create")
    await page.goto(f"{server.url}/rate/{site}/loket-1?token={token}")
    assert page.url == f"{server.url}/rate/{site}/loket-1"
    await expect(page.locator("#rate-idle")).to_be_visible()
    await expect(page.locator("#conn")).to_have_attribute("data-online", "true")
    # live (snapshot or replay done): a finish from now on is an event, not a snapshot
    await expect(page.locator("#rate")).to_have_attribute("data-ready", "true")
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        ticket = await issue(http, site, "ktp-el")
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/finish")).status_code == 200
        await expect(page.locator("#rate-for")).to_contain_text(ticket["number"])
        await page.get_by_role("button", name="Baik", exact=True).click()
        await expect(page.locator("#rate-survey")).to_contain_text("Terima kasih")
        rated = (await http.get(f"/api/v1/sites/{site}/tickets/{ticket['id']}")).json()
        assert rated["ticket"]["rated"] is True


# Stub of the alert's sound: headless Chromium has no speakers, and the test counts the
# tries (the page's own count is window.loket.alerts).
SOUND_STUB = """
window.__played = 0;
HTMLMediaElement.prototype.play = function () {
  if (!this.muted) window.__played += 1;
  return Promise.resolve();
};
window.__vibrations = [];
navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
"""


async def test_phone_alert_sounds_when_near_and_when_called(server: Any, page: Page) -> None:
    site = server.new_site()  # the demo: notify_when_position = 3
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.add_init_script(SOUND_STUB)
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        for _ in range(4):
            await issue(http, site, "ktp-el")
        mine = await issue(http, site, "ktp-el")  # 5th in line
        await page.goto(f"{server.url}/t/{site}/{mine['id']}")
        await expect(page.locator("#ahead")).to_have_text("4")
        toggle = page.get_by_role("switch", name="Bunyikan & getarkan saat hampir tiba / dipanggil")
        await expect(toggle).to_have_attribute("aria-checked", "false")
        await expect(page.locator("#alert-help")).to_contain_text("urutan ke-3")

        # The tap switches it on and plays a sample (the tap unlocks sound).
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-checked", "true")
        await page.wait_for_function("() => window.__played === 1")
        assert await page.evaluate("() => window.loket.alerts.near") == 0

        # 4th: nothing yet; 3rd: the "near" alert, once.
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        await expect(page.locator("#ahead")).to_have_text("3")
        assert await page.evaluate("() => window.loket.alerts.near") == 0
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        await expect(page.locator("#ahead")).to_have_text("2")
        await page.wait_for_function("() => window.loket.alerts.near === 1")
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        await expect(page.locator("#ahead")).to_have_text("1")
        assert await page.evaluate("() => window.loket.alerts.near") == 1

        # Called: the "called" alert, with sound and vibration.
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        await expect(page.locator("#call")).to_be_visible()
        await page.wait_for_function("() => window.loket.alerts.called === 1")
        played = await page.evaluate("() => window.__played")
        assert played == 3  # the sample, near, called
        vibrations = await page.evaluate("() => window.__vibrations.length")
        assert vibrations == 3

        # Service starts: the green "go to" screen gives way to "being served at".
        await page.get_by_role("button", name="Baik, saya menuju loket").click()
        recalled = await http.post(f"/api/v1/sites/{site}/counters/loket-1/recall")
        assert recalled.status_code == 200, recalled.text
        await expect(page.locator("#call")).to_be_visible()
        await page.wait_for_function("() => window.loket.alerts.called === 2")
        started = await http.post(f"/api/v1/sites/{site}/counters/loket-1/start")
        assert started.status_code == 200, started.text
        await expect(page.locator("#call")).to_be_hidden()
        await expect(page.locator("#status-text")).to_have_text("Sedang dilayani di Loket 1")
        await expect(page.locator("#alert-box")).to_be_hidden()
        finished = await http.post(f"/api/v1/sites/{site}/counters/loket-1/finish")
        assert finished.status_code == 200, finished.text
        await expect(page.locator("#survey")).to_be_visible()


async def test_switched_off_alert_stays_silent(server: Any, page: Page) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.add_init_script(SOUND_STUB)
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        mine = await issue(http, site, "ktp-el")
        await page.goto(f"{server.url}/t/{site}/{mine['id']}")
        await expect(page.locator("#ahead")).to_have_text("Anda berikutnya")
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        await expect(page.locator("#call")).to_be_visible()
        alerts = await page.evaluate("() => window.loket.alerts")
        assert (alerts["near"], alerts["called"]) == (0, 0)
        assert await page.evaluate("() => window.__played + window.__vibrations.length") == 0


async def test_survey_error_comes_into_view_and_the_form_is_short(server: Any, page: Page) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    await page.set_viewport_size({"width": 390, "height": 844})
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        served = await issue(http, site, "ktp-el")
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/next")).status_code == 200
        assert (await http.post(f"/api/v1/sites/{site}/counters/loket-1/finish")).status_code == 200
        await page.goto(f"{server.url}/t/{site}/{served['id']}")
        survey = page.locator("#survey")
        await survey.locator("summary").click()
        elements = survey.locator("fieldset.element")
        await expect(elements).to_have_count(9)

        # Compact: the whole open form is under 2,000 px on a phone; a row per element.
        height = await survey.evaluate("(node) => node.getBoundingClientRect().height")
        assert height < 2000, height
        for index in range(9):
            boxes = [
                await b.bounding_box()
                for b in await elements.nth(index).locator("button.answer").all()
            ]
            assert len({round(b["y"]) for b in boxes if b}) == 1  # one row
            assert all(b and b["height"] >= 44 for b in boxes)  # touch targets

        # All nine answered, no overall score, "Kirim" at the bottom: the error comes into
        # view with the scores, and has the focus.
        for index in range(9):
            await elements.nth(index).locator("button.answer").nth(3 - index % 4).click()
        await survey.get_by_role("button", name="Kirim penilaian").click()
        error = survey.locator(".survey-error")
        await expect(error).to_have_text("Pilih nilai keseluruhan terlebih dahulu.")
        await expect(error).to_be_in_viewport()
        await expect(error).to_be_focused()
        await expect(survey.locator("button.score-4")).to_be_in_viewport()
        # the answers survive the error; picking the score and sending works
        await expect(survey.locator("button.answer[aria-pressed=true]")).to_have_count(9)
        await survey.locator("button.score-4").click()
        await expect(error).to_be_hidden()
        await survey.get_by_role("button", name="Kirim penilaian").click()
        await expect(survey).to_contain_text("Terima kasih atas penilaian Anda!")
        rated = (await http.get(f"/api/v1/sites/{site}/tickets/{served['id']}")).json()
        assert rated["ticket"]["rated"] is True
