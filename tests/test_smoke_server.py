from __future__ import annotations

import httpx


async def test_live_server_answers(server, admin_headers) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url, headers=admin_headers) as c:
        r = await c.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
        assert r.status_code == 201
        assert r.json()["ticket"]["number"] == "KT001"
