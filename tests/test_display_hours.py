"""The lobby TV says when a service that is closed now opens later today ("Layanan
dibuka pukul 08.00" of the issue): in the waiting list, where its count would be."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from playwright.async_api import Page, expect

from tests.test_display_page import open_tv


async def test_a_service_closed_now_says_when_it_opens(
    server: Any, page: Page, tmp_path: Path
) -> None:
    now = datetime.now(ZoneInfo("Asia/Jakarta"))
    opens = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if opens.date() != now.date() or opens.hour >= 23:
        pytest.skip("no later hour today in Jakarta to open at")  # 23:00-24:00 only
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    doc = {
        "site": {"id": "jam", "name": "MPP Jam", "timezone": "Asia/Jakarta"},
        "agencies": [{"id": "dinas", "name": "Dinas Uji", "short_name": "Dinas"}],
        "services": [
            {
                "id": "umum",
                "agency": "dinas",
                "name": "Layanan Umum",
                "prefix": "U",
                "hours": {weekday: f"{opens:%H:%M}-23:59"},
            }
        ],
        "counters": [{"id": "loket-1", "name": "Loket 1", "agency": "dinas", "services": ["umum"]}],
    }
    path = tmp_path / "jam.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    site = server.new_site(path)
    await open_tv(page, server, site)
    row = page.locator(".waiting-row", has_text="Layanan Umum")
    await expect(row).to_contain_text(f"Buka pukul {opens:%H}.00")
