"""The HTTP API against a live server: shapes, errors, roles, idempotency."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, LiveServer, write_small_site

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def api(server: LiveServer) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN) as client:
        yield client


async def state(api: httpx.AsyncClient, site: str) -> dict:
    r = await api.get(f"/api/v1/sites/{site}/state")
    assert r.status_code == 200
    return r.json()


def error(r: httpx.Response, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code


async def test_public_reads_hide_ticket_ids(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    issued = (await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})).json()
    secret = issued["ticket"]["id"]
    await api.post(f"/api/v1/sites/{site}/counters/loket-1/next")
    async with httpx.AsyncClient(base_url=server.url) as anon:
        sites = (await anon.get("/api/v1/sites")).json()["sites"]
        assert {"id": site, "name": "Mal Pelayanan Publik Kota Bogor"} in sites
        doc = (await anon.get(f"/api/v1/sites/{site}")).json()
        assert len(doc["agencies"]) == 13 and len(doc["services"]) == 147
        for path in ("state", "events?since=0"):
            r = await anon.get(f"/api/v1/sites/{site}/{path}")
            assert r.status_code == 200 and secret not in r.text
        own = (await anon.get(f"/api/v1/sites/{site}/tickets/{secret}")).json()
        assert own["ticket"]["status"] == "called" and own["position"] is None
    s = await state(api, site)
    assert s["recent_calls"][0]["number"] == "KT001"
    assert {c["id"]: c for c in s["counters"]}["loket-1"]["ticket"]["id"] == secret


async def test_counter_actions_through_http(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    base = f"/api/v1/sites/{site}/counters/loket-1"
    r = await api.post(f"{base}/next")
    assert r.json() == {"ticket": None}
    waiting = []
    for _ in range(3):
        r = await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
        assert r.status_code == 201 and r.json()["position"] == len(waiting) + 1
        waiting.append(r.json()["ticket"])
    assert (await api.post(f"{base}/next")).json()["ticket"]["number"] == "KT001"
    assert (await api.post(f"{base}/recall")).json()["ticket"]["recalls"] == 1
    assert (await api.post(f"{base}/start")).json()["ticket"]["status"] == "serving"
    r = await api.post(f"{base}/transfer", json={"service": "ktp-el-ubah"})
    assert r.json()["ticket"]["status"] == "waiting"
    r = await api.post(f"{base}/call", json={"ticket": waiting[2]["id"]})
    assert r.json()["ticket"]["number"] == "KT003"
    assert (await api.post(f"{base}/no-show")).json()["ticket"]["status"] == "no_show"
    assert (await api.post(f"{base}/pause")).json()["counter"]["status"] == "paused"
    error(await api.post(f"{base}/next"), 409, "counter_paused")
    assert (await api.post(f"{base}/resume")).json()["counter"]["status"] == "open"
    r = await api.get(f"/api/v1/sites/{site}/counters/loket-1/waiting")
    assert [t["number"] for t in r.json()["tickets"]] == ["KT001", "KT002"]
    r = await api.get(f"/api/v1/sites/{site}/counters/loket-1")
    assert r.json()["today"]["no_show"] == 1


async def test_bad_input_changes_nothing(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    before = await state(api, site)
    tickets = f"/api/v1/sites/{site}/tickets"
    error(await api.post(tickets, content=b"{not json"), 400, "malformed_json")
    error(await api.post(tickets, json=["ktp-el"]), 400, "malformed_json")
    error(await api.post(tickets, json={"service": 5}), 400, "invalid_field")
    error(await api.post(tickets, json={"service": "ktp-el", "priority": "yes"}), 400)
    error(await api.post(tickets, json={"service": "ktp-el", "colour": "red"}), 400)
    error(await api.post(tickets, json={}), 400, "invalid_field")
    error(await api.post(tickets, content=b'{"service": "' + b"x" * 70_000 + b'"}'), 413)
    error(await api.post(tickets, json={"service": "no-such"}), 404)
    error(await api.post("/api/v1/sites/nowhere/tickets", json={"service": "ktp-el"}), 404)
    error(await api.post(f"/api/v1/sites/{site}/counters/loket-999/next"), 404)
    error(await api.get(f"/api/v1/sites/{site}/tickets/not-a-ticket"), 404)
    error(await api.post(f"/api/v1/sites/{site}/tickets/{'x' * 22}/cancel"), 404)
    error(await api.post(f"/api/v1/sites/{site}/counters/loket-1/transfer", json={}), 400)
    error(await api.post(f"/api/v1/sites/{site}/counters/loket-1/recall"), 409, "no_current_ticket")
    error(await api.post(f"/api/v1/sites/{site}/tickets/{'x' * 22}/rating", json={"score": 9}), 422)
    after = await state(api, site)
    assert after == before


async def test_credentials_and_roles(server: LiveServer) -> None:
    site = server.new_site()
    other = server.new_site()
    officer = server.token("officer", site, "budi", counters=["loket-1"])
    display = server.token("display", site)
    kiosk = server.token("kiosk", site)
    foreign = server.token("officer", other, counters=["loket-1"])
    next_ = f"/api/v1/sites/{site}/counters/loket-1/next"
    async with httpx.AsyncClient(base_url=server.url) as c:
        error(await c.post(next_), 401, "unauthorized")
        error(await c.post(next_, headers={"Authorization": "Bearer nope"}), 401)
        error(await c.post(next_, headers={"Authorization": "Basic abc"}), 401)
        error(await c.post(next_, headers={"Authorization": f"Bearer {display}"}), 403)
        error(await c.post(next_, headers={"Authorization": f"Bearer {kiosk}"}), 403)
        error(await c.post(next_, headers={"Authorization": f"Bearer {foreign}"}), 403)
        error(
            await c.post(
                f"/api/v1/sites/{site}/counters/loket-2/next",
                headers={"Authorization": f"Bearer {officer}"},
            ),
            403,
            "not_your_counter",
        )
        r = await c.post(next_, headers={"Authorization": f"Bearer {officer}"})
        assert r.status_code == 200
        tickets = f"/api/v1/sites/{site}/tickets"
        r = await c.post(
            tickets, json={"service": "ktp-el"}, headers={"Authorization": f"Bearer {kiosk}"}
        )
        assert r.status_code == 201
        error(
            await c.post(
                tickets,
                json={"service": "ktp-el", "priority": True},
                headers={"Authorization": f"Bearer {kiosk}"},
            ),
            403,
        )
        error(
            await c.post(
                tickets, json={"service": "ktp-el"}, headers={"Authorization": f"Bearer {display}"}
            ),
            403,
        )


async def test_login_session_cookie_and_csrf(server: LiveServer) -> None:
    site = server.new_site()
    server.user("siti", "rahasia-123", "officer", site, ["loket-1"])
    async with httpx.AsyncClient(base_url=server.url) as c:
        error(await c.post("/api/v1/auth/login", json={"username": "siti", "password": "x"}), 401)
        r = await c.post("/api/v1/auth/login", json={"username": "siti", "password": "rahasia-123"})
        assert r.status_code == 200
        assert r.json()["role"] == "officer" and r.json()["counters"] == ["loket-1"]
        assert (await c.get("/api/v1/auth/me")).json()["name"] == "siti"
        next_ = f"/api/v1/sites/{site}/counters/loket-1/next"
        error(await c.post(next_), 403, "csrf_failed")
        r = await c.post(next_, headers={"X-CSRF-Token": c.cookies["loket_csrf"]})
        assert r.status_code == 200
        await c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": c.cookies["loket_csrf"]})
        error(await c.get("/api/v1/auth/me"), 401)


async def test_idempotency_key_acts_once_also_concurrently(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    site = server.new_site()
    for _ in range(3):
        await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
    next_ = f"/api/v1/sites/{site}/counters/loket-1/next"
    answers = await asyncio.gather(
        *(api.post(next_, headers={"Idempotency-Key": "dbl-click-1"}) for _ in range(5))
    )
    assert len({r.text for r in answers}) == 1
    again = await api.post(next_, headers={"Idempotency-Key": "dbl-click-1"})
    assert again.text == answers[0].text
    assert (await state(api, site))["waiting"]["ktp-el"] == 2
    other = await api.post(next_, headers={"Idempotency-Key": "dbl-click-2"})
    assert other.json()["ticket"]["number"] == "KT002"


async def test_health_and_openapi(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as c:
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/readyz")).status_code == 200
        doc = (await c.get("/api/openapi.json")).json()
        assert doc["openapi"].startswith("3.1")
        assert "/api/v1/sites/{site}/counters/{counter}/next" in doc["paths"]
        r = await c.get("/api/v1/nothing-here")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def small_site(server: LiveServer, tmp_path, **flags: bool) -> str:
    rates = {"kiosk_rate_per_minute": 3, "address_rate_per_minute": 4}
    return server.new_site(write_small_site(tmp_path / "kecil.toml", **rates, **flags))


async def test_kiosk_rate_limit_and_priority_rules(server: LiveServer, tmp_path) -> None:
    site = small_site(server, tmp_path, kiosk_priority=True)
    kiosk = {"Authorization": f"Bearer {server.token('kiosk', site)}"}
    other_kiosk = {"Authorization": f"Bearer {server.token('kiosk', site)}"}
    url = f"/api/v1/sites/{site}/tickets"
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post(url, json={"service": "umum", "priority": True}, headers=kiosk)
        assert r.status_code == 201 and r.json()["ticket"]["priority"] is True
        for _ in range(2):
            assert (await c.post(url, json={"service": "umum"}, headers=kiosk)).status_code == 201
        error(await c.post(url, json={"service": "umum"}, headers=kiosk), 429, "rate_limited")
        # another kiosk on the same address has its own allowance, then the address limit
        assert (await c.post(url, json={"service": "umum"}, headers=other_kiosk)).status_code == 201
        error(await c.post(url, json={"service": "umum"}, headers=other_kiosk), 429)
        # staff are not limited
        for _ in range(5):
            assert (await c.post(url, json={"service": "umum"}, headers=ADMIN)).status_code == 201


async def test_display_token_required_where_the_site_says(server: LiveServer, tmp_path) -> None:
    site = small_site(server, tmp_path, require_display_token=True)
    display = {"Authorization": f"Bearer {server.token('display', site)}"}
    async with httpx.AsyncClient(base_url=server.url) as c:
        error(await c.get(f"/api/v1/sites/{site}/state"), 401)
        assert (await c.get(f"/api/v1/sites/{site}/state", headers=display)).status_code == 200
        ws = f"ws://127.0.0.1:{server.port}/ws/sites/{site}/events"
        import websockets

        async with websockets.connect(ws) as sock:
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await sock.recv()
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 1008
        token = display["Authorization"].split()[1]
        async with websockets.connect(f"{ws}?token={token}") as sock:
            assert '"snapshot"' in await sock.recv()


async def test_rating_once_after_done(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    t = (await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})).json()
    rating = f"/api/v1/sites/{site}/tickets/{t['ticket']['id']}/rating"
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        error(await visitor.post(rating, json={"score": 4}), 409, "illegal_transition")
        await api.post(f"/api/v1/sites/{site}/counters/loket-1/next")
        await api.post(f"/api/v1/sites/{site}/counters/loket-1/finish")
        error(await visitor.post(rating, json={"score": True}), 400)
        error(await visitor.post(rating, json={"score": 4, "answers": {"rasa": 4}}), 400)
        error(await visitor.post(rating, json={"score": 4, "answers": {"biaya": 5}}), 422)
        r = await visitor.post(rating, json={"score": 4, "answers": {"biaya": 3}})
        assert r.status_code == 201 and r.json()["ticket"]["rated"] is True
        error(await visitor.post(rating, json={"score": 1}), 409, "already_rated")
        error(await visitor.post(f"/api/v1/sites/{site}/events?since=abc"), 405)
        error(await visitor.get(f"/api/v1/sites/{site}/events?since=abc"), 400)


def test_openapi_describes_every_api_route(server: LiveServer) -> None:
    """The document lists exactly the routes the server serves under /api/v1."""
    from starlette.routing import Route

    from server.openapi import document

    served = set()
    for route in server.app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1"):
            for method in route.methods or ():
                if method != "HEAD":
                    served.add((route.path, method.lower()))
    doc = document()
    described = {(path, m) for path, item in doc["paths"].items() for m in item}
    generic = {(p, "post") for p, m in served if p.endswith("{action:action}")}
    actions = {
        (p, m)
        for p, m in described
        if p.startswith("/api/v1/sites/{site}/counters/{counter}/")
        and p.rsplit("/", 1)[1] not in ("waiting",)
    }
    assert served - generic == described - actions
    from server.api import COUNTER_ACTIONS

    assert {path.rsplit("/", 1)[1] for path, _ in actions} == {*COUNTER_ACTIONS, "rating"}


async def test_public_event_reads_are_rate_limited_per_address(redis_url: str) -> None:
    """/events to the public is paged and bounded per address; staff are not limited."""
    live = LiveServer(redis_url, public_events_per_minute=3)
    live.start()
    try:
        site = live.new_site()
        admin = {"Authorization": f"Bearer {live.admin_token}"}
        async with httpx.AsyncClient(base_url=live.url) as c:
            url = f"/api/v1/sites/{site}/events?since=0"
            codes = [(await c.get(url)).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            refused = (await c.get(url)).json()
            assert refused["error"]["code"] == "rate_limited"
            for _ in range(4):
                assert (await c.get(url, headers=admin)).status_code == 200
    finally:
        live.stop()
