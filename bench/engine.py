#!/usr/bin/env python
"""Engine bench: `next` throughput and latency of Loket's HTTP API against its floor.

    /work/venv/bin/python bench/engine.py [--seconds 10] [--warmup 2] [--tickets N]

One run measures, each on a fresh site (one service, no quota, 20 counters serving it):

  (L) Loket's real app (server.app.create_app) under uvicorn, one worker, own process;
      wrk -t2 -c20 POSTs /api/v1/sites/{site}/counters/{counter}/next, rotating over the
      20 counters, each with an officer bearer token for that counter and a fresh
      Idempotency-Key per request.
  (a) a bare Starlette route that only awaits Store.next(site, counter, actor="bench",
      idem=None) (the same registered Lua script, KEYS and ARGV), uvicorn, one worker,
      own process, same wrk load and counters (no auth, no body parsing, no idempotency).
  (b) Store.next straight over redis.asyncio from 20 coroutines in this process, no HTTP.

The queue must never run dry (a `next` on an empty queue is a cheap null): tickets are
pre-issued (the `issue` script, pipelined) before each warm-up and topped up after it
from the warm-up rate; nulls are counted and the run fails loudly if any occurred.

Everything runs against a private Valkey (server.embedded_redis) in a temp directory;
every process started here is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_COUNTERS = 20
SERVICE = "svc"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
ADMIN_TOKEN = "bench-admin-" + secrets.token_hex(8)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    idx = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[idx]


# -- child modes: the two HTTP servers ---------------------------------------------------

UVICORN_COMMON: dict[str, Any] = {
    "host": "127.0.0.1",
    "ws_per_message_deflate": False,
    "log_level": "warning",
    "proxy_headers": False,
}


def serve_loket(url: str, port: int, profile: str | None) -> None:
    """What `loket serve --workers 1` runs: uvicorn.run(create_app(settings), ...)."""
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    settings = Settings(redis_url=url, admin_token=os.environ["LOKET_ADMIN_TOKEN"])
    app = create_app(settings)
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        try:
            uvicorn.run(app, port=port, **UVICORN_COMMON)
        finally:
            prof.disable()
            prof.dump_stats(profile)
    else:
        uvicorn.run(app, port=port, **UVICORN_COMMON)


def serve_bare(url: str, port: int) -> None:
    """A bare Starlette route running only Store.next (same script, KEYS and ARGV)."""
    from collections.abc import AsyncIterator

    import uvicorn
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from server.store import Store

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = Redis.from_url(url, health_check_interval=30)  # as server.app.connect
        app.state.store = Store(redis)
        yield
        await redis.aclose()

    async def next_(request: Request) -> Response:
        store: Store = request.app.state.store
        site = await store.site(request.path_params["site"])  # cached Site object
        ticket = await store.next(site, request.path_params["counter"], actor="bench", idem=None)
        return JSONResponse({"ticket": ticket})

    app = Starlette(
        routes=[Route("/api/v1/sites/{site}/counters/{counter}/next", next_, methods=["POST"])],
        lifespan=lifespan,
    )
    uvicorn.run(app, port=port, **UVICORN_COMMON)


# -- the bench process -----------------------------------------------------------------

WRK_LUA = r"""
local paths = {%(paths)s}
local tokens = {%(tokens)s}
local n = #paths
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  phase = args[1] or "x"
  i = (tid - 1) * 10
  seq = 0
  nulls = 0
  bad = 0
  reqs = {}
end

function request()
  i = (i %% n) + 1
  seq = seq + 1
  local headers = {}
  headers["Content-Length"] = "0"
  headers["Idempotency-Key"] = phase .. "-" .. tid .. "-" .. seq
  if tokens[i] ~= "" then headers["Authorization"] = "Bearer " .. tokens[i] end
  return wrk.format("POST", paths[i], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("non-200: " .. status .. " " .. body .. "\n") end
  elseif string.find(body, '"ticket":null', 1, true) then
    nulls = nulls + 1
  end
end

function done(summary, latency, requests)
  local tn, tb = 0, 0
  for _, t in ipairs(threads) do
    tn = tn + (t:get("nulls") or 0)
    tb = tb + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format("BENCH {\"requests\":%%d,\"duration_us\":%%d,\"p50_us\":%%d,\"p99_us\":%%d,\"nulls\":%%d,\"bad\":%%d,\"sockerr\":%%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    tn, tb, e.connect + e.read + e.write + e.timeout))
end
"""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="loket-bench-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.embedded: Any = None
        self.url = ""
        self.site_n = 0

    # plumbing ---------------------------------------------------------------------

    def start_store(self) -> None:
        from server.embedded_redis import EmbeddedRedis

        self.embedded = EmbeddedRedis(self.tmp / "valkey")
        self.url = self.embedded.start()

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()
        if self.embedded is not None:
            self.embedded.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn_server(
        self, mode: str, profile: str | None = None
    ) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            mode,
            "--redis-url",
            self.url,
            "--port",
            str(port),
        ]
        if profile:
            cmd += ["--profile-out", profile]
        env = {**os.environ, "LOKET_ADMIN_TOKEN": ADMIN_TOKEN}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{mode} server exited with {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mode} server did not start")
            time.sleep(0.05)
        return proc, port

    def stop_proc(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with contextlib.suppress(ValueError):
            self.procs.remove(proc)

    # store-side helpers (run on a short-lived loop of their own) --------------------

    async def _with_store(self, fn: Any) -> Any:
        from redis.asyncio import Redis

        from server.store import Store

        redis = Redis.from_url(self.url)
        try:
            return await fn(Store(redis))
        finally:
            await redis.aclose()

    def new_site(self) -> Any:
        from server import config

        self.site_n += 1
        site = config.parse(site_doc(), "<bench>", f"bench-{self.site_n}-{secrets.token_hex(3)}")

        async def load(store: Any) -> None:
            await store.load_config(site)
            await store.issue(site, SERVICE, priority=False, idem=None)  # rolls the day too

        asyncio.run(self._with_store(load))
        return site

    def tokens(self, site: Any) -> list[str]:
        from server import auth

        async def make(store: Any) -> list[str]:
            return [
                await auth.create_token(store, "officer", site.id, f"bench {c.id}", [c.id])
                for c in site.counters
            ]

        return list(asyncio.run(self._with_store(make)))

    def waiting(self, site: Any) -> int:
        from server import keys

        async def q(store: Any) -> int:
            return int(await store.redis.zcard(keys.queue(site.id, SERVICE)))

        return int(asyncio.run(self._with_store(q)))

    def issue(self, site: Any, n: int) -> None:
        """n waiting tickets through the `issue` script with Store.issue's KEYS/ARGV, pipelined."""
        if n <= 0:
            return
        from server import keys

        service = (
            site.service_by_id[SERVICE]
            if hasattr(site, "service_by_id")
            else next(s for s in site.services if s.id == SERVICE)
        )

        async def run(store: Any) -> None:
            script = store._scripts["issue"]
            done = 0
            while done < n:
                batch = min(2000, n - done)
                pipe = store.redis.pipeline(transaction=False)
                for _ in range(batch):
                    now = store.clock()
                    today = store._today(site, now)
                    k, a = store._common(site, None, now)
                    k += [
                        keys.numbers(site.id, today),
                        keys.issued(site.id, today),
                        keys.queue(site.id, service.id),
                        keys.day_tickets(site.id, today),
                        keys.stats(site.id, today),
                    ]
                    a += [
                        secrets.token_urlsafe(16),
                        service.id,
                        service.agency,
                        service.prefix,
                        "0",
                        "",
                        "1",
                    ]
                    await script(keys=k, args=a, client=pipe)
                for raw in await pipe.execute():
                    r = json.loads(raw)
                    if "ticket" not in r:
                        raise RuntimeError(f"issue failed: {r}")
                done += batch

        asyncio.run(self._with_store(run))

    def valkey_version(self) -> str:
        async def v(store: Any) -> str:
            info = await store.redis.info("server")
            return str(info.get("valkey_version") or info.get("redis_version"))

        return str(asyncio.run(self._with_store(v)))

    # the measurements -------------------------------------------------------------

    def prepare(self, site: Any, rate_guess: float, secs: float) -> None:
        """Make sure at least rate_guess * secs * 2 + 2000 tickets wait (or --tickets)."""
        want = self.args.tickets or int(rate_guess * secs * 2) + 2000
        self.issue(site, want - self.waiting(site))

    def run_wrk(
        self, port: int, site: Any, tokens: list[str], secs: float, phase: str
    ) -> dict[str, Any]:
        paths = [f"/api/v1/sites/{site.id}/counters/{c.id}/next" for c in site.counters]
        script = self.tmp / f"next-{site.id}.lua"
        script.write_text(
            WRK_LUA
            % {
                "paths": ", ".join(json.dumps(p) for p in paths),
                "tokens": ", ".join(json.dumps(t) for t in tokens),
            }
        )
        cmd = [
            WRK,
            "-t",
            "2",
            "-c",
            str(N_COUNTERS),
            "-d",
            f"{max(1, round(secs))}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            phase,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
        if out.stderr.strip():
            print(out.stderr.strip(), file=sys.stderr)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
        r = json.loads(line[6:])
        ops = r["requests"] / (r["duration_us"] / 1e6)
        return {
            "ops": ops,
            "p50": r["p50_us"] / 1000,
            "p99": r["p99_us"] / 1000,
            "n": r["requests"],
            "nulls": r["nulls"],
            "bad": r["bad"] + r["sockerr"],
        }

    def measure_http(self, mode: str, rate_guess: float) -> dict[str, Any]:
        site = self.new_site()
        tokens = self.tokens(site) if mode == "loket" else [""] * N_COUNTERS
        profile = str(self.tmp / "loket.prof") if (mode == "loket" and self.args.profile) else None
        proc, port = self.spawn_server(mode, profile)
        try:
            self.prepare(site, rate_guess, self.args.warmup)
            warm = self.run_wrk(port, site, tokens, self.args.warmup, "warm")
            rate = max(rate_guess, warm["ops"] * (1 if warm["nulls"] == 0 else 3))
            self.prepare(site, rate, self.args.seconds)
            res = self.run_wrk(port, site, tokens, self.args.seconds, "run")
            res["left"] = self.waiting(site)
            res["warm_nulls"] = warm["nulls"]
        finally:
            self.stop_proc(proc)
        if profile and Path(profile).exists():
            import pstats

            print(f"\n--- cProfile of the Loket server process ({mode}), top 30 by cumulative ---")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
            print("--- top 25 by own time ---")
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        return res

    def measure_direct(self, rate_guess: float) -> dict[str, Any]:
        site = self.new_site()
        self.prepare(site, rate_guess, self.args.warmup)

        async def phase(store: Any, secs: float, record: bool) -> dict[str, Any]:
            lat: list[float] = []
            counts = {"n": 0, "nulls": 0}
            stop = time.perf_counter() + secs

            async def worker(counter: str) -> None:
                pc = time.perf_counter
                while True:
                    t0 = pc()
                    if t0 >= stop:
                        return
                    ticket = await store.next(site, counter, actor="bench", idem=None)
                    t1 = pc()
                    counts["n"] += 1
                    if ticket is None:
                        counts["nulls"] += 1
                    if record:
                        lat.append(t1 - t0)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(c.id) for c in site.counters))
            elapsed = time.perf_counter() - t0
            lat.sort()
            return {
                "ops": counts["n"] / elapsed,
                "n": counts["n"],
                "nulls": counts["nulls"],
                "p50": percentile(lat, 50) * 1000,
                "p99": percentile(lat, 99) * 1000,
                "bad": 0,
            }

        def run_phase(secs: float, record: bool) -> dict[str, Any]:
            async def go(store: Any) -> dict[str, Any]:
                # pool sized for the 20 coroutines, connected before the clock starts
                await asyncio.gather(*(store.ping() for _ in range(N_COUNTERS)))
                return await phase(store, secs, record)

            return dict(_run_loop(self._with_store(go)))

        warm = run_phase(self.args.warmup, False)
        rate = max(rate_guess, warm["ops"] * (1 if warm["nulls"] == 0 else 3))
        self.prepare(site, rate, self.args.seconds)
        res = run_phase(self.args.seconds, True)
        res["left"] = self.waiting(site)
        res["warm_nulls"] = warm["nulls"]
        return res


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=10.0, help="measurement length per bench")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up length per bench")
    p.add_argument(
        "--tickets",
        type=int,
        default=0,
        help="waiting tickets to hold before each phase (default: from the rate)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure b, a and L this many times, alternating a and L, and report "
        "medians: on 2 cores one run alone swings by +-20%%",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="run the Loket server (L) under cProfile and print the top entries",
    )
    p.add_argument("--serve", choices=("loket", "bare"), help=argparse.SUPPRESS)
    p.add_argument("--redis-url", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.serve == "loket":
        serve_loket(args.redis_url, args.port, args.profile_out)
        return 0
    if args.serve == "bare":
        serve_bare(args.redis_url, args.port)
        return 0

    bench = Bench(args)
    try:
        bench.start_store()
        version = bench.valkey_version()
        print(
            f"Valkey {version} (embedded, unix socket) | cores: {os.cpu_count()} | "
            f"python {sys.version.split()[0]} | wrk -t2 -c{N_COUNTERS} | "
            f"{args.seconds:g}s runs after {args.warmup:g}s warm-up",
            flush=True,
        )
        runs: dict[str, list[dict[str, Any]]] = {"L": [], "a": [], "b": []}
        for n in range(args.rounds):
            print(f"round {n + 1}/{args.rounds}: (b) direct redis.asyncio ...", flush=True)
            runs["b"].append(bench.measure_direct(30_000))
            guess = runs["b"][-1]["ops"]
            order = ("bare", "loket") if n % 2 == 0 else ("loket", "bare")
            for mode in order:
                print(
                    f"round {n + 1}/{args.rounds}: ({'a' if mode == 'bare' else 'L'}) "
                    f"{mode} HTTP ...",
                    flush=True,
                )
                runs["a" if mode == "bare" else "L"].append(bench.measure_http(mode, guess))
            r = runs
            print(
                f"  round {n + 1}: L {r['L'][-1]['ops']:.0f}  a {r['a'][-1]['ops']:.0f}  "
                f"b {r['b'][-1]['ops']:.0f} ops/s  L/a {r['L'][-1]['ops'] / r['a'][-1]['ops']:.2f}"
                f"  L/b {r['L'][-1]['ops'] / r['b'][-1]['ops']:.2f}",
                flush=True,
            )
    finally:
        bench.stop_all()

    def median_run(items: list[dict[str, Any]]) -> dict[str, Any]:
        return sorted(items, key=lambda r: r["ops"])[len(items) // 2]

    L, a, b = (median_run(runs[k]) for k in ("L", "a", "b"))
    print(f"\nmedian of {args.rounds} rounds:")

    rows = [
        ("L  Loket HTTP API (auth+idem)", L),
        ("a  bare Starlette + Store.next", a),
        ("b  redis.asyncio, 20 coroutines", b),
    ]
    print()
    print(
        f"{'bench':34} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'calls':>8} {'nulls':>6} "
        f"{'errors':>6} {'left':>7}"
    )
    for name, r in rows:
        print(
            f"{name:34} {r['ops']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['n']:8d} "
            f"{r['nulls']:6d} {r['bad']:6d} {r['left']:7d}"
        )
    la = statistics.median(x["ops"] / y["ops"] for x, y in zip(runs["L"], runs["a"], strict=True))
    lb = statistics.median(x["ops"] / y["ops"] for x, y in zip(runs["L"], runs["b"], strict=True))
    print()
    print(
        f"L/a = {la:.2f}  (median over rounds; target >= 0.90)  {'PASS' if la >= 0.9 else 'MISS'}"
    )
    print(
        f"L/b = {lb:.2f}  (median over rounds; target >= 0.40)  {'PASS' if lb >= 0.4 else 'MISS'}"
    )

    failed = False
    for name, r in [(k, x) for k in runs for x in runs[k]]:
        if r["nulls"] or r["left"] == 0:
            print(
                f"FAIL: {name}: the queue ran dry ({r['nulls']} null answers); raise --tickets",
                file=sys.stderr,
            )
            failed = True
        if r["bad"]:
            print(f"FAIL: {name}: {r['bad']} non-200 answers or socket errors", file=sys.stderr)
            failed = True
        if r.get("warm_nulls"):
            print(f"note: {name}: warm-up ran dry ({r['warm_nulls']} nulls)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
