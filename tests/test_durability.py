"""A real `loket serve` on the embedded store, killed with SIGKILL, started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

TOKEN = "durability-admin"


def start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LOKET_ADMIN_TOKEN": TOKEN}
    env.pop("LOKET_REDIS_URL", None)
    # The store must come from the wheel, not from a redis-server on PATH: hide PATH.
    env["PATH"] = str(Path(sys.executable).parent)
    log = data_dir.parent / f"serve-{port}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("loket serve did not become ready")


def test_sigkill_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = start(data, port)
    base = f"http://127.0.0.1:{port}/api/v1/sites/bogor"
    h = {"Authorization": f"Bearer {TOKEN}"}
    try:
        numbers = [
            httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=h).json()["ticket"][
                "number"
            ]
            for _ in range(3)
        ]
        assert numbers == ["KT001", "KT002", "KT003"]
        called = httpx.post(f"{base}/counters/loket-1/next", headers=h).json()["ticket"]
        before = httpx.get(f"{base}/state", headers=h).json()
        events = httpx.get(f"{base}/events?since=0", headers=h).json()["events"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # A second start on the same data dir while the first's store may still be shutting
    # down must work; the kill left a lock, a socket and a pid file behind.
    proc = start(data, port)
    try:
        after = httpx.get(f"{base}/state", headers=h).json()
        assert after == before
        assert httpx.get(f"{base}/events?since=0", headers=h).json()["events"] == events
        t = httpx.get(f"{base}/tickets/{called['id']}").json()["ticket"]
        assert t["status"] == "called" and t["counter"]["id"] == "loket-1"
        r = httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=h)
        assert r.json()["ticket"]["number"] == "KT004"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_second_serve_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = start(data, free_port())
    try:
        env = {**os.environ, "LOKET_ADMIN_TOKEN": TOKEN}
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(free_port()),
                "--data-dir",
                str(data),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert "in use by another `loket serve`" in second.stderr
        # ... and the first is unharmed
        assert httpx.get(f"http://127.0.0.1:{proc_port(proc)}/readyz").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def proc_port(proc: subprocess.Popen[bytes]) -> int:
    args = proc.args
    assert isinstance(args, list)
    return int(args[args.index("--port") + 1])


@pytest.mark.parametrize("command", [["config", "dump", "--site", "bogor"]])
def test_cli_uses_the_running_store(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "data"
    proc = start(data, free_port())
    try:
        env = {**os.environ, "LOKET_ADMIN_TOKEN": TOKEN}
        out = subprocess.run(
            [sys.executable, "-m", "server.cli", *command, "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        assert 'id = "bogor"' in out.stdout
        tok = subprocess.run(
            [
                sys.executable,
                "-m",
                "server.cli",
                "token",
                "create",
                "--role",
                "kiosk",
                "--site",
                "bogor",
                "--data-dir",
                str(data),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        token = tok.stdout.strip().splitlines()[-1]
        r = httpx.post(
            f"http://127.0.0.1:{proc_port(proc)}/api/v1/sites/bogor/tickets",
            json={"service": "skck-baru"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
