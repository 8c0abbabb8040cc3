"""Shared fixtures: a private Valkey server (the bundled binary), stores, a live Loket
server in a background thread, and headless Chromium through Playwright.

Nothing here talks to the machine's shared Redis: the suite starts its own server on a
unix socket in a temporary directory and removes it at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from server import auth, config
from server.app import create_app
from server.embedded_redis import EmbeddedRedis
from server.settings import Settings
from server.store import Store

ADMIN_TOKEN = "test-admin-token"
NIK_KEY = "test-nik-key"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
_site_numbers = itertools.count(1)
# Where browser tests put their screenshots: docs/img only when asked
# (`LOKET_SCREENSHOTS=docs/img pytest tests/test_*_page.py`), so a test run leaves the
# working tree clean.
SCREENSHOTS = Path(
    os.environ.get("LOKET_SCREENSHOTS") or Path(tempfile.gettempdir()) / "loket-screenshots"
).resolve()


def fresh_site_id(prefix: str = "t") -> str:
    return f"{prefix}{next(_site_numbers)}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: EmbeddedRedis) -> str:
    return redis_server.url


@dataclass
class FakeClock:
    """A clock the tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis: Redis, clock: FakeClock) -> Store:
    return Store(redis, clock=clock)


@pytest.fixture
async def site(store: Store) -> config.Site:
    """The MPP Bogor demo under a fresh site id: no test sees another's tickets."""
    demo = config.load_demo(fresh_site_id())
    await store.load_config(demo)
    return demo


# -- a live server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Loket on a free loopback port, in a thread with its own event loop."""

    def __init__(self, redis_url: str, port: int | None = None, **settings: Any) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = ADMIN_TOKEN
        # every test logs in from 127.0.0.1: lift the per-address login limit
        defaults: dict[str, Any] = {
            "login_rate_per_minute": 10_000,
            # one NIK key for every test server: they share one store, which keeps the
            # fingerprint of the first key it saw (bookings refuse another)
            "nik_key": NIK_KEY,
            "data_dir": Path(tempfile.mkdtemp(prefix="loket-live-")),
        }
        self.settings = Settings(
            redis_url=redis_url, admin_token=ADMIN_TOKEN, **{**defaults, **settings}
        )
        self.app = create_app(self.settings)
        self.loop = asyncio.new_event_loop()
        cfg = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws_per_message_deflate=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (its store and clients live there)."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(20)

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store

    def new_site(self, config_path: str | Path | None = None) -> str:
        site_id = fresh_site_id("s")
        site = config.load_file(config_path, site_id) if config_path else config.load_demo(site_id)
        self.run(self.store.load_config(site))
        return site_id

    def token(
        self,
        role: str,
        site: str | None = None,
        name: str = "test",
        counters: list[str] | None = None,
    ) -> str:
        token: str = self.run(auth.create_token(self.store, role, site, name, counters or []))
        return token

    def user(
        self,
        username: str,
        password: str,
        role: str = "officer",
        site: str | None = None,
        counters: list[str] | None = None,
    ) -> None:
        self.run(auth.create_user(self.store, username, password, role, site, counters or []))


@pytest.fixture(scope="session")
def server(redis_url: str) -> Iterator[LiveServer]:
    live = LiveServer(redis_url)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


# -- the browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":  # a skipped browser test is no test
            pytest.fail(f"{CHROMIUM} is missing under CI=true (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    yield page
    await context.close()


# -- real `loket` processes ---------------------------------------------------------


def loket_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "LOKET_ADMIN_TOKEN": ADMIN_TOKEN, **extra}
    env.pop("LOKET_REDIS_URL", None)
    return env


def run_loket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`loket ARGS...` as a separate process, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env or loket_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )


SERVE_LOGS: dict[int, Path] = {}  # pid -> the log of a `loket serve` started below


def start_serve(
    log: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`loket serve --port PORT ARGS...` as a separate process, once it is ready."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), *args],
            env=env or loket_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    SERVE_LOGS[proc.pid] = log
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
    proc.wait()
    raise AssertionError(f"loket serve did not become ready: {log.read_text()}")


def stop(*procs: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and the process is gone within `loket serve`'s shutdown deadline."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log = SERVE_LOGS.get(proc.pid)
            raise AssertionError(
                f"loket serve did not exit after SIGTERM: {log.read_text() if log else ''}"
            ) from None


# -- a small site -------------------------------------------------------------------

_SMALL_SITE_BODY = {
    "agencies": [{"id": "dinas", "name": "Dinas Uji", "short_name": "Dinas"}],
    "services": [{"id": "umum", "agency": "dinas", "name": "Layanan Umum", "prefix": "U"}],
    "counters": [{"id": "loket-1", "name": "Loket 1", "agency": "dinas", "services": ["umum"]}],
}


def write_small_site(path: Path, **site: Any) -> Path:
    """One agency, one service (`umum`, prefix U), one counter (`loket-1`), with these
    `[site]` settings on top of id `kecil` and name `MPP Kecil`."""
    import tomli_w

    doc = {"site": {"id": "kecil", "name": "MPP Kecil", **site}, **_SMALL_SITE_BODY}
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path
