"""The reports page /reports/{site} and its printable monthly report, in headless
Chromium against the live server: figures shown are the figures the API answers.

The helpers here (a site with targets, real activity through the API, the staff login,
chart checks) are shared by test_monitor_page.py and test_evaluation_page.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import tomli_w
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS

PASSWORD = "rahasia-123"
ELEMENTS = (
    "persyaratan", "prosedur", "waktu", "biaya", "produk",
    "kompetensi", "perilaku", "sarana", "pengaduan",
)  # fmt: skip
TIMEZONE = "Asia/Jakarta"

# -- shared helpers -------------------------------------------------------------------


def staff_site(server: Any, tmp_path: Path, name: str = "MPP Uji Laporan") -> str:
    """Two agencies, three services (two with a standar pelayanan), two counters."""
    doc = {
        "site": {"id": "uji", "name": name, "timezone": TIMEZONE},
        "agencies": [
            {"id": "dukcapil", "name": "Disdukcapil", "short_name": "Dukcapil"},
            {"id": "bapenda", "name": "Badan Pendapatan Daerah", "short_name": "Bapenda"},
        ],
        "services": [
            {
                "id": "ktp",
                "agency": "dukcapil",
                "name": "KTP-el",
                "prefix": "A",
                "target_wait_min": 10,
                "target_service_min": 15,
            },
            {"id": "kk", "agency": "dukcapil", "name": "Kartu Keluarga", "prefix": "B"},
            {"id": "pbb", "agency": "bapenda", "name": "PBB", "prefix": "C", "target_wait_min": 5},
        ],
        "counters": [
            {"id": "loket-1", "name": "Loket 1", "agency": "dukcapil", "services": ["ktp", "kk"]},
            {"id": "loket-2", "name": "Loket 2", "agency": "bapenda", "services": ["pbb"]},
        ],
    }
    path = tmp_path / f"{name.replace(' ', '-')}.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    site: str = server.new_site(path)
    return site


async def post(http: httpx.AsyncClient, path: str, body: Any = None, status: int = 200) -> Any:
    response = await http.post(path, json=body) if body is not None else await http.post(path)
    assert response.status_code == status, response.text
    return response.json()


async def issue(http: httpx.AsyncClient, site: str, service: str) -> dict[str, Any]:
    answer = await post(http, f"/api/v1/sites/{site}/tickets", {"service": service}, 201)
    ticket: dict[str, Any] = answer["ticket"]
    return ticket


async def activity(server: Any, site: str) -> None:
    """Real traffic through the API: tickets issued at three services, served by two
    officers, one no-show, one cancelled, surveys answered in full."""
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    budi = server.token("officer", site, name="Budi", counters=["loket-1"])
    sari = server.token("officer", site, name="Sari", counters=["loket-2"])
    async with (
        httpx.AsyncClient(base_url=server.url, headers=admin) as http,
        httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {budi}"}) as b,
        httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {sari}"}) as s,
        httpx.AsyncClient(base_url=server.url) as visitor,
    ):
        tickets = [
            await issue(http, site, svc) for svc in ("ktp", "ktp", "kk", "pbb", "pbb", "ktp")
        ]
        cancelled = tickets[-1]
        await post(http, f"/api/v1/sites/{site}/tickets/{cancelled['id']}/cancel")
        done: list[dict[str, Any]] = []
        base1 = f"/api/v1/sites/{site}/counters/loket-1"
        base2 = f"/api/v1/sites/{site}/counters/loket-2"
        for _ in range(3):
            called = (await post(b, f"{base1}/next"))["ticket"]
            await post(b, f"{base1}/start")
            done.append((await post(b, f"{base1}/finish"))["ticket"])
            assert called["number"] == done[-1]["number"]
        await post(s, f"{base2}/next")
        await post(s, f"{base2}/no-show")
        await post(s, f"{base2}/next")
        done.append((await post(s, f"{base2}/finish"))["ticket"])
        for score, ticket in zip((4, 3, 4, 2), done, strict=True):
            answers = dict.fromkeys(ELEMENTS, score)
            answers["biaya"] = 4
            await post(
                visitor,
                f"/api/v1/sites/{site}/tickets/{ticket['id']}/rating",
                {"score": score, "answers": answers},
                201,
            )


async def staff_login(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(url)
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk", exact=True).click()


async def canvas_drawn(page: Page, canvas_id: str) -> bool:
    drawn: bool = await page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            if (!c || !c.width || !c.height) return false;
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
            return false;
        }""",
        canvas_id,
    )
    return drawn


async def chart_data(page: Page, canvas_id: str) -> dict[str, Any]:
    """Labels and datasets of the Chart.js chart on a canvas."""
    data: dict[str, Any] = await page.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.getElementById(id));
            return {labels: chart.data.labels, sets: chart.data.datasets.map((s) => s.data)};
        }""",
        canvas_id,
    )
    return data


def today(tz: str = TIMEZONE) -> str:
    return datetime.now(ZoneInfo(tz)).date().isoformat()


# -- the tests ------------------------------------------------------------------------


async def test_unknown_site_is_a_friendly_404(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/reports/no-such-site", "/monitor/no-such-site"):
            response = await http.get(path)
            assert response.status_code == 404
            assert "Situs tidak ditemukan" in response.text and "no-such-site" in response.text
        shell = await http.get("/evaluation")
    assert shell.status_code == 200
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    assert "<script>" not in shell.text


async def test_supervisor_sees_the_figures_the_api_answers(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path)
    await activity(server, site)
    server.user("supri", PASSWORD, role="supervisor", site=site)
    day = today()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:

        async def api(by: str, start: str = day) -> dict[str, Any]:
            query = {"from": start, "to": day, "by": by}
            answer = await http.get(f"/api/v1/sites/{site}/reports", params=query)
            assert answer.status_code == 200, answer.text
            doc: dict[str, Any] = answer.json()
            return doc

        by_service, by_hour = await api("service"), await api("hour")
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
        )

        await staff_login(page, f"{server.url}/reports/{site}", "supri")
        await expect(page.locator("body")).to_have_attribute(
            "data-loaded", f"{day}/{day}/service", timeout=5000
        )
        total = by_service["total"]
        assert total["issued"] == 6 and total["served"] == 4
        await expect(page.locator('[data-figure="issued"] .tile-value')).to_have_text(
            str(total["issued"])
        )
        await expect(page.locator('[data-figure="served"] .tile-value')).to_have_text(
            str(total["served"])
        )
        for row in [*by_service["rows"], {**total, "key": "total"}]:
            line = page.locator(f'#figures tr[data-key="{row["key"]}"]')
            for col in ("issued", "called", "served", "no_show", "cancelled"):
                await expect(line.locator(f'[data-col="{col}"]')).to_have_text(str(row[col]))
            for col, value in (
                ("wait_s.p90", row["wait_s"]["p90"]),
                ("service_s.p50", row["service_s"]["p50"]),
                ("sla.pct", row["sla"]["pct"]),
                ("ikm.score", row["ikm"]["score"]),
            ):
                shown = await line.locator(f'[data-col="{col}"]').get_attribute("data-value")
                assert json.loads(shown or "") == value, (row["key"], col, shown, value)

        # Charts drawn, with the API's numbers.
        for canvas in ("chart-arrivals", "chart-times", "chart-sla", "chart-ikm"):
            assert await canvas_drawn(page, canvas), canvas
        arrivals = await chart_data(page, "chart-arrivals")
        for row in by_hour["rows"]:
            assert (
                arrivals["sets"][0][arrivals["labels"].index(f"{row['key']}:00")] == row["issued"]
            )
        assert sum(arrivals["sets"][0]) == total["issued"]
        ikm = await chart_data(page, "chart-ikm")
        assert ikm["sets"][0] == [total["ikm"]["nrr"][e] for e in ELEMENTS]
        sla_chart = await chart_data(page, "chart-sla")
        with_target = [r for r in by_service["rows"] if r["sla"]["pct"] is not None]
        assert sla_chart["labels"] == [r["name"] for r in with_target]
        assert sla_chart["sets"][0] == [r["sla"]["pct"] for r in with_target]
        await page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)

        # Another cut: by officer, then by hour.
        await page.locator("#cut").select_option("officer")
        await expect(page.locator("body")).to_have_attribute("data-loaded", f"{day}/{day}/officer")
        for row in (await api("officer"))["rows"]:
            line = page.locator(f'#figures tr[data-key="{row["key"]}"]')
            await expect(line.locator('[data-col="served"]')).to_have_text(str(row["served"]))

        # Exports are the API's own, with the session cookie.
        csv_href = await page.locator("#export-csv").get_attribute("href")
        assert csv_href is not None and "format=csv" in csv_href and "by=officer" in csv_href
        csv = await page.request.get(f"{server.url}{csv_href}")
        assert csv.status == 200 and "wait_s.p50" in await csv.text()
        xlsx_href = await page.locator("#export-xlsx").get_attribute("href")
        assert xlsx_href is not None
        xlsx = await page.request.get(f"{server.url}{xlsx_href}")
        assert xlsx.status == 200 and (await xlsx.body())[:2] == b"PK"

        # This month, in English.
        await page.get_by_role("button", name="Bulan ini").click()
        month_start = day[:8] + "01"
        await expect(page.locator("body")).to_have_attribute(
            "data-loaded", f"{month_start}/{day}/officer"
        )
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("#export-csv")).to_have_text("Download CSV")
        await expect(page.get_by_role("button", name="This month")).to_have_attribute(
            "aria-pressed", "true"
        )
        await page.get_by_role("button", name="Bahasa Indonesia").click()
        assert not violations, violations

        # The printable monthly report.
        monthly_href = await page.locator("#monthly-link").get_attribute("href")
        assert monthly_href == f"/reports/{site}/monthly?month={day[:7]}"
        await page.goto(f"{server.url}{monthly_href}")
        await expect(page.locator("body")).to_have_attribute("data-loaded", day[:7], timeout=5000)
        month = await api("service", month_start)
        agency = await api("agency", month_start)
        await expect(page.locator(".report-site")).to_have_text("MPP Uji Laporan")
        await expect(page.locator("#report-month")).not_to_be_empty()
        await expect(page.locator('#summary [data-figure="served"] .tile-value')).to_have_text(
            str(month["total"]["served"])
        )
        for row in month["rows"]:
            line = page.locator(f'#table-service tr[data-key="{row["key"]}"]')
            await expect(line.locator('[data-col="served"]')).to_have_text(str(row["served"]))
        for row in agency["rows"]:
            line = page.locator(f'#table-agency tr[data-key="{row["key"]}"]')
            await expect(line.locator('[data-col="issued"]')).to_have_text(str(row["issued"]))
        score = month["total"]["ikm"]["score"]
        await expect(page.locator(".ikm-score")).to_contain_text(
            f"({month['total']['ikm']['category']}"
        )
        assert float(await page.locator(".ikm-score").get_attribute("data-score") or 0) == score
        await page.emulate_media(media="print")
        await expect(page.locator(".topbar")).to_be_hidden()
        for canvas in ("chart-arrivals", "chart-ikm", "chart-sla"):
            assert await canvas_drawn(page, canvas), canvas
        pdf = await page.pdf(format="A4", print_background=True)
        assert pdf[:4] == b"%PDF"
        await page.emulate_media(media="screen")


async def test_wrong_roles_see_a_clear_no_access_message(
    server: Any, page: Page, tmp_path: Path
) -> None:
    site = staff_site(server, tmp_path)
    other = staff_site(server, tmp_path, name="MPP Lain")
    server.user("budi-r", PASSWORD, role="officer", site=site, counters=["loket-1"])
    server.user("supri-lain", PASSWORD, role="supervisor", site=other)
    await staff_login(page, f"{server.url}/reports/{site}", "budi-r")
    denied = page.locator("#view-denied")
    await expect(denied).to_be_visible()
    await expect(denied).to_contain_text("Tidak ada akses")
    await expect(denied).to_contain_text("tidak memiliki akses ke laporan")
    await expect(page.locator("#figures")).to_be_hidden()

    await page.get_by_role("button", name="Keluar dan masuk dengan akun lain").click()
    await page.get_by_label("Nama pengguna").fill("supri-lain")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk", exact=True).click()
    await expect(denied).to_contain_text("supervisor")
    await expect(denied).to_be_visible()

    await page.get_by_role("button", name="Keluar dan masuk dengan akun lain").click()
    await page.get_by_label("Nama pengguna").fill("supri-lain")
    await page.get_by_label("Kata sandi").fill("salah")
    await page.get_by_role("button", name="Masuk", exact=True).click()
    await expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
