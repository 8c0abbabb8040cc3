"""The event websocket when things go wrong: a `since` ahead of the log, a log that
started over (epoch), a lost store, a trimmed log, thousands of phones, a revoked
credential, a cookie from another origin."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis

from server import auth, config, realtime
from server.fanout import CATCH_UP, NO_MESSAGE, Fanout, Subscriber
from server.settings import Settings
from server.store import Store
from tests.conftest import ADMIN_TOKEN, LiveServer
from tests.test_realtime import ADMIN, issue, recv, ws_url


async def closed_with(ws: Any, timeout: float = 5) -> tuple[int, str]:
    """Read until the server closes the socket: its close code and reason."""
    with pytest.raises(websockets.ConnectionClosed) as exc:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert exc.value.rcvd is not None
    return exc.value.rcvd.code, exc.value.rcvd.reason


async def test_since_ahead_is_refused_and_the_site_keeps_going(server: LiveServer) -> None:
    site = server.new_site()  # no socket yet: the first one starts the site's reader
    async with websockets.connect(ws_url(server, site, "?since=999999999")) as ahead:
        code, reason = await closed_with(ahead)
        assert code == 1008 and "since is ahead" in reason
    async with (
        httpx.AsyncClient(base_url=server.url) as c,
        websockets.connect(ws_url(server, site)) as ws,
    ):
        assert (await recv(ws))["type"] == "snapshot"
        await issue(c, site)
        await c.post(f"/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
        assert (await recv(ws))["type"] == "ticket.issued"
        assert (await recv(ws))["type"] == "ticket.called"


async def test_the_reader_never_starts_past_the_stored_seq(server: LiveServer) -> None:
    """Whatever a subscriber says it has seen, the site's reader starts at the head."""
    site = server.new_site()
    fanout: Fanout = server.app.state.fanout
    head = server.run(server.store.log.last_seq(site))

    async def subscribe_ahead() -> Subscriber:
        sub = Subscriber(site=site, with_id=False, wants=None, limit=10)
        fanout.subscribe(sub, head + 1000)
        return sub

    sub = server.run(subscribe_ahead())
    try:
        async with (
            httpx.AsyncClient(base_url=server.url) as c,
            websockets.connect(ws_url(server, site)) as ws,
        ):
            assert (await recv(ws))["seq"] == head
            await issue(c, site)
            assert (await recv(ws))["seq"] == head + 1
    finally:

        async def drop() -> None:
            fanout.unsubscribe(sub)

        server.run(drop())


async def test_epoch_in_snapshot_and_ready_and_a_stale_epoch_gets_a_snapshot(
    server: LiveServer,
) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as c:
        async with websockets.connect(ws_url(server, site)) as ws:
            snap = await recv(ws)
        epoch, seq = snap["epoch"], snap["seq"]
        assert isinstance(epoch, str) and epoch
        await issue(c, site)
        async with websockets.connect(ws_url(server, site, f"?since={seq}&epoch={epoch}")) as ws:
            assert (await recv(ws))["seq"] == seq + 1
            assert await recv(ws) == {"type": "ready", "last_seq": seq + 1, "epoch": epoch}
        # The log started over (another epoch): a replay would mean nothing, and a seq
        # ahead of the new log is no refusal either. A snapshot, never silence.
        for since in (seq, seq + 1000):
            query = f"?since={since}&epoch=another"
            async with websockets.connect(ws_url(server, site, query)) as ws:
                first = await recv(ws)
                assert first["type"] == "snapshot" and first["seq"] == seq + 1
                assert first["epoch"] == epoch


async def test_a_lost_store_closes_the_sites_sockets(tmp_path: Path) -> None:
    """No heartbeats from a dead line: the screens are told to reconnect (1013)."""
    from server.embedded_redis import EmbeddedRedis

    valkey = EmbeddedRedis(tmp_path / "store")
    live = LiveServer(valkey.start(), ws_heartbeat_s=0.3)
    live.start()
    try:
        site = live.new_site()
        async with websockets.connect(ws_url(live, site)) as ws:
            assert (await recv(ws))["type"] == "snapshot"
            assert await recv(ws, timeout=3, heartbeats=True) == {"type": "heartbeat"}
            valkey.stop()
            assert await closed_with(ws, timeout=10) == (1013, "store unavailable; reconnect")
        assert live.app.state.fanout.subscribers[site] == set()
    finally:
        live.stop()
        valkey.stop()


async def test_events_are_paged_and_say_when_the_log_is_incomplete(server: LiveServer) -> None:
    site = server.new_site()
    site_cfg = server.run(server.store.site(site))

    async def flood(n: int) -> None:
        for _ in range(n):
            await server.store.issue(site_cfg, "ktp-el-ubah", priority=False, idem=None)

    server.run(flood(1005))
    url = f"/api/v1/sites/{site}/events"
    async with httpx.AsyncClient(base_url=server.url) as c:
        body = (await c.get(url, params={"since": 0})).json()
        assert len(body["events"]) == 1000 and body["complete"] is True
        first = body["events"][0]["seq"]
        body = (await c.get(url, params={"since": first, "limit": 2})).json()
        assert [e["seq"] for e in body["events"]] == [first + 1, first + 2]
        assert body["complete"] is True
        for bad in ("0", "1001", "x", "-1"):
            r = await c.get(url, params={"since": 0, "limit": bad})
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_field"
        server.run(
            server.store.redis.xtrim(f"loket:{{{site}}}:events", maxlen=10, approximate=False)
        )
        body = (await c.get(url, params={"since": 0})).json()
        assert body["complete"] is False and len(body["events"]) == 10


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.closed: tuple[int, str] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


async def test_a_catch_up_over_a_trimmed_log_closes_1013(
    store: Store, site: config.Site, redis: Redis, redis_url: str
) -> None:
    """A socket that joined behind the reader reads the rest from the log; when the log
    no longer holds it, the socket is closed (it comes back to a snapshot), never a gap."""
    before = await store.log.last_seq(site.id)
    for _ in range(3):
        await store.issue(site, "ktp-el", priority=False, idem=None)
    await redis.xtrim(f"loket:{{{site.id}}}:events", maxlen=0)
    fanout = Fanout(store)
    services = realtime.Services(
        store, fanout, auth.Authenticator(store, ADMIN_TOKEN), Settings(redis_url, ADMIN_TOKEN)
    )
    sub = Subscriber(site=site.id, with_id=False, wants=None, limit=10)
    sub.push((CATCH_UP, before + 3, NO_MESSAGE))
    ws = FakeSocket()
    await asyncio.wait_for(
        realtime._send(ws, services, realtime.Filter(), sub, before),  # type: ignore[arg-type]
        5,
    )
    assert ws.closed is not None and ws.closed[0] == 1013 and ws.sent == []


def commands(info: dict[str, Any]) -> int:
    """Commands the store ran (those of scripts included), but for blocking reads, our own
    INFO and the handshakes of new connections (timing noise)."""
    noise = ("xread", "info", "hello", "client|setinfo", "ping", "script|load")
    return sum(
        v["calls"] for k, v in info.items() if k.startswith("cmdstat_") and k[8:] not in noise
    )


async def test_phone_positions_cost_the_same_for_1_or_50_phones(tmp_path: Path) -> None:
    """Counted on a store of its own: the suite's shared store also serves other test
    servers' background work (tickers, webhook and booking workers)."""
    from server.embedded_redis import EmbeddedRedis

    valkey = EmbeddedRedis(tmp_path / "store")
    url = valkey.start()
    live = LiveServer(url)
    live.start()
    redis = Redis.from_url(url)
    try:
        await _phone_cost(live, redis)
    finally:
        await redis.aclose()
        live.stop()
        valkey.stop()


async def _phone_cost(server: LiveServer, redis: Redis) -> None:
    site = server.new_site()
    next_url = f"/api/v1/sites/{site}/counters/loket-1/next"
    async with httpx.AsyncClient(base_url=server.url) as c:
        tickets = [await issue(c, site) for _ in range(60)]
        # Each `next` below finishes one ticket and calls one: the same work every time.
        assert (await c.post(next_url, headers=ADMIN)).status_code == 200
        # tickets[k] stands at position k now; `last` is the 60th
        last = f"?ticket={tickets[59]['id']}"
        async with websockets.connect(ws_url(server, site, last)) as first:
            assert (await recv(first))["type"] == "snapshot"
            assert (await recv(first))["position"] == 59

            async def next_and_wait(phones: dict[int, Any]) -> dict[int, dict[str, Any]]:
                before = commands(await redis.info("commandstats"))
                assert (await c.post(next_url, headers=ADMIN)).status_code == 200
                got = {}
                for k, ws in phones.items():
                    while (m := await recv(ws))["type"] != "ticket.position":
                        pass
                    got[k] = m
                used = commands(await redis.info("commandstats")) - before
                return {-1: {"used": used}, **got}

            one = await next_and_wait({59: first})
            assert one[59]["position"] == 58 and one[59]["status"] == "waiting"
            assert isinstance(one[59]["estimated_wait_s"], int)
            others = []
            try:
                for k in range(3, 52):
                    ws = await websockets.connect(
                        ws_url(server, site, f"?ticket={tickets[k]['id']}")
                    )
                    others.append(ws)
                    assert (await recv(ws))["type"] == "snapshot"
                    assert (await recv(ws))["position"] == k - 1  # two called already
                phones = {59: first, **{k: ws for k, ws in zip(range(3, 52), others, strict=True)}}
                fifty = await next_and_wait(phones)
                assert {k: m["position"] for k, m in fifty.items() if k >= 0} == {
                    k: k - 2 for k in phones
                }
                assert all(
                    set(m) == {"type", "status", "position", "estimated_wait_s"}
                    for k, m in fifty.items()
                    if k >= 0
                )
                # per event, the store does the same work for 50 phones as for one
                assert fifty[-1]["used"] <= one[-1]["used"] + 5, (one[-1], fifty[-1])
                # the phone whose ticket is called is told so, without a position
                await c.post(next_url, headers=ADMIN)
                while (m := await recv(others[0]))["type"] != "ticket.position":
                    pass
                assert (m["status"], m["position"], m["estimated_wait_s"]) == ("called", None, None)
                while (m := await recv(others[1]))["type"] != "ticket.position":
                    pass
                assert (m["status"], m["position"]) == ("waiting", 1)
            finally:
                for ws in others:
                    await ws.close()


async def test_a_revoked_credential_closes_its_sockets(server: LiveServer) -> None:
    site = server.new_site()
    token = server.token("display", site)
    other = server.token("display", site)
    async with (
        websockets.connect(ws_url(server, site, f"?token={token}")) as by_query,
        websockets.connect(
            ws_url(server, site), additional_headers={"Authorization": f"Bearer {token}"}
        ) as by_header,
        websockets.connect(ws_url(server, site, f"?token={other}")) as kept,
    ):
        for ws in (by_query, by_header, kept):
            assert (await recv(ws))["type"] == "snapshot"
        assert server.run(server.store.accounts.revoke_token(auth.digest(token)))
        start = time.monotonic()
        for ws in (by_query, by_header):
            assert await closed_with(ws, timeout=6) == (1008, "credential revoked")
        assert time.monotonic() - start < 6
        async with httpx.AsyncClient(base_url=server.url) as c:
            await issue(c, site)
        assert (await recv(kept))["type"] == "ticket.issued"


async def test_a_cookie_socket_from_another_origin_is_refused(server: LiveServer) -> None:
    site = server.new_site()
    cookie = {"Cookie": f"{auth.SESSION_COOKIE}={server.token('officer', site)}"}
    host = f"127.0.0.1:{server.port}"
    for origin in (f"http://{host}", f"https://{host}"):  # scheme-agnostic
        headers = {**cookie, "Origin": origin}
        async with websockets.connect(ws_url(server, site), additional_headers=headers) as ws:
            assert (await recv(ws))["type"] == "snapshot"
    for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
        headers = {**cookie, "Origin": origin}
        async with websockets.connect(ws_url(server, site), additional_headers=headers) as ws:
            code, reason = await closed_with(ws)
            assert code == 1008 and "origin" in reason
    # No cookie, or a token: nothing a foreign page could ride on.
    token = server.token("display", site)
    for query in ("", f"?token={token}"):
        headers = {"Origin": "http://evil.example"}
        async with websockets.connect(
            ws_url(server, site, query), additional_headers=headers
        ) as ws:
            assert (await recv(ws))["type"] == "snapshot"
