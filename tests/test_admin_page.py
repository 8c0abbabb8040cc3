"""The admin page /admin in headless Chromium against the live server: every change made
on the page is in the configuration the API answers and in the audit list; a stale save
is refused with the reload message; a supervisor sees its own site only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from tests.conftest import SCREENSHOTS
from tests.test_reports_page import PASSWORD, staff_login, staff_site

STALE = "Konfigurasi telah diubah orang lain; muat ulang"


def admin_client(server: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}
    )


async def config_of(http: httpx.AsyncClient, site: str) -> dict[str, Any]:
    answer = await http.get(f"/api/v1/sites/{site}/config")
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


def entry(doc: dict[str, Any], section: str, entry_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in doc[section] if e["id"] == entry_id)
    return found


async def open_tab(page: Page, name: str) -> Locator:
    await page.get_by_role("tab", name=name, exact=True).click()
    panel = page.get_by_role("tabpanel", name=name)
    await expect(panel).to_be_visible()
    return panel


async def unlabelled(page: Page) -> list[str]:
    """Visible form controls without a label (keyboard and screen-reader users need one)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter((c) => c.offsetParent !== null && c.type !== "hidden")
            .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label"))
            .map((c) => c.outerHTML.slice(0, 80))"""
    )
    return found


async def login_admin(page: Page, server: Any, site: str, username: str) -> None:
    await staff_login(page, f"{server.url}/admin?site={site}", username)
    await expect(page.get_by_role("tab", name="Layanan", exact=True)).to_be_visible()


async def test_admin_changes_reach_the_api_and_the_audit_log(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Admin")
    server.user("adm-budi", PASSWORD, role="admin")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if m.type == "error" else None)
    await login_admin(page, server, site, "adm-budi")

    async with admin_client(server) as http:
        # A service: prefix, quota, targets, opening hours per weekday.
        panel = await open_tab(page, "Layanan")
        await panel.get_by_role("button", name="Tambah layanan").click()
        form = page.locator('form[data-form="services"]')
        await form.get_by_label("Kode").fill("akta")
        await form.get_by_label("Nama", exact=True).fill("Akta Kelahiran")
        await form.get_by_label("Instansi", exact=True).select_option("dukcapil")
        await form.get_by_label("Awalan").fill("D")
        await form.get_by_label("Kuota harian").fill("40")
        await form.get_by_label("Target waktu tunggu (menit)").fill("20")
        await form.get_by_label("Jadwal").select_option("weekly")
        await form.get_by_label("Jumat").fill("08:00-11:30")
        assert await unlabelled(page) == []
        await form.get_by_role("button", name="Simpan").click()
        await expect(page.locator("#message")).to_have_text("Layanan akta disimpan.")
        akta = entry(await config_of(http, site), "services", "akta")
        assert akta["prefix"] == "D" and akta["daily_quota"] == 40
        assert akta["target_wait_min"] == 20 and "target_service_min" not in akta
        assert akta["hours"] == {
            "mon": "08:00-15:00",
            "tue": "08:00-15:00",
            "wed": "08:00-15:00",
            "thu": "08:00-15:00",
            "fri": "08:00-11:30",
        }

        # A counter, its services in call order (added, then moved up).
        panel = await open_tab(page, "Loket")
        await panel.get_by_role("button", name="Tambah loket").click()
        form = page.locator('form[data-form="counters"]')
        await form.get_by_label("Kode").fill("loket-3")
        await form.get_by_label("Nama", exact=True).fill("Loket 3")
        await form.get_by_label("Instansi", exact=True).select_option("dukcapil")
        for service in ("kk", "akta"):
            await form.get_by_label("Layanan instansi ini").select_option(service)
            await form.get_by_role("button", name="Tambahkan").click()
        await form.get_by_role("button", name="Naikkan Akta Kelahiran (D)").click()
        await expect(form.locator(".call-order li").first).to_have_attribute("data-service", "akta")
        assert await unlabelled(page) == []
        await form.get_by_label("Zona").fill("b")
        await form.get_by_label("Lantai").fill("2")
        # Its breaks: Monday copied to Tuesday-Friday, Friday longer (written with dots).
        breaks = form.locator("fieldset", has_text="Jam istirahat")
        await breaks.get_by_label("Senin").fill("12:00-13:00")
        await breaks.get_by_role("button", name="Salin Senin ke Selasa–Jumat").click()
        await breaks.get_by_label("Jumat").fill("11.30-13.00")
        await form.get_by_role("button", name="Simpan").click()
        await expect(page.locator("#message")).to_have_text("Loket loket-3 disimpan.")
        loket3 = entry(await config_of(http, site), "counters", "loket-3")
        assert loket3["services"] == ["akta", "kk"]
        assert loket3["zone"] == "b" and loket3["floor"] == "2"
        weekdays = ("mon", "tue", "wed", "thu")
        assert loket3["breaks"] == {**dict.fromkeys(weekdays, "12:00-13:00"), "fri": "11:30-13:00"}
        await expect(panel.locator('tr[data-id="loket-3"] [data-col="services"]')).to_have_text(
            "akta → kk"
        )

        # A quota changed.
        panel = await open_tab(page, "Layanan")
        await panel.locator('tr[data-id="ktp"]').get_by_role("button", name="Ubah ktp").click()
        form = page.locator('form[data-form="services"]')
        await expect(form.get_by_label("Kode")).to_have_value("ktp")
        await form.get_by_label("Kuota harian").fill("75")
        await form.get_by_role("button", name="Simpan").click()
        await expect(panel.locator('tr[data-id="ktp"] [data-col="quota"]')).to_have_text("75")
        ktp = entry(await config_of(http, site), "services", "ktp")
        assert ktp["daily_quota"] == 75 and ktp["target_wait_min"] == 10

        # A service closed for the day (asks first).
        row = panel.locator('tr[data-id="ktp"]')
        await row.get_by_role("button", name="Tutup hari ini ktp").click()
        await page.locator("#confirm-ok").click()
        await expect(row.locator('[data-role="open"]')).to_have_text("Tutup")
        assert entry(await config_of(http, site), "services", "ktp")["open"] is False
        refused = await http.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp"})
        assert refused.status_code == 409, refused.text

        # An officer's account on the new counter.
        panel = await open_tab(page, "Akun")
        await panel.get_by_role("button", name="Tambah akun").click()
        form = page.locator('form[data-form="user"]')
        await form.get_by_label("Nama pengguna").fill("petugas-sari")
        await form.get_by_label("Kata sandi").fill("sandi-sari-123")
        await form.get_by_label("Peran").select_option("officer")
        await form.get_by_label("Loket 3").check()
        await form.get_by_role("button", name="Simpan").click()
        await expect(panel.locator('tr[data-user="petugas-sari"]')).to_be_visible()
        users = (await http.get("/api/v1/users")).json()["users"]
        sari = next(u for u in users if u["name"] == "petugas-sari")
        assert sari == {
            "name": "petugas-sari",
            "role": "officer",
            "site": site,
            "counters": ["loket-3"],
        }

        # A kiosk token: shown once with its QR code, works, then revoked.
        panel = await open_tab(page, "Token perangkat")
        await panel.get_by_label("Peran").select_option("kiosk")
        await panel.get_by_label("Nama", exact=True).fill("Kios pintu utama")
        await panel.get_by_role("button", name="Buat token perangkat").click()
        token = (await page.locator("#new-token").text_content() or "").strip()
        assert len(token) > 20
        qr = page.locator("#created-token svg.qr")
        await expect(qr).to_be_visible()
        assert (await qr.bounding_box() or {"width": 0})["width"] >= 200
        await expect(page.locator("#pairing-url")).to_have_text(
            f"{server.url}/kiosk/{site}?token={token}"
        )
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["role"] == "kiosk"
        await page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)
        await page.get_by_role("button", name="Selesai, sembunyikan token").click()
        await expect(page.locator("#created-token")).to_be_hidden()
        assert token not in await page.content()  # shown once
        row = panel.locator("tr", has_text="Kios pintu utama")
        await row.get_by_role("button", name="Cabut Kios pintu utama").click()
        await page.locator("#confirm-ok").click()
        await expect(row).to_have_count(0)
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401

        # The page's own saves never look like someone else's.
        await expect(page.locator("#stale")).to_be_hidden()

        # Every change in the audit list, newest first, by the admin.
        panel = await open_tab(page, "Log audit")
        audit = panel.locator('table[data-section="audit"] tbody tr')
        await expect(audit.first).to_have_attribute("data-action", "token.revoke")
        actions = await audit.evaluate_all("(rows) => rows.map((r) => r.dataset.action)")
        assert actions[:7] == [
            "token.revoke",
            "token.create",
            "user.create",
            "service.close",
            "config.replace",
            "config.replace",
            "config.replace",
        ]
        await expect(audit.first).to_contain_text("adm-budi")
        await expect(panel.locator('tr[data-action="service.close"]')).to_contain_text("ktp")
        await expect(panel.locator('tr[data-action="user.create"]')).to_contain_text("petugas-sari")
        api_log = (await http.get("/api/v1/audit", params={"site": site})).json()["entries"]
        assert [e["action"] for e in api_log[:7]] == actions[:7]
    assert not [v for v in violations if "Content Security" in v], violations


async def test_a_stale_save_is_refused_and_nothing_is_lost(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Basi")
    server.user("adm-stale", PASSWORD, role="admin")
    await login_admin(page, server, site, "adm-stale")
    panel = await open_tab(page, "Layanan")
    await panel.locator('tr[data-id="kk"]').get_by_role("button", name="Ubah kk").click()
    form = page.locator('form[data-form="services"]')
    await form.get_by_label("Kuota harian").fill("33")

    async with admin_client(server) as http:
        # Meanwhile someone else renames the site through the API.
        doc = await config_of(http, site)
        doc["site"]["name"] = "MPP Uji Basi (diubah)"
        changed = await http.put(
            f"/api/v1/sites/{site}/config", json=doc, headers={"If-Match": str(doc["version"])}
        )
        assert changed.status_code == 200, changed.text
        # The event stream says so before anyone presses Save.
        await expect(page.locator("#stale")).to_be_visible()

        await form.get_by_role("button", name="Simpan").click()
        await expect(page.locator("#stale")).to_be_visible()
        await expect(page.locator("#stale")).to_contain_text(STALE)
        await expect(form.locator('[data-role="form-error"]')).to_have_text(STALE)
        assert "daily_quota" not in entry(await config_of(http, site), "services", "kk")

        # Reload, save the same form again: both changes are kept.
        await page.locator("#stale").get_by_role("button", name="Muat ulang").click()
        await expect(page.locator("#stale")).to_be_hidden()
        await form.get_by_role("button", name="Simpan").click()
        await expect(page.locator("#message")).to_have_text("Layanan kk disimpan.")
        after = await config_of(http, site)
    assert after["site"]["name"] == "MPP Uji Basi (diubah)"
    assert entry(after, "services", "kk")["daily_quota"] == 33


async def test_the_servers_refusal_is_shown_next_to_the_form(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Tolak")
    server.user("adm-tolak", PASSWORD, role="admin")
    await login_admin(page, server, site, "adm-tolak")
    panel = await open_tab(page, "Instansi")
    await panel.get_by_role("button", name="Tambah instansi").click()
    form = page.locator('form[data-form="agencies"]')
    await form.get_by_label("Kode").fill("Bukan Kode")
    await form.get_by_label("Nama", exact=True).fill("Instansi Salah")
    await form.get_by_role("button", name="Simpan").click()
    error = form.locator('[data-role="form-error"]')
    await expect(error).to_contain_text("Ditolak server")
    await expect(error).to_contain_text("agencies[2]")
    await expect(error).to_contain_text("id")
    await expect(form.get_by_label("Kode")).to_be_focused()
    async with admin_client(server) as http:
        ids = [a["id"] for a in (await config_of(http, site))["agencies"]]
    assert ids == ["dukcapil", "bapenda"]


async def test_a_supervisor_sees_its_own_site_and_its_officers(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path, name="MPP Uji Supervisor")
    other = staff_site(server, tmp_path, name="MPP Uji Lain")
    server.user("spv-rina", PASSWORD, role="supervisor", site=site)
    server.user("adm-hidden", PASSWORD, role="admin")
    server.user("ptg-lain", PASSWORD, role="officer", site=other)
    server.user("ptg-sini", PASSWORD, role="officer", site=site, counters=["loket-1"])
    await staff_login(page, f"{server.url}/admin?site={other}", "spv-rina")

    picker = page.get_by_label("Situs", exact=True)
    await expect(picker).to_have_value(site)
    assert await picker.locator("option").count() == 1
    tabs = await page.get_by_role("tab").all_text_contents()
    assert tabs == ["Layanan", "Loket", "Akun", "Log audit"]

    # Services: open and close only (no adding, no editing).
    panel = await open_tab(page, "Layanan")
    await expect(panel.get_by_role("button", name="Tambah layanan")).to_have_count(0)
    await expect(panel.get_by_role("button", name="Ubah pbb")).to_have_count(0)
    row = panel.locator('tr[data-id="pbb"]')
    await row.get_by_role("button", name="Tutup hari ini pbb").click()
    await page.locator("#confirm-ok").click()
    await expect(row.locator('[data-role="open"]')).to_have_text("Tutup")
    await row.get_by_role("button", name="Buka pbb").click()
    await expect(row.locator('[data-role="open"]')).to_have_text("Buka")

    # Accounts: its site's only, never an admin's; it may add an officer, nothing else.
    panel = await open_tab(page, "Akun")
    await expect(panel.locator('tr[data-user="ptg-sini"]')).to_be_visible()
    await expect(panel.locator('tr[data-user="adm-hidden"]')).to_have_count(0)
    await expect(panel.locator('tr[data-user="ptg-lain"]')).to_have_count(0)
    await expect(panel.locator('tr[data-user="spv-rina"]')).to_contain_text("dikelola admin")
    await panel.get_by_role("button", name="Tambah akun").click()
    form = page.locator('form[data-form="user"]')
    roles = await form.get_by_label("Peran").locator("option").all_text_contents()
    assert roles == ["petugas"]
    await form.get_by_label("Nama pengguna").fill("ptg-baru")
    await form.get_by_label("Kata sandi").fill("sandi-baru-123")
    await form.get_by_label("Loket 2").check()
    await form.get_by_role("button", name="Simpan").click()
    await expect(panel.locator('tr[data-user="ptg-baru"]')).to_contain_text("Loket 2")

    panel = await open_tab(page, "Log audit")
    await expect(panel.locator('tr[data-action="user.create"]')).to_contain_text("spv-rina")
    await expect(panel.locator('tr[data-action="service.close"]')).to_contain_text("pbb")


async def test_holidays_site_settings_and_export_import(
    server: Any, page: Page, tmp_path: Path
) -> None:
    """The TOML export is what `loket config load` reads; a JSON export imports back."""
    import json
    import tomllib

    from server import config

    site = staff_site(server, tmp_path, name="MPP Uji Ekspor")
    server.user("adm-ekspor", PASSWORD, role="admin")
    await login_admin(page, server, site, "adm-ekspor")

    panel = await open_tab(page, "Hari libur")
    await panel.get_by_label("Tanggal").fill("2026-12-25")
    await panel.get_by_role("button", name="Tambah hari libur").click()
    await expect(panel.locator('tr[data-day="2026-12-25"]')).to_be_visible()

    panel = await open_tab(page, "Layar")
    await panel.get_by_label("Teks berjalan").fill("Selamat datang, teks baru.")
    await panel.locator('form[data-form="running-text"]').get_by_role("button").click()
    await expect(page.locator("#message")).to_have_text("Pengaturan situs disimpan.")
    await panel.get_by_role("button", name="Tambah layar").click()
    form = page.locator('form[data-form="displays"]')
    await form.get_by_label("Kode").fill("tv-lantai-1")
    await form.get_by_label("Nama", exact=True).fill("TV Lantai 1")
    await form.get_by_label("Tata letak / kertas").select_option("portrait")
    await form.get_by_label("Tampilkan IKM bulan ini di TV").check()
    await form.get_by_label("Bapenda").check()
    await form.get_by_role("button", name="Simpan").click()
    await expect(panel.locator('tr[data-id="tv-lantai-1"]')).to_contain_text("Bapenda")

    async with admin_client(server) as http:
        doc = await config_of(http, site)
    assert doc["site"]["holidays"] == ["2026-12-25"]
    assert doc["site"]["running_text"] == "Selamat datang, teks baru."
    tv = entry(doc, "displays", "tv-lantai-1")
    assert tv["layout"] == "portrait" and tv["show_ikm"] is True
    assert tv["agencies"] == ["bapenda"]

    panel = await open_tab(page, "Impor/Ekspor")
    async with page.expect_download() as toml_download:
        await panel.get_by_role("button", name="Unduh TOML").click()
    toml_path = tmp_path / "export.toml"
    await (await toml_download.value).save_as(toml_path)
    parsed = config.parse(tomllib.loads(toml_path.read_text(encoding="utf-8")), "export.toml")
    stored = {k: v for k, v in doc.items() if k != "version"}
    assert parsed.to_dict() == stored

    async with page.expect_download() as json_download:
        await panel.get_by_role("button", name="Unduh JSON").click()
    json_path = tmp_path / "export.json"
    await (await json_download.value).save_as(json_path)
    exported = json.loads(json_path.read_text(encoding="utf-8"))
    exported["services"] = [s for s in exported["services"] if s["id"] != "pbb"]
    exported["counters"] = [c for c in exported["counters"] if c["id"] != "loket-2"]
    json_path.write_text(json.dumps(exported), encoding="utf-8")
    await panel.get_by_label("Berkas JSON").set_input_files(str(json_path))
    await expect(panel.locator('[data-role="import-summary"]')).to_contain_text(
        "2 layanan, 1 loket"
    )
    await panel.get_by_role("button", name="Ganti konfigurasi").click()
    await page.locator("#confirm-ok").click()
    await expect(page.locator("#message")).to_have_text("Konfigurasi diimpor.")
    async with admin_client(server) as http:
        after = await config_of(http, site)
    assert [s["id"] for s in after["services"]] == ["ktp", "kk"]
    assert after["version"] == doc["version"] + 1
