"""`loket serve` supervises its embedded store, and refuses clearly what it cannot run:
real processes, a real Valkey killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, free_port, loket_env, run_loket, start_serve, stop

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def wait_for(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def store_pid(data: Path) -> int:
    try:
        return int((data / "redis.pid").read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def ready(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_a_killed_store_is_started_again_with_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    env = loket_env(PATH=str(Path(sys.executable).parent))  # the wheel's server, not PATH's
    proc = start_serve(log, port, "--data-dir", str(data), env=env)
    base = f"http://127.0.0.1:{port}/api/v1/sites/bogor"
    try:
        first = httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=H).json()
        old = store_pid(data)
        assert old > 0
        os.kill(old, signal.SIGKILL)
        # while it is down /readyz says so, quickly; then the store is back
        seen = set()

        def restarted() -> bool:
            seen.add(ready(port))
            return store_pid(data) not in (0, old) and ready(port) == 200

        wait_for(restarted)
        assert seen <= {200, 503}, seen
        r = httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=H)
        assert r.status_code == 201, r.text
        assert r.json()["ticket"]["number"] == "KT002"  # the append-only file was kept
        t = httpx.get(f"{base}/tickets/{first['ticket']['id']}").json()["ticket"]
        assert t["number"] == "KT001"
        restarts = [ln for ln in log.read_text().splitlines() if "started it again" in ln]
        assert len(restarts) == 1 and f"pid {old}" in restarts[0], log.read_text()
    finally:
        stop(proc)
    # the restarted store ends with loket too (the parent-death signal of its thread)
    wait_for(lambda: store_pid(data) == 0 or not Path(f"/proc/{store_pid(data)}").exists())


def test_readyz_is_503_while_the_store_does_not_answer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = start_serve(tmp_path / "serve.log", port, "--data-dir", str(data))
    pid = store_pid(data)
    try:
        os.kill(pid, signal.SIGSTOP)  # alive, silent: the ping must not hang
        try:
            began = time.monotonic()
            assert ready(port) == 503
            assert time.monotonic() - began < 4
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_for(lambda: ready(port) == 200)
        assert store_pid(data) == pid  # a store that only paused is not restarted
    finally:
        stop(proc)


def test_a_binary_config_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    binary = tmp_path / "site.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    out = run_loket(
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "d"),
        "--config",
        str(binary),
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"loket: {binary} is not a text file (a site configuration is TOML, in UTF-8)"
    ]


def test_a_damaged_append_only_file_says_how_to_repair_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = start_serve(tmp_path / "serve.log", port, "--data-dir", str(data))
    stop(proc)
    incr = next((data / "appendonlydir").glob("*.incr.aof"))
    raw = incr.read_bytes()
    middle = raw.index(b"*", len(raw) // 2)
    incr.write_bytes(raw[:middle] + b"!damaged!\r\n" + raw[middle:])
    out = run_loket("serve", "--port", str(free_port()), "--data-dir", str(data))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "append-only file is damaged" in lines[0]
    assert f"valkey-check-aof --fix {incr}" in lines[0]
