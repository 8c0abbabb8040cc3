"""Shutdown stops background tasks in bounded time, even a task that swallows a
cancellation (on Python 3.11 one that lands while an `asyncio.timeout` expires comes out
as a TimeoutError, which a retry loop catches: `loket serve` then hung after SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from server import tasks


async def _retry_loop(swallow: list[int], stopped: list[str]) -> None:
    """A worker that takes its next `swallow[0]` cancellations for a store timeout."""
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallow[0] == 0:
                stopped.append("stopped")
                raise
            swallow[0] -= 1


async def test_a_swallowed_cancellation_is_repeated() -> None:
    stopped: list[str] = []
    worker = asyncio.create_task(_retry_loop([2], stopped))
    plain = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    started = time.monotonic()
    await tasks.stop([worker, plain, None])
    assert worker.cancelled() and plain.cancelled()
    assert stopped == ["stopped"]
    assert time.monotonic() - started < 2


async def test_a_task_that_never_stops_does_not_hold_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swallow = [10**9]
    stubborn = asyncio.create_task(_retry_loop(swallow, []), name="stubborn")
    await asyncio.sleep(0)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="loket"):
        await tasks.stop([stubborn], within_s=0.5)
    assert time.monotonic() - started < 1.5
    assert "did not stop" in caplog.text and "stubborn" in caplog.text
    assert not stubborn.done()  # given up on, not waited for
    swallow[0] = 0  # leave nothing running behind the test
    stubborn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stubborn


async def test_a_client_that_never_closes_does_not_hold_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = asyncio.get_running_loop().create_future()
    with caplog.at_level(logging.ERROR, logger="loket"):
        await tasks.bounded(never, "the test client", within_s=0.2)
    assert "the test client did not close" in caplog.text


def test_serve_exits_when_its_shutdown_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last resort of `loket serve`: SIGTERM starts a deadline; past it, the
    process exits however its shutdown is doing."""
    import signal
    import threading

    import uvicorn

    from server import cli

    exited = threading.Event()
    monkeypatch.setattr(cli, "SHUTDOWN_DEADLINE_S", 0.1)
    monkeypatch.setattr(cli, "_exit_now", exited.set)
    server = cli._deadline_server_class()(uvicorn.Config(app=None))
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit
    assert exited.wait(2)
