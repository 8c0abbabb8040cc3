"""What the benches share: a private Valkey, child processes that are always stopped,
a `loket serve` of the tree under test, and medians with their spread.

Only loopback addresses; the store is the bundled Valkey (server.embedded_redis) in a
temp directory on a unix socket, never the machine's Redis.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(proc: subprocess.Popen[bytes], port: int, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def stop_proc(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Lab:
    """A temp directory, a private Valkey in it, and the child processes of a bench."""

    def __init__(self, prefix: str = "loket-bench-") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.embedded: Any = None
        self.url = ""

    def __enter__(self) -> Lab:
        from server.embedded_redis import EmbeddedRedis

        self.embedded = EmbeddedRedis(self.tmp / "valkey")
        self.url = self.embedded.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            stop_proc(proc)
        self.procs.clear()
        if self.embedded is not None:
            self.embedded.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn(
        self,
        cmd: Sequence[str],
        port: int,
        what: str,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{what}-{port}.log", "ab")  # noqa: SIM115 (kept by the child)
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        )
        log.close()
        self.procs.append(proc)
        try:
            wait_port(proc, port, what)
        except RuntimeError:
            stop_proc(proc)
            print((self.tmp / f"{what}-{port}.log").read_text()[-2000:], file=sys.stderr)
            raise
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        stop_proc(proc)
        with contextlib.suppress(ValueError):
            self.procs.remove(proc)

    @contextlib.contextmanager
    def loket(self, admin_token: str) -> Iterator[int]:
        """`loket serve` (one worker, what production runs) on this lab's store."""
        port = free_port()
        cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--redis-url", self.url]
        cmd += ["--data-dir", str(self.tmp / "data")]
        proc = self.spawn(cmd, port, "loket", {"LOKET_ADMIN_TOKEN": admin_token})
        try:
            yield port
        finally:
            self.stop(proc)

    def valkey_version(self) -> str:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            info = client.info("server")
            return str(info.get("valkey_version") or info.get("redis_version"))
        finally:
            client.close()


# -- figures ------------------------------------------------------------------------------


def nearest_rank(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (the value of rank ceil(p/100 x n))."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    """`median [min-max]` of a figure over rounds."""
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{fmt.format(med)} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def header(title: str, lab: Lab, extra: str = "") -> None:
    print(
        f"{title} | {time.strftime('%Y-%m-%d %H:%M')} | Valkey {lab.valkey_version()} "
        f"(embedded, unix socket) | {os.cpu_count()} cores | python {sys.version.split()[0]} "
        f"| load {load_average()}{' | ' + extra if extra else ''}",
        flush=True,
    )
