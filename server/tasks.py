"""Stopping the background tasks of a process, in bounded time.

A process that does not exit after SIGTERM is worse than one that stops a little untidily:
a supervisor waits, then kills it, and a deploy stalls. `loket serve` once stayed up after
SIGTERM (2 runs in ~250, idle in its event loop: a shutdown step awaited a task that
never ended). A task can miss a cancellation (on Python 3.11 `asyncio.wait_for` loses one
that lands as its inner step completes; a retry loop that catches the error carries on),
so shutdown cancels each task, cancels again while it still runs, and gives up after a
few seconds, naming what still runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable

log = logging.getLogger("loket")

STOP_WITHIN_S = 3.0
RECANCEL_S = 0.2


async def stop(
    tasks: Iterable[asyncio.Task[object] | None], within_s: float = STOP_WITHIN_S
) -> None:
    """Cancel `tasks` and wait until they are done, at most `within_s` seconds."""
    pending = {task for task in tasks if task is not None and not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while pending:
        left = deadline - loop.time()
        if left <= 0:
            names = ", ".join(sorted(task.get_name() for task in pending))
            log.error(
                "shutdown: %d task(s) did not stop within %.0f s: %s", len(pending), within_s, names
            )
            return
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=min(RECANCEL_S, left))
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("shutdown: task %s ended with %r", task.get_name(), task.exception())


async def bounded(step: Awaitable[object], what: str, within_s: float = STOP_WITHIN_S) -> None:
    """Await one shutdown step (closing a client), at most `within_s` seconds."""
    try:
        async with asyncio.timeout(within_s):
            await step
    except TimeoutError:
        log.error("shutdown: %s did not close within %.0f s", what, within_s)
