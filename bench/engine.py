#!/usr/bin/env python
"""Engine bench: `next` through Loket's HTTP API against a bare route and the store.

    python bench/engine.py [--rounds 5] [--calls 6000] [--warmup 600] [--smoke]

Each measurement gets a fresh site (one service, no quota, 20 counters serving it):

  (L) `loket serve` (one worker, uvicorn, what production runs) on the bench's store;
      bench/load.py POSTs /api/v1/sites/{site}/counters/{counter}/next over 20
      keep-alive connections, one per counter, each with an officer token for its
      counter and a fresh Idempotency-Key per request.
  (a) a bare Starlette route under uvicorn (own process, the same store client as the
      app) that only awaits Store.next(site, counter, actor="bench", idem=None); the
      same load, without tokens.
  (b) Store.next from 20 coroutines in this process, no HTTP.

The queue never runs dry: before each measurement Store.issue puts warm-up + calls +
100 tickets in the queue, and every request is counted (a `null` answer fails the
run). Rounds interleave b, a and L (a and L in alternating order); the figure is the
median over rounds with the spread [min-max], and L/a and L/b per round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from harness import ROOT, Lab, free_port, header, load_average, nearest_rank, spread

N_COUNTERS = 20
SERVICE = "svc"
ADMIN_TOKEN = "bench-engine-admin-token"
TARGET_LA = 0.9


def site_doc() -> dict[str, Any]:
    return {
        "site": {"id": "bench", "name": "Bench", "timezone": "Asia/Jakarta"},
        "agencies": [{"id": "bench", "name": "Bench agency"}],
        "services": [{"id": SERVICE, "agency": "bench", "name": "Bench service", "prefix": "A"}],
        "counters": [
            {"id": f"c{i:02d}", "name": f"Loket {i}", "agency": "bench", "services": [SERVICE]}
            for i in range(1, N_COUNTERS + 1)
        ],
    }


# -- the bare baseline (a child process) --------------------------------------------------


def serve_bare(url: str, port: int) -> None:
    """A bare Starlette route that runs only Store.next, on the app's store client."""
    from collections.abc import AsyncIterator

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from server.connect import connect, disconnect
    from server.store import Store

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = connect(url)
        app.state.store = Store(redis)
        yield
        await disconnect(redis)

    async def next_(request: Request) -> Response:
        store: Store = request.app.state.store
        site = await store.site(request.path_params["site"])
        ticket = await store.next(site, request.path_params["counter"], actor="bench", idem=None)
        return JSONResponse({"ticket": ticket})

    app = Starlette(
        routes=[Route("/api/v1/sites/{site}/counters/{counter}/next", next_, methods=["POST"])],
        lifespan=lifespan,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- the store side -----------------------------------------------------------------------


async def _with_store(url: str, fn: Any) -> Any:
    from server.connect import connect, disconnect
    from server.store import Store

    redis = connect(url)
    try:
        return await fn(Store(redis))
    finally:
        await disconnect(redis)


def new_site(url: str, n: int) -> Any:
    from server import config

    site = config.parse(site_doc(), "<bench>", f"bench-{n}")

    async def load(store: Any) -> None:
        await store.load_config(site)

    asyncio.run(_with_store(url, load))
    return site


async def fill(store: Any, site: Any, want: int, workers: int = 20) -> int:
    """Issue tickets (Store.issue) until `want` wait; returns how many wait."""
    state = await store.state(site)
    missing = [want - state["waiting"][SERVICE]]

    async def worker() -> None:
        while missing[0] > 0:
            missing[0] -= 1
            await store.issue(site, SERVICE, priority=False, idem=None)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return int((await store.state(site))["waiting"][SERVICE])


def officer_tokens(url: str, site: Any) -> list[str]:
    from server import auth

    async def make(store: Any) -> list[str]:
        return [
            await auth.create_token(store, "officer", site.id, f"bench {c.id}", [c.id])
            for c in site.counters
        ]

    return list(asyncio.run(_with_store(url, make)))


def measure_direct(url: str, site: Any, calls: int, warmup: int) -> dict[str, Any]:
    async def go(store: Any) -> dict[str, Any]:
        await fill(store, site, warmup + calls + 100)
        await asyncio.gather(*(store.ping() for _ in range(N_COUNTERS)))  # open the pool
        left = [warmup + calls]
        lat: list[float] = []
        nulls = [0]
        marks: dict[str, float] = {}
        pc = time.perf_counter

        async def worker(counter: str) -> None:
            while left[0] > 0:
                left[0] -= 1
                timed = left[0] < calls
                if left[0] == calls - 1:
                    marks["start"] = pc()
                t0 = pc()
                ticket = await store.next(site, counter, actor="bench", idem=None)
                if timed:
                    lat.append(pc() - t0)
                if ticket is None:
                    nulls[0] += 1

        await asyncio.gather(*(worker(c.id) for c in site.counters))
        seconds = pc() - marks["start"]
        lat.sort()
        state = await store.state(site)
        return {
            "calls": len(lat),
            "seconds": seconds,
            "ops": len(lat) / seconds,
            "p50": nearest_rank(lat, 50) * 1000,
            "p90": nearest_rank(lat, 90) * 1000,
            "p99": nearest_rank(lat, 99) * 1000,
            "nulls": nulls[0],
            "errors": 0,
            "left": state["waiting"][SERVICE],
        }

    return dict(asyncio.run(_with_store(url, go)))


def measure_http(lab: Lab, mode: str, site: Any, calls: int, warmup: int) -> dict[str, Any]:
    tokens = officer_tokens(lab.url, site) if mode == "L" else [""] * N_COUNTERS

    async def prepare(store: Any) -> int:
        return await fill(store, site, warmup + calls + 100)

    asyncio.run(_with_store(lab.url, prepare))
    spec = lab.tmp / f"spec-{site.id}.json"
    spec.write_text(
        json.dumps(
            {
                "targets": [
                    [f"/api/v1/sites/{site.id}/counters/{c.id}/next", t]
                    for c, t in zip(site.counters, tokens, strict=True)
                ],
                "calls": calls,
                "warmup": warmup,
                "connections": N_COUNTERS,
            }
        )
    )
    with contextlib.ExitStack() as stack:
        if mode == "L":
            port = stack.enter_context(lab.loket(ADMIN_TOKEN))
        else:
            port = free_port()
            cmd = [sys.executable, __file__, "--serve-bare", lab.url, "--port", str(port)]
            stack.callback(lab.stop, lab.spawn(cmd, port, "bare"))
        load = [sys.executable, str(ROOT / "bench" / "load.py"), "--port", str(port)]
        out = subprocess.run(
            [*load, "--spec", str(spec)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("LOAD ")), None)
    if line is None:
        raise RuntimeError(f"the load client gave no result:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(line[5:])

    async def left(store: Any) -> int:
        return int((await store.state(site))["waiting"][SERVICE])

    result["left"] = asyncio.run(_with_store(lab.url, left))
    return result


# -- the run ------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=6000, help="timed calls per measurement")
    p.add_argument("--warmup", type=int, default=600, help="untimed calls before them")
    p.add_argument("--smoke", action="store_true", help="2 rounds of 200 calls: runs, no figure")
    p.add_argument("--serve-bare", metavar="REDIS_URL", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.port)
        return 0
    if args.smoke:
        args.rounds, args.calls, args.warmup = 2, 200, 40

    runs: dict[str, list[dict[str, Any]]] = {"L": [], "a": [], "b": []}
    with Lab() as lab:
        header(
            "engine bench",
            lab,
            f"{args.rounds} rounds x {args.calls} timed calls (+{args.warmup} warm-up), "
            f"{N_COUNTERS} connections",
        )
        n = 0
        for r in range(args.rounds):
            order = ("b", "a", "L") if r % 2 == 0 else ("b", "L", "a")
            for mode in order:
                n += 1
                site = new_site(lab.url, n)
                if mode == "b":
                    res = measure_direct(lab.url, site, args.calls, args.warmup)
                else:
                    res = measure_http(lab, mode, site, args.calls, args.warmup)
                runs[mode].append(res)
            last = {k: v[-1] for k, v in runs.items()}
            print(
                f"round {r + 1}/{args.rounds} ({'/'.join(order)}, load {load_average()}): "
                + "  ".join(
                    f"{k} {last[k]['ops']:.0f} ops/s p50 {last[k]['p50']:.1f} "
                    f"p99 {last[k]['p99']:.1f} ms"
                    for k in ("L", "a", "b")
                )
                + f"  L/a {last['L']['ops'] / last['a']['ops']:.2f}",
                flush=True,
            )

    names = {
        "L": "L  Loket HTTP API (tokens, idem)",
        "a": "a  bare Starlette + Store.next",
        "b": "b  Store.next, 20 coroutines",
    }
    print(f"\nmedians over {args.rounds} rounds [min-max]; latency per request, ms")
    print(f"{'':34} {'ops/s':>18} {'p50':>16} {'p90':>16} {'p99':>16}")
    for k in ("L", "a", "b"):
        rs = runs[k]
        print(
            f"{names[k]:34} {spread([x['ops'] for x in rs]):>18} "
            + " ".join(f"{spread([x[q] for x in rs], '{:.1f}'):>16}" for q in ("p50", "p90", "p99"))
        )
    la = [x["ops"] / y["ops"] for x, y in zip(runs["L"], runs["a"], strict=True)]
    lb = [x["ops"] / y["ops"] for x, y in zip(runs["L"], runs["b"], strict=True)]
    verdict = "PASS" if statistics.median(la) >= TARGET_LA else "MISS"
    print(f"L/a {spread(la, '{:.2f}')}  (target >= {TARGET_LA}: {verdict})")
    print(f"L/b {spread(lb, '{:.2f}')}")

    failed = False
    for k, rs in runs.items():
        for x in rs:
            if x["nulls"] or x["errors"] or x["left"] <= 0:
                print(
                    f"FAIL: {k}: {x['nulls']} null answers, {x['errors']} errors, "
                    f"{x['left']} tickets left",
                    file=sys.stderr,
                )
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
