"""A real `loket serve` on the embedded store, killed with SIGKILL, started again."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import ADMIN_TOKEN, free_port, loket_env, run_loket, start_serve, stop

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    # The store must come from the wheel, not from a redis-server on PATH: hide PATH.
    env = loket_env(PATH=str(Path(sys.executable).parent))
    return start_serve(data.parent / f"serve-{port}.log", port, "--data-dir", str(data), env=env)


def test_sigkill_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = serve(data, port)
    base = f"http://127.0.0.1:{port}/api/v1/sites/bogor"
    try:
        numbers = [
            httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=H).json()["ticket"][
                "number"
            ]
            for _ in range(3)
        ]
        assert numbers == ["KT001", "KT002", "KT003"]
        called = httpx.post(f"{base}/counters/loket-1/next", headers=H).json()["ticket"]
        before = httpx.get(f"{base}/state", headers=H).json()
        events = httpx.get(f"{base}/events?since=0", headers=H).json()["events"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The kill left a lock, a socket and a pid file behind; the next start copes.
    proc = serve(data, port)
    try:
        after = httpx.get(f"{base}/state", headers=H).json()
        assert after == before
        assert httpx.get(f"{base}/events?since=0", headers=H).json()["events"] == events
        t = httpx.get(f"{base}/tickets/{called['id']}").json()["ticket"]
        assert t["status"] == "called" and t["counter"]["id"] == "loket-1"
        r = httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=H)
        assert r.json()["ticket"]["number"] == "KT004"
    finally:
        stop(proc)


def test_second_serve_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = serve(data, port)
    try:
        second = run_loket("serve", "--port", str(free_port()), "--data-dir", str(data))
        assert second.returncode == 1
        assert "in use by another `loket serve`" in second.stderr
        # ... and the first is unharmed
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        stop(proc)


def test_cli_uses_the_running_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = serve(data, port)
    try:
        out = run_loket("config", "dump", "--site", "bogor", "--data-dir", str(data))
        assert out.returncode == 0, out.stderr
        assert 'id = "bogor"' in out.stdout
        tok = run_loket(
            "token", "create", "--role", "kiosk", "--site", "bogor", "--data-dir", str(data)
        )
        token = tok.stdout.strip().splitlines()[-1]
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/sites/bogor/tickets",
            json={"service": "skck-baru"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201
    finally:
        stop(proc)


@contextlib.asynccontextmanager
async def screens_on_serve(
    tmp_path: Path, n: int
) -> AsyncIterator[tuple[subprocess.Popen[bytes], list[Any], Path]]:
    """`loket serve` with `n` lobby screens subscribed (each has its snapshot): the
    process, the sockets and the serve log. Whatever is left running is ended after."""
    data = tmp_path / "data"
    port = free_port()
    proc = serve(data, port)
    url = f"ws://127.0.0.1:{port}/ws/sites/bogor/events"
    screens: list[Any] = []
    try:
        for _ in range(n):
            screens.append(await websockets.connect(url, additional_headers=H))
            assert '"snapshot"' in str(await asyncio.wait_for(screens[-1].recv(), 5))
        yield proc, screens, data.parent / f"serve-{port}.log"
    finally:
        for ws in screens:
            await ws.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def sigterm_exit_s(proc: subprocess.Popen[bytes]) -> float:
    """SIGTERM, and how long the process took to exit."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    await asyncio.to_thread(proc.wait, 10)
    return time.monotonic() - began


def assert_no_traceback(log: Path) -> None:
    text = log.read_text()
    assert "Traceback" not in text and "Exception in ASGI application" not in text, text


async def test_sigterm_closes_open_screens_at_once(tmp_path: Path) -> None:
    """A deploy stops `loket serve` with SIGTERM while TVs are open: each gets the close
    code 1012 (restarting: reconnect) at once, the process is gone within a second or
    two instead of waiting out uvicorn's graceful timeout, and the log has no traceback
    of a cancelled websocket."""
    async with screens_on_serve(tmp_path, 5) as (proc, screens, log):
        stopping = asyncio.create_task(sigterm_exit_s(proc))
        for ws in screens:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert await stopping < 2.5  # uvicorn's graceful timeout is 3 s
    assert_no_traceback(log)


async def test_screens_that_left_do_not_hold_the_stop(tmp_path: Path) -> None:
    """TVs whose connections were cut (a switch rebooted) and a SIGTERM right after: the
    sockets are let go as their connections end, not at the next frame the server would
    send them, so the process still exits at once and logs no cancelled websocket
    (before, it waited out uvicorn's 3 s and logged a traceback for each)."""
    async with screens_on_serve(tmp_path, 20) as (proc, screens, log):
        for ws in screens:
            ws.transport.abort()
        await asyncio.sleep(0.05)
        assert await sigterm_exit_s(proc) < 2.5
    assert_no_traceback(log)
