"""Webhooks (docs/notifications.md): a receiver in the test verifies every signature and
gets every event (without ticket ids); a receiver that is down for a while gets
everything once it is back, each delivery with the same id on every retry; ticket.near
once per ticket; deliveries survive a restart of `loket serve`.

These tests use a store of their own: the webhook queue belongs to the installation, and
another test's server must not take (and retry slowly) these deliveries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.embedded_redis import EmbeddedRedis
from tests.conftest import (
    ADMIN_TOKEN,
    LiveServer,
    free_port,
    loket_env,
    start_serve,
    stop,
    write_small_site,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps what it got, verified or not."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.changed = threading.Condition()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.changed:
                self.got.append((dict(request.headers), body))
                self.changed.notify_all()
            return Response(status_code=204)

        config = uvicorn.Config(
            Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        while not self.server.started:
            assert self.thread.is_alive(), "the receiver did not start"
            threading.Event().wait(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done([json.loads(b) for _, b in self.got]):
                left = deadline - time.monotonic()
                assert left > 0, f"the receiver got only {[json.loads(b) for _, b in self.got]}"
                self.changed.wait(left)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What docs/notifications.md tells a receiver to do."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-loket-signature", ""))


def until(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll `check` until it answers something true."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        threading.Event().wait(0.05)


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("hooks-valkey"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def live(own_redis: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        own_redis,
        webhook_backoff_s=0.2,
        webhook_backoff_max_s=0.5,
        webhook_claim_idle_s=2.0,
        nik_key="test-nik-key",
        data_dir=tmp_path_factory.mktemp("hooks-data"),
    )
    server.start()
    yield server
    server.stop()


def small_site(live: LiveServer, tmp_path: Path, **settings: Any) -> str:
    return live.new_site(write_small_site(tmp_path / "site.toml", **settings))


def add_hook(base: str, url: str, site: str, events: list[str]) -> dict[str, Any]:
    r = httpx.post(
        f"{base}/api/v1/webhooks",
        json={"url": url, "events": events, "site": site},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    hook: dict[str, Any] = r.json()
    assert hook["secret"] and hook["id"]
    return hook


def issue(base: str, site: str, n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        r = httpx.post(
            f"{base}/api/v1/sites/{site}/tickets", json={"service": "umum"}, headers=ADMIN
        )
        assert r.status_code == 201, r.text
        out.append(r.json()["ticket"])
    return out


def deliveries(base: str, hook: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/webhooks/{hook}/deliveries", headers=ADMIN)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["deliveries"]
    return rows


def test_every_event_is_signed_and_delivered(live: LiveServer, tmp_path: Path) -> None:
    site = small_site(live, tmp_path)
    receiver = Receiver().start()
    try:
        hook = add_hook(live.url, receiver.url, site, ["*"])
        tickets = issue(live.url, site, 3)
        r = httpx.post(f"{live.url}/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
        assert r.status_code == 200
        events = httpx.get(f"{live.url}/api/v1/sites/{site}/events?since=0").json()["events"]
        wanted = {e["seq"] for e in events if e["type"] != "site.config_changed"}
        receiver.wait_for(lambda got: wanted <= {e["seq"] for e in got})
        for headers, body in receiver.got:
            assert verified(hook["secret"], headers, body)
            event = json.loads(body)
            assert headers["x-loket-event"] == event["type"] and event["site"] == site
            assert "id" not in (event.get("ticket") or {})
        for ticket in tickets:
            assert not [b for _, b in receiver.got if ticket["id"].encode() in b]
        ids = [h["x-loket-delivery"] for h, _ in receiver.got]
        assert len(ids) == len(set(ids))
        log = until(lambda: [d for d in deliveries(live.url, hook["id"]) if d["ok"]])
        assert {d["status"] for d in log} == {204}
        # listed without its secret; removed, it gets nothing more
        listed = httpx.get(f"{live.url}/api/v1/webhooks", headers=ADMIN).json()["webhooks"]
        assert [h for h in listed if h["id"] == hook["id"]] == [
            {k: hook[k] for k in ("id", "url", "events", "site", "created_at")}
        ]
        assert httpx.delete(f"{live.url}/api/v1/webhooks/{hook['id']}", headers=ADMIN).is_success
        assert httpx.get(f"{live.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=ADMIN)
        assert httpx.get(f"{live.url}/api/v1/webhooks").status_code == 401
    finally:
        receiver.stop()


def test_admin_api_refusals(live: LiveServer, tmp_path: Path) -> None:
    site = small_site(live, tmp_path)
    kiosk = {"Authorization": f"Bearer {live.token('kiosk', site)}"}
    url = f"{live.url}/api/v1/webhooks"
    good = {"url": "http://127.0.0.1:9/hook", "events": ["ticket.called"], "site": site}
    assert httpx.post(url, json=good, headers=kiosk).status_code == 403
    for bad in (
        {**good, "url": "ftp://127.0.0.1/x"},
        {**good, "events": []},
        {**good, "events": ["ticket.eaten"]},
    ):
        assert httpx.post(url, json=bad, headers=ADMIN).status_code == 400, bad
    assert httpx.post(url, json={**good, "site": "nowhere"}, headers=ADMIN).status_code == 404
    assert httpx.delete(f"{url}/0123456789abcdef", headers=ADMIN).status_code == 404


def test_receiver_down_then_back_gets_everything(live: LiveServer, tmp_path: Path) -> None:
    site = small_site(live, tmp_path)
    receiver = Receiver()  # its port, not listening yet
    hook = add_hook(live.url, receiver.url, site, ["ticket.issued"])
    try:
        issue(live.url, site, 3)
        failed = until(
            lambda: (
                len({d["delivery"] for d in deliveries(live.url, hook["id"]) if not d["ok"]}) >= 3
                and deliveries(live.url, hook["id"])
            )
        )
        assert all(d["status"] is None and d["error"] for d in failed)
        receiver.start()
        receiver.wait_for(lambda got: len({e["seq"] for e in got}) >= 3)
        log = deliveries(live.url, hook["id"])
        retried = {d["delivery"] for d in log if not d["ok"]}
        for headers, body in receiver.got:
            assert verified(hook["secret"], headers, body)
            assert headers["x-loket-delivery"] in retried  # the id of its failed attempts
        attempts = {d["delivery"]: d["attempt"] for d in log if d["ok"]}
        assert attempts and min(attempts.values()) >= 2
    finally:
        receiver.stop()
        httpx.delete(f"{live.url}/api/v1/webhooks/{hook['id']}", headers=ADMIN)


def test_ticket_near_once_per_ticket(live: LiveServer, tmp_path: Path) -> None:
    site = small_site(live, tmp_path, notify_when_position=2)
    receiver = Receiver().start()
    hook = add_hook(live.url, receiver.url, site, ["ticket.near"])
    try:
        issue(live.url, site, 4)
        receiver.wait_for(lambda got: {e["ticket"]["number"] for e in got} >= {"U001", "U002"})
        r = httpx.post(f"{live.url}/api/v1/sites/{site}/counters/loket-1/next", headers=ADMIN)
        assert r.json()["ticket"]["number"] == "U001"
        receiver.wait_for(lambda got: "U003" in {e["ticket"]["number"] for e in got})
        got = [json.loads(b) for _, b in receiver.got]
        assert sorted(e["ticket"]["number"] for e in got) == ["U001", "U002", "U003"]
        assert {e["type"] for e in got} == {"ticket.near"}
        assert all("id" not in e["ticket"] and e["position"] <= 2 for e in got)
        assert all(h["x-loket-event"] == "ticket.near" for h, _ in receiver.got)
    finally:
        receiver.stop()
        httpx.delete(f"{live.url}/api/v1/webhooks/{hook['id']}", headers=ADMIN)


def test_deliveries_survive_a_restart_of_loket_serve(tmp_path: Path) -> None:
    """The receiver is down; `loket serve` queues the deliveries and stops; the receiver
    comes back; a new `loket serve` delivers them, with their ids."""
    data = tmp_path / "data"
    env = loket_env(
        PATH=str(Path(sys.executable).parent),
        LOKET_WEBHOOK_BACKOFF_S="0.2",
        LOKET_NIK_KEY="test-nik-key",
    )
    site_file = write_small_site(tmp_path / "site.toml")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ("--data-dir", str(data), "--config", str(site_file))
    receiver = Receiver()
    proc = start_serve(tmp_path / "serve-1.log", port, *args, env=env)
    try:
        hook = add_hook(base, receiver.url, "kecil", ["ticket.issued"])
        issue(base, "kecil", 3)
        until(
            lambda: len({d["delivery"] for d in deliveries(base, hook["id"]) if not d["ok"]}) >= 3
        )
    finally:
        stop(proc)
    receiver.start()
    proc = start_serve(tmp_path / "serve-2.log", port, *args, env=env)
    try:
        receiver.wait_for(lambda got: len({e["seq"] for e in got}) >= 3)
        failed = {d["delivery"] for d in deliveries(base, hook["id"]) if not d["ok"]}
        assert {h["x-loket-delivery"] for h, _ in receiver.got} <= failed
        assert all(verified(hook["secret"], h, b) for h, b in receiver.got)
    finally:
        stop(proc)
        receiver.stop()


def test_deliveries_cut_off_by_a_stop_go_out_at_the_next_start(tmp_path: Path) -> None:
    """The receiver hangs (takes the connection, never answers) when `loket serve` is
    stopped: the attempts in flight are cut off. The process hands them back as it
    stops, so the next `loket serve` sends them at once, not after they have been idle
    for `webhook_claim_idle_s` (60 s), as it would take a dead process's."""
    data = tmp_path / "data"
    env = loket_env(PATH=str(Path(sys.executable).parent), LOKET_NIK_KEY="test-nik-key")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ("--data-dir", str(data), "--config", str(write_small_site(tmp_path / "site.toml")))
    hanging = socket.socket()
    hanging.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    hanging.settimeout(20)
    receiver = Receiver(hanging.getsockname()[1])
    taken: list[socket.socket] = []
    proc = start_serve(tmp_path / "serve-1.log", port, *args, env=env)
    try:
        hook = add_hook(base, receiver.url, "kecil", ["ticket.issued"])
        issue(base, "kecil", 3)
        taken.append(hanging.accept()[0])  # an attempt is in flight, and stays so
    finally:
        stop(proc)
        for conn in taken:
            conn.close()
        hanging.close()
    receiver.start()
    proc = start_serve(tmp_path / "serve-2.log", port, *args, env=env)
    try:
        receiver.wait_for(lambda got: len({e["seq"] for e in got}) >= 3, timeout=15)
        assert all(verified(hook["secret"], h, b) for h, b in receiver.got)
    finally:
        stop(proc)
        receiver.stop()
