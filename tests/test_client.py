"""counter_client.client against the live server (and a tiny fake websocket server for
the reconnect logic)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from counter_client.client import (
    ConflictError,
    CounterClient,
    ForbiddenError,
    LoketApiError,
    LoketConnectionError,
    NotFoundError,
    Ticket,
    UnauthorizedError,
)

COUNTER = "loket-1"  # demo site: Disdukcapil, services ktp-el (KT) and ktp-el-ubah (A)


async def issue(server: Any, site: str, service: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            f"/api/v1/sites/{site}/tickets",
            json={"service": service},
            headers={"Authorization": f"Bearer {server.admin_token}"},
        )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def admin_get(server: Any, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(path, headers={"Authorization": f"Bearer {server.admin_token}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def officer_token(server: Any, site: str, username: str, counters: list[str]) -> str:
    server.user(username, "rahasia-123", role="officer", site=site, counters=counters)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": "rahasia-123"}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_every_command(server: Any) -> None:
    site = server.new_site()
    first = await issue(server, site, "ktp-el")
    second = await issue(server, site, "ktp-el")
    third = await issue(server, site, "ktp-el-ubah")
    async with CounterClient(server.url, server.token("supervisor", site)) as loket:
        state = await loket.status(site, COUNTER)
        assert (state.id, state.name, state.status, state.ticket) == (
            COUNTER,
            "Loket 1",
            "open",
            None,
        )
        waiting = await loket.waiting(site, COUNTER)
        assert [t.number for t in waiting] == [first["number"], second["number"], third["number"]]
        assert all(isinstance(t, Ticket) and t.id for t in waiting)

        called = await loket.next(site, COUNTER)
        assert called is not None
        assert (called.number, called.status) == (first["number"], "called")
        assert called.counter is not None and called.counter.name == "Loket 1"
        assert called.called_at is not None and called.called_at.tzinfo is not None

        assert (await loket.recall(site, COUNTER)).recalls == 1
        assert (await loket.start(site, COUNTER)).status == "serving"
        assert (await loket.status(site, COUNTER)).ticket.number == first["number"]  # type: ignore[union-attr]

        moved = await loket.transfer(site, COUNTER, "ktp-el-cetak")
        assert (moved.status, moved.service, moved.transfers) == ("waiting", "ktp-el-cetak", 1)

        again = await loket.next(site, COUNTER)
        assert again is not None and again.number == second["number"]
        assert (await loket.no_show(site, COUNTER)).status == "no_show"

        out_of_turn = await loket.call(site, COUNTER, third["id"])
        assert (out_of_turn.number, out_of_turn.status) == (third["number"], "called")
        assert (await loket.finish(site, COUNTER)).status == "done"

        assert await loket.next(site, COUNTER) is None  # the transferred one is not ours
        today = await loket.today(site, COUNTER)
        assert (today.served, today.no_show) == (1, 1)

        assert (await loket.pause(site, COUNTER)).status == "paused"
        with pytest.raises(ConflictError) as paused:
            await loket.next(site, COUNTER)
        assert (paused.value.status, paused.value.code) == (409, "counter_paused")
        assert (await loket.resume(site, COUNTER)).status == "open"
        assert (await loket.close(site, COUNTER)).status == "closed"
        assert (await loket.open(site, COUNTER)).status == "open"


async def test_errors(server: Any) -> None:
    site = server.new_site()
    async with CounterClient(server.url, "not-a-token") as loket:
        with pytest.raises(UnauthorizedError) as bad:
            await loket.next(site, COUNTER)
    assert bad.value.status == 401 and bad.value.message

    token = await officer_token(server, site, "client-officer", [COUNTER])
    async with CounterClient(server.url, token) as loket:
        assert (await loket.status(site, COUNTER)).status == "open"
        with pytest.raises(ForbiddenError) as wrong:
            await loket.next(site, "loket-2")
        assert wrong.value.status == 403
        with pytest.raises(NotFoundError) as unknown:
            await loket.status(site, "loket-999")
        assert unknown.value.status == 404
        with pytest.raises(ConflictError) as nothing:
            await loket.recall(site, COUNTER)
        assert nothing.value.status == 409
        assert isinstance(nothing.value, LoketApiError)


class DropFirstAnswer(httpx.AsyncBaseTransport):
    """Sends each request to the real server, but loses the answer of the first write:
    the server has acted, the client sees a dropped connection."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keys: list[str | None] = []
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.keys.append(request.headers.get("idempotency-key"))
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and not self.dropped:
            self.dropped = True
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_retry_after_dropped_answer_acts_once(server: Any) -> None:
    site = server.new_site()
    first = await issue(server, site, "ktp-el")
    second = await issue(server, site, "ktp-el")
    transport = DropFirstAnswer()
    token = server.token("supervisor", site)
    async with CounterClient(server.url, token, transport=transport, backoff_s=0.01) as loket:
        called = await loket.next(site, COUNTER)
    assert called is not None and called.number == first["number"]
    assert len(transport.keys) == 2 and transport.keys[0] and transport.keys[0] == transport.keys[1]
    # Acted once: the first ticket is at the counter, the second still waits.
    counter = await admin_get(server, f"/api/v1/sites/{site}/counters/{COUNTER}")
    assert counter["counter"]["ticket"]["number"] == first["number"]
    waiting = await admin_get(server, f"/api/v1/sites/{site}/counters/{COUNTER}/waiting")
    assert [t["number"] for t in waiting["tickets"]] == [second["number"]]


async def test_retries_are_bounded() -> None:
    attempts: list[str | None] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.headers.get("idempotency-key"))
        if len(attempts) == 1:
            return httpx.Response(
                503, json={"error": {"code": "storage_unavailable", "message": "down"}}
            )
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse)
    async with CounterClient(
        "http://loket.invalid", "t", transport=transport, retries=3, backoff_s=0
    ) as loket:
        with pytest.raises(LoketConnectionError) as failed:
            await loket.pause("bogor", COUNTER)
    assert failed.value.status == 0 and failed.value.code == "network_error"
    assert len(attempts) == 4 and len(set(attempts)) == 1


async def test_events_replay_since(server: Any) -> None:
    site = server.new_site()
    start = (await admin_get(server, f"/api/v1/sites/{site}/state"))["seq"]
    ticket = await issue(server, site, "ktp-el")
    token = server.token("supervisor", site)
    async with CounterClient(server.url, token) as loket:
        await loket.next(site, COUNTER)
        stream = loket.events(site, since=start, agency="disdukcapil")
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            async for message in stream:
                seen.append(message)
                if message["type"] == "ticket.called":
                    break
        await stream.aclose()
    types = [m["type"] for m in seen if "seq" in m]
    assert types == ["ticket.issued", "ticket.called"]
    assert seen[-1]["ticket"]["number"] == ticket["number"]
    assert seen[-1]["seq"] > start


async def test_events_reconnect_with_last_seq() -> None:
    """A tiny fake server drops the stream after two events; the client comes back with
    since=<last seq> and never yields a seq twice."""
    from websockets.asyncio.server import ServerConnection, serve

    queries: list[dict[str, list[str]]] = []

    async def handler(socket: ServerConnection) -> None:
        query = parse_qs(urlsplit(socket.request.path).query)  # type: ignore[union-attr]
        queries.append(query)
        if "since" not in query:
            await socket.send(json.dumps({"type": "snapshot", "seq": 4, "state": {}}))
            await socket.send(json.dumps({"type": "ticket.issued", "seq": 5}))
            await socket.close(1011, "going away")
            return
        # Replays from the client's last seq, overlapping by one (which must be dropped).
        await socket.send(json.dumps({"type": "ticket.issued", "seq": 5}))
        await socket.send(json.dumps({"type": "ticket.called", "seq": 6}))
        await socket.send(json.dumps({"type": "ready", "last_seq": 6}))
        await socket.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        async with CounterClient(f"http://127.0.0.1:{port}", "secret", backoff_s=0.01) as loket:
            stream = loket.events("bogor")
            got: list[dict[str, Any]] = []
            async with asyncio.timeout(5):
                async for message in stream:
                    got.append(message)
                    if message["type"] == "ready":
                        break
            await stream.aclose()
    assert [(m["type"], m.get("seq")) for m in got] == [
        ("snapshot", 4),
        ("ticket.issued", 5),
        ("ticket.called", 6),
        ("ready", None),
    ]
    assert queries[1]["since"] == ["5"]
