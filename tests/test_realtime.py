"""The event websocket: snapshot, exact replay, filters, visitor positions, and two
server processes sharing one store."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server import config
from tests.conftest import ADMIN_TOKEN, LiveServer, free_port, start_serve, stop

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def ws_url(server: LiveServer, site: str, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}/ws/sites/{site}/events{query}"


async def recv(ws: Any, timeout: float = 5, *, heartbeats: bool = False) -> dict[str, Any]:
    """The next message; heartbeats (which come whenever a socket is quiet) are passed
    over unless asked for."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if heartbeats or message.get("type") != "heartbeat":
            return message


async def issue(c: httpx.AsyncClient, site: str, service: str = "ktp-el") -> dict[str, Any]:
    r = await c.post(f"/api/v1/sites/{site}/tickets", json={"service": service}, headers=ADMIN)
    assert r.status_code == 201
    return r.json()["ticket"]


async def test_snapshot_then_live_events_without_ids(server: LiveServer) -> None:
    site = server.new_site()
    async with (
        httpx.AsyncClient(base_url=server.url) as c,
        websockets.connect(ws_url(server, site)) as ws,
    ):
        snap = await recv(ws)
        assert snap["type"] == "snapshot" and isinstance(snap["seq"], int)
        assert set(snap["state"]) >= {"seq", "counters", "recent_calls", "waiting"}
        t = await issue(c, site)
        await c.post(f"/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
        issued, called = await recv(ws), await recv(ws)
        assert (issued["type"], called["type"]) == ("ticket.issued", "ticket.called")
        assert called["seq"] == issued["seq"] + 1 == snap["seq"] + 2
        assert called["ticket"]["number"] == t["number"] and "id" not in called["ticket"]
        assert called["counter"] == {"id": "loket-1", "name": "Loket 1"}


async def test_replay_gives_exactly_what_was_missed(server: LiveServer) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as c:
        async with websockets.connect(ws_url(server, site)) as ws:
            last = (await recv(ws))["seq"]
        for _ in range(5):
            await issue(c, site)
        async with websockets.connect(ws_url(server, site, f"?since={last}")) as ws:
            got = [await recv(ws) for _ in range(5)]
            assert [e["seq"] for e in got] == list(range(last + 1, last + 6))
            ready = await recv(ws)
            assert ready == {"type": "ready", "last_seq": last + 5, "epoch": ready["epoch"]}
            await issue(c, site)
            assert (await recv(ws))["seq"] == last + 6


async def test_trimmed_log_gives_a_snapshot(server: LiveServer) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as c:
        await issue(c, site)
        server.run(server.store.redis.xtrim(f"loket:{{{site}}}:events", maxlen=0))
        await issue(c, site)
        async with websockets.connect(ws_url(server, site, "?since=1")) as ws:
            first = await recv(ws)
            assert first["type"] == "snapshot" and first["state"]["waiting"]["ktp-el"] == 2


async def test_filters_and_refusals(server: LiveServer) -> None:
    site = server.new_site()
    async with (
        httpx.AsyncClient(base_url=server.url) as c,
        websockets.connect(ws_url(server, site, "?agency=imigrasi")) as ws,
    ):
        snap = await recv(ws)
        demo = config.load_demo()
        assert snap["state"]["waiting"]
        assert {demo.service_by_id[s].agency for s in snap["state"]["waiting"]} == {"imigrasi"}
        await issue(c, site, "ktp-el")  # another agency: filtered out
        await issue(c, site, "paspor-baru")
        event = await recv(ws)
        assert event["ticket"]["service"] == "paspor-baru"
    for query, reason in (
        ("?agency=nope", "unknown agency"),
        ("?since=x", "since"),
        ("?ticket=" + "x" * 22, "unknown ticket"),
    ):
        async with websockets.connect(ws_url(server, site, query)) as ws:
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await recv(ws)
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 1008
            assert reason in exc.value.rcvd.reason
    async with websockets.connect(ws_url(server, "no-such-site")) as ws:
        with pytest.raises(websockets.ConnectionClosed) as exc:
            await recv(ws)
        assert exc.value.rcvd is not None and exc.value.rcvd.code == 1008


async def test_visitor_position_messages(server: LiveServer) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as c:
        await issue(c, site)
        mine = (
            await c.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}, headers=ADMIN)
        ).json()["ticket"]
        async with websockets.connect(ws_url(server, site, f"?ticket={mine['id']}")) as ws:
            assert (await recv(ws))["type"] == "snapshot"
            pos = await recv(ws)
            assert pos["type"] == "ticket.position" and pos["position"] == 2
            await c.post(f"/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
            while (m := await recv(ws))["type"] != "ticket.position":
                pass
            assert m["position"] == 1
            await c.post(f"/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
            while (m := await recv(ws))["type"] != "ticket.position":
                pass
            assert m["status"] == "called" and m["position"] is None


def test_two_processes_share_one_store(redis_url: str, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    args = ("--redis-url", redis_url, "--config", str(config.DEMO_PATH))
    procs = [start_serve(tmp_path / f"{port}.log", port, *args) for port in ports]
    try:

        async def scenario() -> None:
            async with websockets.connect(f"ws://127.0.0.1:{ports[1]}/ws/sites/bogor/events") as ws:
                await recv(ws)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as c:
                    t = await issue(c, "bogor", "skck-baru")
                    counter = next(
                        ct.id for ct in config.load_demo().counters if "skck-baru" in ct.services
                    )
                    await c.post(f"/api/v1/sites/bogor/counters/{counter}/next", headers=ADMIN)
                while (e := await recv(ws))["type"] != "ticket.called":
                    pass
                assert e["ticket"]["number"] == t["number"]

        asyncio.run(scenario())
    finally:
        stop(*procs)


def _stalled_socket(port: int, site: str) -> socket.socket:
    """A websocket client that completes the handshake and then never reads."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    raw.sendall(
        (
            f"GET /ws/sites/{site}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert raw.recv(12) == b"HTTP/1.1 101"
    return raw


async def test_a_stalled_client_is_closed_and_delays_no_one(server: LiveServer) -> None:
    site = server.new_site()
    site_cfg = server.run(server.store.site(site))
    stalled = _stalled_socket(server.port, site)
    fanout = server.app.state.fanout
    try:
        async with websockets.connect(ws_url(server, site)) as healthy:
            start = (await recv(healthy))["seq"]
            total = 8000  # more than the stalled socket's kernel buffers and queue hold

            async def flood() -> None:
                for _ in range(total):
                    await server.store.issue(site_cfg, "ktp-el-ubah", priority=False, idem=None)

            flooding = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(flood(), server.loop))
            for n in range(1, total + 1):  # the healthy screen gets every event, in order
                assert (await recv(healthy, timeout=20))["seq"] == start + n
            await flooding
            # ... and the stalled one was cut off instead of holding everyone back
            deadline = time.monotonic() + 10
            while len(fanout.subscribers[site]) > 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(fanout.subscribers[site]) == 1
    finally:
        stalled.close()


async def test_idle_sockets_get_heartbeats(redis_url: str) -> None:
    live = LiveServer(redis_url, ws_heartbeat_s=0.3)
    live.start()
    try:
        site = live.new_site()
        async with websockets.connect(ws_url(live, site)) as ws:
            assert (await recv(ws))["type"] == "snapshot"
            assert await recv(ws, timeout=3, heartbeats=True) == {"type": "heartbeat"}
    finally:
        live.stop()


async def test_displays_ride_out_a_store_restart(tmp_path: Path) -> None:
    """The store goes down and comes back (append-only file kept): open sockets are
    closed (1013, the screen shows it is offline), and a screen that reconnects with its
    last seq gets the events made after the store's return, in order, none lost."""
    from server.embedded_redis import EmbeddedRedis

    valkey = EmbeddedRedis(tmp_path / "store")
    live = LiveServer(valkey.start())
    live.start()
    try:
        site = live.new_site()
        async with (
            httpx.AsyncClient(base_url=live.url) as c,
            websockets.connect(ws_url(live, site)) as ws,
        ):
            snap = await recv(ws)
            start, epoch = snap["seq"], snap["epoch"]
            await issue(c, site)
            assert (await recv(ws))["seq"] == start + 1
            valkey.stop()
            with pytest.raises(websockets.ConnectionClosed) as exc:
                while True:
                    await recv(ws, timeout=15)
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 1013
            r = await c.post(
                f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}, headers=ADMIN
            )
            assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable"
            valkey.start()
            t = await issue(c, site)  # the pool reconnects by itself
        query = f"?since={start + 1}&epoch={epoch}"
        async with websockets.connect(ws_url(live, site, query)) as ws:
            event = await recv(ws, timeout=15)
            assert event["seq"] == start + 2 and event["ticket"]["number"] == t["number"]
            assert (await recv(ws))["type"] == "ready"
    finally:
        live.stop()
        valkey.stop()
