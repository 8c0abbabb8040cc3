"""Connection limits (server/guard.py) on a real `loket serve`: the header timeout, the
connections per client address, the websocket frame limit and the quiet log."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

from server.guard import RateLimit
from tests.conftest import free_port, start_serve, stop

ATTACKER = "127.0.0.1"
NEIGHBOUR = "127.0.0.2"  # another client address on the loopback


@dataclass
class Serve:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    tmp = tmp_path_factory.mktemp("limits")
    port = free_port()
    proc = start_serve(
        tmp / "serve.log",
        port,
        "--data-dir",
        str(tmp / "data"),
        "--header-timeout",
        "1.5",
        "--max-connections-per-client",
        "200",
    )
    yield Serve(port, proc)
    stop(proc)


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def closed_by_server(s: socket.socket) -> bool:
    """True once the server closed `s` (end of stream or reset), False while open."""
    s.setblocking(False)
    try:
        return s.recv(1024) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def half_sent(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HT")
        socks.append(s)
    return socks


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def neighbour_get(base: str, path: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=NEIGHBOUR)
    with httpx.Client(transport=transport, timeout=5) as client:
        return client.get(base + path)


def test_half_sent_requests_are_bounded_and_starve_no_one(serve: Serve) -> None:
    socks = half_sent(serve.port, 300)
    try:
        # past the 200 per address, connections are closed at once
        wait_for(lambda: sum(closed_by_server(s) for s in socks) >= 100)
        held = [s for s in socks if not closed_by_server(s)]
        assert len(held) == 200
        # another client is served promptly meanwhile
        began = time.monotonic()
        assert neighbour_get(serve.url, "/healthz").status_code == 200
        assert time.monotonic() - began < 1
        # the half-sent requests end at the header timeout (1.5 s here)
        wait_for(lambda: all(closed_by_server(s) for s in held), timeout_s=5)
    finally:
        for s in socks:
            s.close()
    # ... and their places are given back: the same address is served again
    wait_for(lambda: healthy(serve.url))


def test_headers_of_a_second_request_are_timed_too(serve: Serve) -> None:
    with socket.create_connection(("127.0.0.1", serve.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost:")  # ... and never the rest
        began = time.monotonic()
        wait_for(lambda: closed_by_server(s), timeout_s=5)
        assert time.monotonic() - began > 1


def test_a_frame_over_4_kib_closes_the_socket_with_1009(serve: Serve) -> None:
    url = f"ws://127.0.0.1:{serve.port}/ws/sites/bogor/events"
    with connect(url, max_size=None, open_timeout=5) as ws:
        assert '"snapshot"' in str(ws.recv(timeout=5))
        ws.send("x" * 5 * 1024)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


def test_websockets_hold_their_place_until_they_close(tmp_path: Path) -> None:
    port = free_port()
    proc = start_serve(
        tmp_path / "serve.log",
        port,
        "--data-dir",
        str(tmp_path / "data"),
        "--max-connections-per-client",
        "3",
    )
    url = f"ws://127.0.0.1:{port}/ws/sites/bogor/events"
    try:
        for _ in range(2):  # twice: closing gives the places back
            with contextlib.ExitStack() as open_sockets:
                for _ in range(3):
                    open_sockets.enter_context(connect(url, max_size=None, open_timeout=5))
                with pytest.raises((WebSocketException, OSError)):  # noqa: SIM117
                    with connect(url, max_size=None, open_timeout=5):
                        pass
            wait_for(lambda: healthy(f"http://127.0.0.1:{port}"))
    finally:
        stop(proc)


def test_a_flood_of_accept_errors_logs_one_line_per_interval() -> None:
    now = [0.0]
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test_limits.asyncio")
    logger.propagate = False
    logger.addHandler(Keep())
    logger.addFilter(RateLimit(every_s=10, clock=lambda: now[0]))
    error = OSError(24, "Too many open files")
    for _ in range(2048):
        logger.error(
            "socket.accept() out of system resource\nsocket: <socket>",
            exc_info=(OSError, error, None),
        )
    logger.warning("something else")
    now[0] = 10.0
    logger.error("socket.accept() out of system resource", exc_info=(OSError, error, None))
    lines = [r.getMessage() for r in records]
    assert lines == [
        "socket.accept() out of system resource: [Errno 24] Too many open files",
        "something else",
        "socket.accept() out of system resource: [Errno 24] Too many open files"
        " (2047 more like it in the last 10 s held back)",
    ]
    assert all(r.exc_info is None for r in records)
