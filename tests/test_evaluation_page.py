"""The evaluation of every site, /evaluation, in headless Chromium against the live
server: every site's figures as the API answers them, ranked, sortable, charted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import SCREENSHOTS
from tests.test_reports_page import (
    PASSWORD,
    activity,
    canvas_drawn,
    chart_data,
    staff_login,
    staff_site,
    today,
)


async def test_evaluator_compares_every_site(server: Any, page: Page, tmp_path: Path) -> None:
    busy = staff_site(server, tmp_path, name="MPP Ramai")
    quiet = staff_site(server, tmp_path, name="MPP Sepi")
    await activity(server, busy)
    server.user("eva", PASSWORD, role="evaluator")
    day = today()
    month_start = day[:8] + "01"
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
        answer = await http.get("/api/v1/evaluation", params={"from": month_start, "to": day})
        assert answer.status_code == 200, answer.text
        sites = {row["key"]: row for row in answer.json()["sites"]}

    await staff_login(page, f"{server.url}/evaluation", "eva")
    await expect(page.locator("body")).to_have_attribute(
        "data-loaded", f"{month_start}/{day}", timeout=5000
    )
    for site in (busy, quiet):
        row = sites[site]
        line = page.locator(f'#ranking tr[data-key="{site}"]')
        await expect(line).to_contain_text(row["name"])
        for col, value in (
            ("served", row["served"]),
            ("issued", row["issued"]),
            ("wait_s.p90", row["wait_s"]["p90"]),
            ("sla.pct", row["sla"]["pct"]),
            ("ikm.score", row["ikm"]["score"]),
            ("served_per_counter_hour", row["served_per_counter_hour"]),
        ):
            shown = await line.locator(f'[data-col="{col}"]').get_attribute("data-value")
            assert json.loads(shown or "") == value, (site, col, shown, value)
    assert sites[busy]["served"] == 4

    # Sorted by a heading: served, most first; again, fewest first (nulls always last).
    served = page.locator('#ranking thead [data-sort="served"]')
    await served.click()
    await expect(page.locator('#ranking th[data-col="served"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    values = [
        json.loads(v or "null")
        for v in await page.locator('#ranking tbody [data-col="served"]').evaluate_all(
            "(cells) => cells.map((c) => c.dataset.value)"
        )
    ]
    assert values == sorted(values, reverse=True)
    await served.click()
    await expect(page.locator('#ranking th[data-col="served"]')).to_have_attribute(
        "aria-sort", "ascending"
    )
    first_rank = page.locator('#ranking tbody tr:first-child [data-col="rank"]')
    await expect(first_rank).to_have_text("1")

    # Charts: IKM and SLA per site, in the table's order, with the API's numbers.
    for canvas in ("chart-ikm-sites", "chart-sla-sites"):
        assert await canvas_drawn(page, canvas), canvas
    ikm = await chart_data(page, "chart-ikm-sites")
    position = ikm["labels"].index("MPP Ramai")
    assert ikm["sets"][0][position] == sites[busy]["ikm"]["score"]
    sla = await chart_data(page, "chart-sla-sites")
    assert sla["sets"][0][position] == sites[busy]["sla"]["pct"]
    await page.locator('#ranking thead [data-sort="ikm.score"]').click()
    await page.screenshot(path=str(SCREENSHOTS / "evaluation.png"), full_page=True)

    href = await page.locator("#export-csv").get_attribute("href")
    assert href == f"/api/v1/evaluation?from={month_start}&to={day}&format=csv"
    csv = await page.request.get(f"{server.url}{href}")
    assert csv.status == 200 and f"\n{busy}" in await csv.text()


async def test_supervisors_and_officers_may_not_open_it(server: Any, page: Page) -> None:
    site = server.new_site()
    server.user("supri-e", PASSWORD, role="supervisor", site=site)
    await staff_login(page, f"{server.url}/evaluation", "supri-e")
    denied = page.locator("#view-denied")
    await expect(denied).to_contain_text("tidak memiliki akses ke evaluasi")
    await page.get_by_role("button", name="English").click()
    await expect(denied).to_contain_text("No access")
