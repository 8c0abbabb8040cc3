"""Accessibility (WCAG 2.2 AA): axe-core in Chromium on every page, in Indonesian and in
English, in each page's main states; no serious or critical violation. Then keyboard
only: the officer console's main flow and an admin edit.

axe-core is vendored for the tests only (tests/vendor/axe-core/, see its README); it is
injected as an init script of each browser context, never served to visitors. One
context per page, one demo site and one small staff site for the whole module.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.test_counter_page import contrast, issue_ticket
from tests.test_reports_page import PASSWORD, activity, staff_login, staff_site, today

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# The WCAG 2.0, 2.1 and 2.2 rules up to level AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Finite animations and transitions (a call's flash, a button fading in) are finished
# first: axe would otherwise measure a colour halfway.
RUN_AXE = """async (tags) => {
  for (const a of document.getAnimations()) {
    if (Number.isFinite(a.effect?.getComputedTiming().endTime)) a.finish();
  }
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\\n` + v.nodes.slice(0, 6)
      .map((n) => `    ${n.target.join(" ")}: ${(n.failureSummary || "").replace(/\\s+/g, " ")}`)
      .join("\\n"));
}"""


@dataclass
class Sites:
    demo: str  # the MPP Kota Bogor demo: public pages and the console
    staff: str  # a small site with real activity: reports, monitor, admin


@pytest.fixture(scope="module")
async def sites(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Sites:
    demo = server.new_site()
    staff = staff_site(server, tmp_path_factory.mktemp("a11y"), name="MPP Uji Aksesibilitas")
    await activity(server, staff)
    server.user("a11y-budi", PASSWORD, role="officer", site=demo, counters=["loket-1"])
    server.user("a11y-duo", PASSWORD, role="officer", site=demo, counters=["loket-1", "loket-2"])
    server.user("a11y-supri", PASSWORD, role="supervisor", site=staff)
    server.user("a11y-eva", PASSWORD, role="evaluator")
    server.user("a11y-admin", PASSWORD, role="admin")
    return Sites(demo, staff)


def admin_http(server: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}
    )


async def new_context(browser: Any, **options: Any) -> BrowserContext:
    context: BrowserContext = await browser.new_context(
        **{"viewport": {"width": 1366, "height": 768}, **options}
    )
    await context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
async def audit_page(browser: Any) -> AsyncIterator[Page]:
    context = await new_context(browser)
    yield await context.new_page()
    await context.close()


class Audit:
    """Runs axe in named states and keeps what it finds; `check()` fails with all of it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []

    async def __call__(self, state: str) -> None:
        lang = await self.page.evaluate("() => document.documentElement.lang")
        violations: list[str] = await self.page.evaluate(RUN_AXE, TAGS)
        self.found += [f"[{state}, lang={lang}] {v}" for v in violations]

    def check(self) -> None:
        assert not self.found, "axe found serious or critical violations:\n" + "\n".join(self.found)


# The language switch is written in the other language, and says so (WCAG 3.1.2).
SWITCH_LANG = """(selector) => [
  document.querySelector(selector).closest("[lang]").lang, document.documentElement.lang]"""


async def both_languages(audit: Audit, state: str, switch: str = "#lang") -> None:
    """Audit in the current language, switch, audit again, switch back."""
    page = audit.page
    html = page.locator("html")
    before = await html.get_attribute("lang")
    await audit(state)
    await own_language(page, switch)
    await page.locator(switch).click()
    await expect(html).not_to_have_attribute("lang", before or "")
    await audit(state)
    await own_language(page, switch)
    await page.locator(switch).click()
    await expect(html).to_have_attribute("lang", before or "")


async def own_language(page: Page, switch: str) -> None:
    own, page_lang = await page.evaluate(SWITCH_LANG, switch)
    assert own and own != page_lang, (switch, own, page_lang)


# -- public pages ---------------------------------------------------------------------


async def test_tv(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await page.goto(f"{server.url}/display/{sites.demo}")
    await expect(page.locator("body")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    await both_languages(audit, "idle", "#lang-toggle")
    async with admin_http(server) as http:
        issued = await issue_ticket(http, sites.demo, "ktp-el-wna")
        called = await http.post(f"/api/v1/sites/{sites.demo}/counters/loket-3/next")
        assert called.status_code == 200, called.text
    await expect(page.locator("#call-number")).to_have_text(issued["number"])
    await both_languages(audit, "a call", "#lang-toggle")
    await page.goto(f"{server.url}/display/{sites.demo}?display=tv-lantai-2")
    await expect(page.locator("body")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    await audit("portrait TV, filtered")
    audit.check()


async def test_kiosk(server: Any, sites: Sites, browser: Any) -> None:
    context = await new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = await context.new_page()
        audit = Audit(page)
        await page.add_init_script("window.print = () => {};")
        # Unpaired: the neutral notice; the staff instructions.
        await page.goto(f"{server.url}/kiosk/{sites.demo}?display=kiosk-selatan")
        await expect(page.locator("#pairing")).to_be_visible()
        await audit("unpaired")
        await page.goto(f"{server.url}/kiosk/{sites.demo}?display=kiosk-selatan&setup=1")
        await audit("unpaired, staff instructions")

        token = server.token("kiosk", sites.demo, name="a11y-kiosk")
        await page.goto(f"{server.url}/kiosk/{sites.demo}?token={token}")
        await expect(page.locator("button.tile").first).to_be_visible()
        await both_languages(audit, "start")
        await page.locator('button.tile[data-agency="disdukcapil"]').click()
        await expect(page.locator('button.service[data-service="ktp-el"]')).to_be_visible()
        await both_languages(audit, "service list")
        await page.locator('button.service[data-service="ktp-el"]').click()
        await expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^[A-Z]+\d{3}$"))
        await both_languages(audit, "ticket")
        await page.emulate_media(media="print")
        await audit("ticket, print view")
        await page.emulate_media(media="screen")
        await page.locator("#done").click()
        await page.get_by_role("button", name="Sudah booking? Check-in").click()
        await expect(page.locator("#screen-checkin")).to_be_visible()
        await page.locator('#code-keys button.key[data-key="A"]').click()
        await both_languages(audit, "check-in keypad")
        for char in "ZZZ2222":
            await page.locator(f'#code-keys button.key[data-key="{char}"]').click()
        await page.locator("#checkin-go").click()
        await expect(page.locator("#notice-text")).to_contain_text("tidak ditemukan")
        await audit("check-in refused")
        audit.check()
    finally:
        await context.close()


async def test_kiosk_on_a_phone(server: Any, sites: Sites, browser: Any) -> None:
    context = await new_context(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = await context.new_page()
        audit = Audit(page)
        await page.goto(f"{server.url}/kiosk/{sites.demo}")
        await expect(page.locator("#remote")).to_be_visible()
        await both_languages(audit, "phone tickets")
        audit.check()
    finally:
        await context.close()


async def test_status_page_and_survey(server: Any, sites: Sites, browser: Any) -> None:
    context = await new_context(browser, viewport={"width": 390, "height": 844})
    try:
        page = await context.new_page()
        audit = Audit(page)
        async with admin_http(server) as http:
            answer = await http.post(
                f"/api/v1/sites/{sites.demo}/tickets", json={"service": "haji-daftar"}
            )
            assert answer.status_code == 201, answer.text
            ticket = answer.json()["ticket"]
            await page.goto(f"{server.url}/t/{sites.demo}/{ticket['id']}")
            await expect(page.locator("#status-text")).to_have_text("Menunggu dipanggil")
            await both_languages(audit, "waiting")
            await page.get_by_role("button", name="Batalkan antrean").click()
            await audit("waiting, cancel question")
            await page.get_by_role("button", name="Tidak").click()

            counter = await counter_serving(http, sites.demo, "haji-daftar")
            called = await http.post(f"/api/v1/sites/{sites.demo}/counters/{counter}/next")
            assert called.json()["ticket"]["id"] == ticket["id"], called.text
            call = page.locator("#call")
            await expect(call).to_be_visible()
            await audit("called")
            # The call covers the page (and its switch): English, then a recall.
            await call.get_by_role("button").click()
            await page.locator("#lang").click()
            recalled = await http.post(f"/api/v1/sites/{sites.demo}/counters/{counter}/recall")
            assert recalled.status_code == 200, recalled.text
            await expect(call).to_be_visible()
            await audit("called")
            await call.get_by_role("button").click()
            await page.locator("#lang").click()
            await expect(page.locator("html")).to_have_attribute("lang", "id")
            finished = await http.post(f"/api/v1/sites/{sites.demo}/counters/{counter}/finish")
            assert finished.status_code == 200, finished.text
        survey = page.locator("#survey")
        await expect(survey).to_be_visible()
        await survey.locator("summary").click()
        await expect(survey.locator("fieldset.element")).to_have_count(9)
        await both_languages(audit, "survey open")
        await survey.get_by_role("button", name="Kirim penilaian").click()
        await audit("survey, an answer missing")
        audit.check()
    finally:
        await context.close()


async def counter_serving(http: httpx.AsyncClient, site: str, service: str) -> str:
    doc = (await http.get(f"/api/v1/sites/{site}")).json()
    counter: str = next(c["id"] for c in doc["counters"] if service in c["services"])
    return counter


async def test_rating_tablet(server: Any, sites: Sites, browser: Any) -> None:
    context = await new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = await context.new_page()
        audit = Audit(page)
        async with admin_http(server) as http:
            counter = await counter_serving(http, sites.demo, "pkb-tahunan")
            await page.goto(f"{server.url}/rate/{sites.demo}/{counter}")
            await expect(page.locator("#pairing")).to_be_visible()
            await audit("unpaired")
            token = server.token("kiosk", sites.demo, name="a11y-tablet")
            await page.goto(f"{server.url}/rate/{sites.demo}/{counter}?token={token}")
            await expect(page.locator("#rate")).to_have_attribute("data-ready", "true")
            await both_languages(audit, "idle")
            issued = await http.post(
                f"/api/v1/sites/{sites.demo}/tickets", json={"service": "pkb-tahunan"}
            )
            assert issued.status_code == 201, issued.text
            base = f"/api/v1/sites/{sites.demo}/counters/{counter}"
            assert (await http.post(f"{base}/next")).status_code == 200
            assert (await http.post(f"{base}/finish")).status_code == 200
        await expect(page.locator("#rate-for")).to_contain_text(issued.json()["ticket"]["number"])
        await both_languages(audit, "survey")
        audit.check()
    finally:
        await context.close()


async def test_booking_page(server: Any, sites: Sites, browser: Any) -> None:
    context = await new_context(browser, viewport={"width": 390, "height": 844})
    try:
        page = await context.new_page()
        audit = Audit(page)
        await page.goto(f"{server.url}/book/{sites.demo}")
        await expect(page.get_by_role("heading", name="Pilih instansi")).to_be_visible()
        await both_languages(audit, "start")
        await page.get_by_role("button", name="Disdukcapil").click()
        await page.get_by_role("button", name="Perekaman KTP-el").click()
        await expect(page.get_by_role("heading", name="Pilih tanggal")).to_be_visible()
        await audit("dates")
        # A date after today: every listed date has sessions, none of them past yet.
        await page.locator("button.date").nth(2).click()
        await expect(page.get_by_role("heading", name="Pilih sesi")).to_be_visible()
        await audit("sessions")
        await page.locator("button.choice").first.click()
        await expect(page.get_by_role("heading", name="Data Anda")).to_be_visible()
        await page.get_by_role("button", name="Pesan sekarang").click()
        await expect(page.locator(".field-error").first).to_be_visible()
        await both_languages(audit, "form, with an error")
        await page.get_by_label(re.compile("^NIK")).fill("3271000000000042")
        await page.get_by_label("Nama lengkap").fill("Siti Rahayu")
        await page.get_by_role("button", name="Pesan sekarang").click()
        await expect(page.get_by_role("heading", name="Pemesanan berhasil")).to_be_visible()
        await both_languages(audit, "done")
        audit.check()
    finally:
        await context.close()


# -- the officer console --------------------------------------------------------------


async def test_officer_console(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    async with admin_http(server) as http:
        for _ in range(2):
            await issue_ticket(http, sites.demo, "ktp-el")
    await page.goto(f"{server.url}/counter/{sites.demo}")
    await expect(page.get_by_label("Nama pengguna")).to_be_visible()
    await both_languages(audit, "login")
    await page.get_by_label("Nama pengguna").fill("a11y-duo")
    await page.get_by_label("Kata sandi").fill("salah")
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.locator("#login-error")).not_to_be_empty()
    await audit("login refused")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.locator("#view-pick")).to_be_visible()
    await both_languages(audit, "counter picker")
    await page.locator('#pick-list [data-counter="loket-1"]').click()
    await expect(page.locator("#view-console")).to_be_visible()
    next_button = page.locator('[data-action="next"]')
    await expect(next_button).to_be_enabled()
    await both_languages(audit, "counter, idle")
    await next_button.click()
    await expect(page.locator("#ticket-status")).to_have_text("Dipanggil")
    await both_languages(audit, "counter with a ticket")
    await page.keyboard.press("n")
    await expect(page.locator("#unstarted-dialog")).to_be_visible()
    await audit("never started question")
    await page.keyboard.press("Escape")
    await page.keyboard.press("s")
    await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
    await expect(next_button).to_be_enabled()
    await page.keyboard.press("t")
    await expect(page.locator("#transfer-dialog")).to_be_visible()
    await page.locator("#transfer-filter").fill("paspor baru")
    await page.keyboard.press("ArrowDown")
    await audit("transfer dialog")
    await page.locator("#transfer-ok").click()
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await audit("transfer to another agency, confirmation")
    await page.locator("#confirm-dialog").get_by_role("button", name="Batal").click()
    audit.check()


# -- staff pages ----------------------------------------------------------------------


async def test_reports_and_monthly_report(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await page.goto(f"{server.url}/reports/{sites.staff}")
    await expect(page.get_by_label("Nama pengguna")).to_be_visible()
    await both_languages(audit, "login")
    await staff_login(page, f"{server.url}/reports/{sites.staff}", "a11y-budi")
    await expect(page.locator("#view-denied")).to_be_visible()
    await both_languages(audit, "no access")
    await page.get_by_role("button", name="Keluar dan masuk dengan akun lain").click()
    await page.get_by_label("Nama pengguna").fill("a11y-supri")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk", exact=True).click()
    day = today()
    await expect(page.locator("body")).to_have_attribute("data-loaded", f"{day}/{day}/service")
    await both_languages(audit, "reports")
    await page.goto(f"{server.url}/reports/{sites.staff}/monthly?month={day[:7]}")
    await expect(page.locator("body")).to_have_attribute("data-loaded", day[:7])
    await both_languages(audit, "monthly report")
    audit.check()


async def test_monitor(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await staff_login(page, f"{server.url}/monitor/{sites.staff}", "a11y-supri")
    await expect(page.locator('#counters tr[data-counter="loket-1"]')).to_be_visible()
    await both_languages(audit, "monitor")
    audit.check()


async def test_evaluation(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await staff_login(page, f"{server.url}/evaluation", "a11y-eva")
    await expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"\d/"))
    await both_languages(audit, "evaluation")
    audit.check()


async def test_admin(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await staff_login(page, f"{server.url}/admin?site={sites.staff}", "a11y-admin")
    for tab in ("Layanan", "Loket", "Akun", "Token perangkat", "Layar", "Log audit"):
        await page.get_by_role("tab", name=tab, exact=True).click()
        await expect(page.get_by_role("tabpanel", name=tab)).to_be_visible()
        await both_languages(audit, f"tab {tab}")
    panel = page.get_by_role("tabpanel", name="Token perangkat")
    await page.get_by_role("tab", name="Token perangkat", exact=True).click()
    await panel.get_by_label("Peran").select_option("kiosk")
    await panel.get_by_label("Nama", exact=True).fill("Kios aksesibilitas")
    await panel.get_by_role("button", name="Buat token perangkat").click()
    await expect(page.locator("#created-token svg.qr")).to_be_visible()
    await both_languages(audit, "a token created, its QR code")
    await page.get_by_role("tab", name="Layanan", exact=True).click()
    await page.locator('tr[data-id="ktp"]').get_by_role("button", name="Ubah ktp").click()
    await expect(page.locator('form[data-form="services"]')).to_be_visible()
    await both_languages(audit, "service form")
    audit.check()


async def test_landing_page(server: Any, sites: Sites, audit_page: Page) -> None:
    page, audit = audit_page, Audit(audit_page)
    await page.goto(f"{server.url}/")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    await both_languages(audit, "sites")
    audit.check()


# -- keyboard only --------------------------------------------------------------------

# What has the focus: where it is, and whether it shows (a ring: outline or box-shadow).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  const name = el.getAttribute("aria-label") || el.id || el.name || el.textContent;
  return {
    what: `${el.tagName.toLowerCase()} ${(name || "").trim().slice(0, 40)}`,
    shown: r.width > 0 && r.height > 0 && s.visibility !== "hidden",
    ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
    colours: [s.outlineColor, getComputedStyle(document.body).backgroundColor],
  };
}"""


async def tab_to(page: Page, selector: str, limit: int = 40) -> list[str]:
    """Tab until the focus is on `selector`; every stop on the way shows, with a ring."""
    path: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        if focused:
            path.append(focused["what"])
            assert focused["shown"] and focused["ring"], (focused, path)
            (ring,) = await contrast(page, [focused["colours"]])
            assert ring >= 3, (focused, ring, path)
        if await page.evaluate("(s) => Boolean(document.activeElement?.matches(s))", selector):
            return path
    raise AssertionError(f"Tab never reached {selector}: {path}")


async def test_console_by_keyboard_alone(server: Any, sites: Sites, audit_page: Page) -> None:
    """Log in, Next, Start (Tab to it, Enter), Done, Next, transfer to another service of
    the agency and to another agency: keys only, no pointer."""
    page = audit_page
    server.user("a11y-kb", PASSWORD, role="officer", site=sites.demo, counters=["loket-8"])
    async with admin_http(server) as http:
        first, second, third = [await issue_ticket(http, sites.demo, "pindah") for _ in "abc"]

        async def status(ticket: dict[str, Any]) -> tuple[str, str]:
            got = await http.get(f"/api/v1/sites/{sites.demo}/tickets/{ticket['id']}")
            now = got.json()["ticket"]
            return now["status"], now["service"]

        await page.goto(f"{server.url}/counter/{sites.demo}")
        await expect(page.get_by_label("Nama pengguna")).to_be_focused()
        await page.keyboard.type("a11y-kb")
        await tab_to(page, "#login-password")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        number = page.locator("#ticket-number")
        next_button = page.locator('[data-action="next"]')
        await expect(page.locator("#view-console")).to_be_visible()
        await expect(next_button).to_be_enabled()

        # N calls; Tab to "Mulai layani" and Enter starts; D finishes.
        await page.keyboard.press("n")
        await expect(number).to_have_text(first["number"])
        await expect(page.locator('[data-action="start"]')).to_be_enabled()
        await tab_to(page, '[data-action="start"]')
        await page.keyboard.press("Enter")
        await expect(page.locator("#ticket-status")).to_have_text("Sedang dilayani")
        await expect(next_button).to_be_enabled()
        await page.keyboard.press("Escape")  # the focus back to the page: shortcuts again
        await page.keyboard.press("d")
        await expect(number).to_have_text("—")
        assert (await status(first))[0] == "done"

        # Next (Space), then T: filter, arrow, Enter moves it within the agency.
        await page.keyboard.press("Space")
        await expect(number).to_have_text(second["number"])
        await expect(next_button).to_be_enabled()
        await page.keyboard.press("t")
        dialog = page.locator("#transfer-dialog")
        await expect(dialog).to_be_visible()
        await expect(page.locator("#transfer-filter")).to_be_focused()
        await page.keyboard.type("akta kematian")
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(page.locator("#message")).to_contain_text("dialihkan")
        assert await status(second) == ("waiting", "akta-mati")

        # Another agency: the question, answered with Enter on the focused "Ya, pindahkan".
        await page.keyboard.press("n")
        await expect(number).to_have_text(third["number"])
        await expect(next_button).to_be_enabled()
        await page.keyboard.press("t")
        await expect(page.locator("#transfer-filter")).to_be_focused()
        await page.keyboard.type("paspor baru")
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        confirm = page.locator("#confirm-dialog")
        await expect(confirm).to_be_visible()
        await expect(confirm.get_by_role("button", name="Ya, pindahkan")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(confirm).to_be_hidden()
        assert await status(third) == ("waiting", "paspor-baru")


async def test_admin_edit_by_keyboard_alone(server: Any, sites: Sites, audit_page: Page) -> None:
    """Log in, open the service form of `kk`, change its quota, save: keys only."""
    page = audit_page
    await page.goto(f"{server.url}/admin?site={sites.staff}")
    await expect(page.get_by_label("Nama pengguna")).to_be_focused()
    await page.keyboard.type("a11y-admin")
    await tab_to(page, "#login-password")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    services = page.get_by_role("tab", name="Layanan", exact=True)
    await expect(services).to_be_visible()
    await tab_to(page, '[role="tab"][aria-selected="true"]')
    for _ in range(10):  # the arrow keys move along the tabs (and open them)
        if await services.evaluate("(tab) => tab === document.activeElement"):
            break
        await page.keyboard.press("ArrowRight")
    await expect(services).to_be_focused()
    await expect(services).to_have_attribute("aria-selected", "true")
    await tab_to(page, 'tr[data-id="kk"] button[aria-label="Ubah kk"]')
    await page.keyboard.press("Enter")
    form = page.locator('form[data-form="services"]')
    await expect(form).to_be_visible()
    await tab_to(page, 'form[data-form="services"] [name="daily_quota"]')
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type("42")
    await page.keyboard.press("Enter")
    await expect(page.locator("#message")).to_have_text("Layanan kk disimpan.")
    await expect(form).to_be_hidden()
    async with admin_http(server) as http:
        doc = (await http.get(f"/api/v1/sites/{sites.staff}/config")).json()
    assert next(s for s in doc["services"] if s["id"] == "kk")["daily_quota"] == 42
    # The focus is not lost with the form: back on the row's "Ubah" button.
    await expect(page.locator('tr[data-id="kk"] button[aria-label="Ubah kk"]')).to_be_focused()
