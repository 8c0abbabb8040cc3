"""Changes made on /admin reach the devices that are already open, and two admins do
not overwrite each other (issue 10, "Tests (in CI)": browser).

An admin adds a service and a counter on the page: a paired kiosk, open in another
browser context, lists the service and a lobby TV shows the counter's tile within 2 s,
the test reloading neither (the TV reloads itself on `site.config_changed`, the kiosk
re-reads the site). Revoking the kiosk's token on the page stops that kiosk: its next
ticket is refused and it shows "Kiosk belum siap" within 6 s. The audit list names the
admin for each change. Then two admins edit the same service at once: the second save
is refused with the clear message, and after reloading, its save keeps both changes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.conftest import SCREENSHOTS
from tests.test_admin_page import STALE, admin_client, config_of, entry, login_admin, open_tab
from tests.test_display_page import open_tv
from tests.test_kiosk_page import COUNT_PRINTS
from tests.test_reports_page import PASSWORD, staff_site

LIVE_S = 2.0  # a change made on /admin is on the kiosk and the TV within this
STOP_S = 6.0  # a revoked kiosk says it is not ready within this

# An issue as the kiosk page makes it: its device cookie and the CSRF header.
ISSUE_FROM_PAGE = """async ([site, service]) => {
    const csrf = (document.cookie.match(/(?:^|; )loket_csrf=([^;]*)/) || [])[1] || "";
    const r = await fetch(`/api/v1/sites/${site}/tickets`, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(csrf)},
        body: JSON.stringify({service}),
    });
    return r.status;
}"""

# Set on a page the test must not see reloaded: a reload forgets it.
MARK = "() => { window.loketNotReloaded = true; }"
MARKED = "() => window.loketNotReloaded === true"


def shot(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"admin-live-{name}.png")


def left(since: float, budget: float) -> float:
    """Milliseconds left of `budget` seconds counted from `since` (at least 1)."""
    return max(1.0, (budget - (time.monotonic() - since)) * 1000)


async def context(browser: Browser, width: int, height: int) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(viewport={"width": width, "height": height})
    return ctx, await ctx.new_page()


async def test_admin_changes_reach_open_devices_and_revocation_stops_a_kiosk(
    server: Any, browser: Browser, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Langsung")
    server.user("adm-langsung", PASSWORD, role="admin")
    kiosk_ctx, kiosk = await context(browser, 1080, 1920)
    tv_ctx, tv = await context(browser, 1920, 1080)
    admin_ctx, admin = await context(browser, 1366, 900)
    errors: list[str] = []
    for p in (kiosk, tv, admin):
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # A kiosk paired with a token of its own, open on the agency's services.
        await kiosk.add_init_script(COUNT_PRINTS)
        token = server.token("kiosk", site, name="Kios lobi")
        await kiosk.goto(f"{server.url}/kiosk/{site}?token={token}")
        assert "token" not in kiosk.url
        await kiosk.locator('button.tile[data-agency="dukcapil"]').click()
        services = kiosk.locator("button.service")
        await expect(services).to_have_count(2)  # ktp, kk
        await kiosk.evaluate(MARK)
        # A lobby TV of the whole site (a counter's tile shows while it holds a ticket).
        await open_tv(tv, server, site)
        await expect(tv.locator(".tile")).to_have_count(0)
        await login_admin(admin, server, site, "adm-langsung")

        async with admin_client(server) as http:
            # A service added on /admin: on the open kiosk within 2 s.
            panel = await open_tab(admin, "Layanan")
            await panel.get_by_role("button", name="Tambah layanan").click()
            form = admin.locator('form[data-form="services"]')
            await form.get_by_label("Kode").fill("akta")
            await form.get_by_label("Nama", exact=True).fill("Akta Kelahiran")
            await form.get_by_label("Instansi", exact=True).select_option("dukcapil")
            await form.get_by_label("Awalan").fill("D")
            await form.get_by_role("button", name="Simpan").click()
            await expect(admin.locator("#message")).to_have_text("Layanan akta disimpan.")
            saved = time.monotonic()
            akta = kiosk.locator('button.service[data-service="akta"]')
            await expect(akta).to_be_enabled(timeout=left(saved, LIVE_S))
            await expect(akta).to_contain_text("Akta Kelahiran")
            await kiosk.screenshot(path=shot("kiosk"))
            assert await kiosk.evaluate(MARKED), "the kiosk page was reloaded"
            # ... and it gives its tickets.
            await akta.click()
            await expect(kiosk.locator("#ticket-number")).to_have_text("D001")

            # A counter serving it, added on /admin: on the open TV within 2 s (the
            # ticket called there at once is on its tile).
            panel = await open_tab(admin, "Loket")
            await panel.get_by_role("button", name="Tambah loket").click()
            form = admin.locator('form[data-form="counters"]')
            await form.get_by_label("Kode").fill("loket-3")
            await form.get_by_label("Nama", exact=True).fill("Loket 3")
            await form.get_by_label("Instansi", exact=True).select_option("dukcapil")
            await form.get_by_label("Layanan instansi ini").select_option("akta")
            await form.get_by_role("button", name="Tambahkan").click()
            await form.get_by_role("button", name="Simpan").click()
            await expect(admin.locator("#message")).to_have_text("Loket loket-3 disimpan.")
            saved = time.monotonic()
            called = await http.post(f"/api/v1/sites/{site}/counters/loket-3/next")
            assert called.status_code == 200, called.text
            assert called.json()["ticket"]["number"] == "D001"
            tile = tv.locator('.tile[data-counter="loket-3"]')
            await expect(tile.locator(".tile-ticket")).to_have_text(
                "D001", timeout=left(saved, LIVE_S)
            )
            await expect(tile.locator(".tile-name")).to_have_text("Loket 3")
            await expect(tv.locator("#call-number")).to_have_text("D001")
            await tv.screenshot(path=shot("tv"))

            # Before the revocation the kiosk's own cookie issues (the control) ...
            assert await kiosk.evaluate(ISSUE_FROM_PAGE, [site, "akta"]) == 201
            # ... revoked on /admin ...
            panel = await open_tab(admin, "Token perangkat")
            row = panel.locator("tr", has_text="Kios lobi")
            await row.get_by_role("button", name="Cabut Kios lobi").click()
            await admin.locator("#confirm-ok").click()
            await expect(row).to_have_count(0)
            revoked = time.monotonic()
            # ... its next issue is refused (the page's cookie and the token itself) ...
            assert await kiosk.evaluate(ISSUE_FROM_PAGE, [site, "akta"]) == 401
            refused = await http.post(
                f"/api/v1/sites/{site}/tickets",
                json={"service": "akta"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert refused.status_code == 401, refused.text
            # ... and the kiosk says it is not ready, by itself, within 6 s.
            unready = kiosk.locator("#pairing")
            await expect(unready).to_be_visible(timeout=left(revoked, STOP_S))
            await expect(unready).to_contain_text("Kiosk belum siap, hubungi petugas")
            await expect(kiosk.locator("#app")).to_be_hidden()
            await expect(
                kiosk.locator("button.tile:visible, button.service:visible")
            ).to_have_count(0)
            await kiosk.screenshot(path=shot("kiosk-revoked"))

            # The audit list: each change, by the admin's account.
            panel = await open_tab(admin, "Log audit")
            rows = panel.locator('table[data-section="audit"] tbody tr')
            await expect(rows.first).to_have_attribute("data-action", "token.revoke")
            actions = await rows.evaluate_all("(rows) => rows.map((r) => r.dataset.action)")
            assert actions[:3] == ["token.revoke", "config.replace", "config.replace"]
            for i, what in ((0, "Kios lobi"), (1, "loket-3"), (2, "akta")):
                await expect(rows.nth(i)).to_contain_text("adm-langsung")
                await expect(rows.nth(i)).to_contain_text(what)
            await admin.screenshot(path=shot("audit"), full_page=True)
            api_log = (await http.get("/api/v1/audit", params={"site": site})).json()["entries"]
            assert [(e["action"], e["actor"]) for e in api_log[:3]] == [
                ("token.revoke", "adm-langsung"),
                ("config.replace", "adm-langsung"),
                ("config.replace", "adm-langsung"),
            ]
            assert api_log[1]["detail"]["counters"] == {"added": ["loket-3"]}
            assert api_log[2]["detail"]["services"] == {"added": ["akta"]}
        assert await kiosk.evaluate(MARKED), "the kiosk page was reloaded"
    finally:
        for ctx in (kiosk_ctx, tv_ctx, admin_ctx):
            await ctx.close()
    assert not [e for e in errors if "Content Security" in e], errors


async def test_two_admins_edit_the_same_service_and_nothing_is_lost(
    server: Any, browser: Browser, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Bersamaan")
    server.user("adm-satu", PASSWORD, role="admin")
    server.user("adm-dua", PASSWORD, role="admin")
    one_ctx, one = await context(browser, 1366, 900)
    two_ctx, two = await context(browser, 1366, 900)
    try:
        await login_admin(one, server, site, "adm-satu")
        await login_admin(two, server, site, "adm-dua")
        forms = []
        for page in (one, two):  # both open the same service's form
            panel = await open_tab(page, "Layanan")
            await panel.locator('tr[data-id="kk"]').get_by_role("button", name="Ubah kk").click()
            form = page.locator('form[data-form="services"]')
            await expect(form.get_by_label("Kode")).to_have_value("kk")
            forms.append(form)
        first, second = forms
        await first.get_by_label("Kuota harian").fill("33")
        await second.get_by_label("Target waktu tunggu (menit)").fill("12")

        # The first saves.
        await first.get_by_role("button", name="Simpan").click()
        await expect(one.locator("#message")).to_have_text("Layanan kk disimpan.")
        # The second's save is refused, with the clear message, and changes nothing.
        await second.get_by_role("button", name="Simpan").click()
        await expect(second.locator('[data-role="form-error"]')).to_have_text(STALE)
        banner = two.locator("#stale")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Konfigurasi telah diubah orang lain")
        await two.screenshot(path=shot("stale"))
        async with admin_client(server) as http:
            kk = entry(await config_of(http, site), "services", "kk")
            assert kk["daily_quota"] == 33 and "target_wait_min" not in kk

            # Reload, save again: both changes are in the configuration.
            await banner.get_by_role("button", name="Muat ulang").click()
            await expect(banner).to_be_hidden()
            await expect(second.get_by_label("Target waktu tunggu (menit)")).to_have_value("12")
            await second.get_by_role("button", name="Simpan").click()
            await expect(two.locator("#message")).to_have_text("Layanan kk disimpan.")
            doc = await config_of(http, site)
            kk = entry(doc, "services", "kk")
            assert kk["daily_quota"] == 33, kk  # the first admin's change is kept
            assert kk["target_wait_min"] == 12, kk  # the second's is there too
            log = (await http.get("/api/v1/audit", params={"site": site})).json()["entries"]
            assert [(e["action"], e["actor"]) for e in log[:2]] == [
                ("config.replace", "adm-dua"),
                ("config.replace", "adm-satu"),
            ]
            assert all(e["detail"]["services"] == {"changed": ["kk"]} for e in log[:2])
        # Both pages show both changes (the first one follows the stream).
        for page in (one, two):
            row = page.locator('tr[data-id="kk"]')
            if page is one:
                await expect(page.locator("#stale")).to_be_visible()
                await page.locator("#stale").get_by_role("button", name="Muat ulang").click()
            await expect(row.locator('[data-col="quota"]')).to_have_text("33")
            await expect(row).to_contain_text("12 / –")
    finally:
        for ctx in (one_ctx, two_ctx):
            await ctx.close()
