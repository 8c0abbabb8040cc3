"""Reaching the store through Redis Sentinel (high availability), with real processes:
a Valkey server on a loopback port and a sentinel watching it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import config
from server.embedded_redis import server_binary
from server.store import Store, connect, disconnect
from tests.conftest import free_port, fresh_site_id


def _wait_port(port: int, deadline_s: float = 10) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[int]:
    master_port, sentinel_port = free_port(), free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor loket 127.0.0.1 {master_port} 1\n"
    )
    procs = [
        subprocess.Popen(
            [
                str(server_binary()),
                "--port",
                str(master_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [str(server_binary()), str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        _wait_port(master_port)
        _wait_port(sentinel_port)
        yield sentinel_port
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


async def test_store_through_sentinel(sentinel: int) -> None:
    redis = connect(f"redis+sentinel://127.0.0.1:{sentinel}/loket")
    try:
        store = Store(redis)
        site = config.load_demo(fresh_site_id("sen"))
        await store.load_config(site)
        ticket = await store.issue(site, "ktp-el", priority=False, idem=None)
        called = await store.next(site, "loket-1", actor="test", idem=None)
        assert called is not None and called["id"] == ticket["id"]
    finally:
        await disconnect(redis)


def test_sentinel_url_needs_a_service_name() -> None:
    with pytest.raises(ValueError, match="service name"):
        connect("redis+sentinel://127.0.0.1:26379")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[int]:
    """A one-node Valkey Cluster holding every slot: enough to prove that each of our
    transactions and scripts stays within one slot."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(server_binary()),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
            "--cluster-enabled",
            "yes",
            "--cluster-port",  # the default, port + 10000, may lie past 65535
            str(free_port()),
            "--cluster-config-file",
            str(tmp_path / "nodes.conf"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"CLUSTER ADDSLOTSRANGE 0 16383\r\n")
            assert s.recv(64).startswith(b"+OK")
        deadline = time.monotonic() + 10
        while True:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"CLUSTER INFO\r\n")
                if b"cluster_state:ok" in s.recv(4096):
                    break
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


async def test_store_on_a_cluster(cluster: int) -> None:
    from server import auth

    redis = connect(f"redis://127.0.0.1:{cluster}", cluster=True)
    try:
        store = Store(redis)
        site = config.load_demo(fresh_site_id("cl"))
        await store.load_config(site)
        assert site.id in await store.site_ids()
        ticket = await store.issue(site, "ktp-el", priority=False, idem=None)
        assert (await store.state(site))["waiting"]["ktp-el"] == 1
        called = await store.next(site, "loket-1", actor="test", idem=None)
        assert called is not None and called["id"] == ticket["id"]
        events, complete = await store.log.events_after(site.id, 0)
        assert complete and [e["type"] for e in events][-1] == "ticket.called"
        token = await auth.create_token(store, "kiosk", site.id, "kiosk-1")
        assert (await store.accounts.token(auth.digest(token)))["role"] == "kiosk"
        await auth.create_user(store, "budi", "rahasia-123", "officer", site.id, ["loket-1"])
        assert await store.hit(site.id, "kiosk", "k", 5)
    finally:
        await disconnect(redis)
