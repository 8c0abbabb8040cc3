"""Store-level issue and next throughput of whichever Loket tree is on PYTHONPATH.

    PYTHONPATH=<tree> python bench/storeload.py --redis-url URL --site ID [--calls N]

Used by bench/rollup_cost.py to run the same driver against two code trees; it imports
only `server` (from that tree) and redis, so it works with any version whose Store has
`load_config`, `issue(site, service, priority=, idem=)` and `next(site, counter,
actor=, idem=)`. On a fresh site (one service, 20 counters):

  issue: `warmup` untimed, then `calls` timed Store.issue from 20 coroutines;
  next:  `warmup` untimed, then `calls` timed Store.next from 20 coroutines, one per
         counter (each `next` finishes the counter's previous ticket first).

Besides client-side ops/s it reads the store's own time per script call (INFO
commandstats, evalsha usec_per_call, reset before each timed phase): Valkey's CPU per
issue and per next, which is where the rollups' extra work lands. Trees with the journal
of figures (rollups.py `settle`) then settle what the phases wrote, all at once: its
app CPU and store time per transition. Prints one line `STORE {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

N_COUNTERS = 20
SERVICE = "svc"


def site_doc(site_id: str) -> dict[str, Any]:
    return {
        "site": {"id": site_id, "name": "Bench", "timezone": "Asia/Jakarta"},
        "agencies": [{"id": "bench", "name": "Bench agency"}],
        "services": [{"id": SERVICE, "agency": "bench", "name": "Bench service", "prefix": "A"}],
        "counters": [
            {"id": f"c{i:02d}", "name": f"Loket {i}", "agency": "bench", "services": [SERVICE]}
            for i in range(1, N_COUNTERS + 1)
        ],
    }


async def script_usec(redis: Any) -> tuple[int, float]:
    """(calls, usec per call) of EVALSHA since the last CONFIG RESETSTAT."""
    stats = await redis.info("commandstats")
    entry = stats.get("cmdstat_evalsha") or {}
    return int(entry.get("calls", 0)), float(entry.get("usec_per_call", 0.0))


async def phase(redis: Any, n_untimed: int, n_timed: int, workers: list[Any]) -> dict[str, float]:
    """Run `n_untimed` then `n_timed` calls spread over the worker callables."""
    left = [n_untimed + n_timed]
    marks: dict[str, float] = {}

    async def loop(call: Any) -> None:
        while left[0] > 0:
            left[0] -= 1
            if left[0] == n_timed - 1:
                marks["start"] = time.perf_counter()
                await redis.config_resetstat()  # (awaited by one worker; the rest go on)
            await call()

    await asyncio.gather(*(loop(w) for w in workers))
    seconds = time.perf_counter() - marks["start"]
    calls, usec = await script_usec(redis)
    return {"ops": n_timed / seconds, "seconds": seconds, "script_calls": calls, "usec": usec}


async def run(url: str, site_id: str, calls: int, warmup: int) -> dict[str, Any]:
    from redis.asyncio import Redis

    import server
    from server import config
    from server.store import Store

    redis = Redis.from_url(url, max_connections=64)
    try:
        store = Store(redis)
        site = config.parse(site_doc(site_id), "<bench>", site_id)
        await store.load_config(site)
        await asyncio.gather(*(store.ping() for _ in range(N_COUNTERS)))  # open the pool

        async def issue() -> None:
            await store.issue(site, SERVICE, priority=False, idem=None)

        issued = await phase(redis, warmup, calls, [issue] * N_COUNTERS)
        for _ in range(100):  # so the last `next` still finds a ticket
            await issue()

        def caller(counter: str) -> Any:
            async def call() -> None:
                if await store.next(site, counter, actor="bench", idem=None) is None:
                    raise RuntimeError("the queue ran dry")

            return call

        nexted = await phase(redis, warmup, calls, [caller(c.id) for c in site.counters])
        result = {"tree": server.__file__, "issue": issued, "next": nexted}
        if hasattr(getattr(store, "rollups", None), "settle"):  # with a journal of figures
            result["settle"] = await settle(redis, store, site_id, 2 * (warmup + calls) + 100)
        return result
    finally:
        await redis.aclose()


async def settle(redis: Any, store: Any, site_id: str, transitions: int) -> dict[str, float]:
    """Settle the journal the phases left (rollups.py): what the server does every 30 s
    and before each report, here all at once; its cost per transition, app and store."""
    await redis.config_resetstat()
    cpu, started = time.process_time(), time.perf_counter()
    entries = await store.rollups.settle(site_id)
    cpu, seconds = time.process_time() - cpu, time.perf_counter() - started
    stats = await redis.info("commandstats")
    store_usec = sum(  # settle.lua and the reads of the journal
        float(stats.get(f"cmdstat_{name}", {}).get("usec", 0)) for name in ("evalsha", "lrange")
    )
    return {
        "entries": entries,
        "seconds": seconds,
        "app_usec_per_transition": cpu * 1e6 / transitions,
        "store_usec_per_transition": store_usec / transitions,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--redis-url", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=500)
    args = p.parse_args()
    result = asyncio.run(run(args.redis_url, args.site, args.calls, args.warmup))
    print("STORE " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
