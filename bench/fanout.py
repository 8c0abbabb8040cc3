"""Websocket fan-out: Loket's /ws/sites/{site}/events against a bare `websockets` server.

    /work/venv/bin/python bench/fanout.py [--sizes 1000,5000] [--calls 20] [--interval 0.5]

For each size N, twice (Loket, then the baseline):

* the server runs alone in its own process (Loket: `python -m server.cli serve`, one
  worker, on a private Valkey started here through `server.embedded_redis`; baseline:
  this file with `--role baseline`, a `websockets.asyncio.server.serve`, on uvloop
  if it is installed (it is not a dependency), else asyncio);
* N unfiltered, unauthenticated display sockets connect from 1 or 2 client processes
  (this file with `--role client`), in batches, each waiting for its first message
  (Loket's snapshot);
* memory per idle connection = (server VmRSS with N idle sockets - VmRSS before) / N,
  the "before" taken after a warm-up (a few sockets, one call, closed again);
* then `--calls` calls, one every `--interval` s (or as soon as the previous one has
  reached every socket, if that takes longer): Loket gets
  POST /api/v1/sites/bogor/counters/loket-1/next (tickets issued beforehand, so the
  call is the only event); the baseline gets a "go" over a control websocket and does
  websockets.broadcast() of a ticket.called message captured from Loket. Latency =
  from just before the request/trigger is sent to the moment the LAST of the N sockets
  received it. All timestamps are CLOCK_MONOTONIC (time.monotonic), which is one
  system-wide clock on Linux, so the client processes' receipt times compare directly
  with the sender's.

Everything started here is stopped in `finally` blocks, also on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
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
PY = sys.executable
SITE = "bogor"
COUNTER = "loket-1"
SERVICE = "ktp-el"
ADMIN_TOKEN = "bench-fanout-admin-token"
CALLED = '"ticket.called"'
TARGET_P99 = 1.5
TARGET_MEM = 1.5


def raise_nofile(want: int = 65536) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for s, h in ((want, max(want, hard)), (min(want, hard), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (s, h))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def use_uvloop() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


# -- role: client -------------------------------------------------------------------------


async def client_main(args: argparse.Namespace) -> None:
    """N sockets; reports `ready`, then `done k first last` once all got call k."""
    from websockets.asyncio.client import connect

    out = sys.stdout
    n = args.count
    sockets: list[Any] = []
    snapshot_bytes: list[int] = []
    failed = 0

    async def open_one() -> None:
        nonlocal failed
        try:
            ws = await connect(
                args.url,
                compression=None,
                ping_interval=None,  # lobby TVs (browsers) send no pings
                open_timeout=60,
                close_timeout=2,
                max_size=None,
            )
            first = await asyncio.wait_for(ws.recv(), 60)
        except Exception as exc:
            failed += 1
            if failed <= 3:
                print(f"connect failed: {exc!r}", file=sys.stderr, flush=True)
            return
        snapshot_bytes.append(len(first))
        sockets.append(ws)

    t0 = time.monotonic()
    for i in range(0, n, args.batch):
        await asyncio.gather(*(open_one() for _ in range(min(args.batch, n - i))))
    took = time.monotonic() - t0
    ok = len(sockets)
    avg = int(statistics.mean(snapshot_bytes)) if snapshot_bytes else 0
    out.write(f"ready {ok} {failed} {took:.3f} {avg}\n")
    out.flush()

    counts: dict[int, int] = {}
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    sample_written = False

    async def listen(ws: Any) -> None:
        nonlocal sample_written
        k = 0
        with contextlib.suppress(Exception):
            async for msg in ws:
                if CALLED not in msg:
                    continue
                now = time.monotonic()
                c = counts.get(k, 0) + 1
                counts[k] = c
                if c == 1:
                    first[k] = now
                    if args.sample_out and not sample_written:
                        sample_written = True
                        Path(args.sample_out).write_text(msg)
                if c == ok:
                    last[k] = now
                    out.write(f"done {k} {first[k]:.6f} {now:.6f}\n")
                    out.flush()
                k += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    # wait for "quit" (or EOF) on stdin
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    for task in listeners:
        task.cancel()
    for i in range(0, ok, 500):
        await asyncio.gather(*(ws.close() for ws in sockets[i : i + 500]), return_exceptions=True)
    out.write("bye\n")
    out.flush()


# -- role: baseline server ----------------------------------------------------------------


async def baseline_main(args: argparse.Namespace) -> None:
    import websockets
    from websockets.asyncio.server import serve

    message = Path(args.message_file).read_text()
    snapshot = json.dumps({"type": "snapshot", "seq": 0, "state": {}})
    snapshot += " " * max(0, args.snapshot_bytes - len(snapshot))
    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        if ws.request.path == "/ctl":
            async for _ in ws:
                websockets.broadcast(clients, message)
                await ws.send("ok")
            return
        clients.add(ws)
        try:
            await ws.send(snapshot)
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handler, "127.0.0.1", args.port, compression=None, backlog=4096):
        print("listening", flush=True)
        await stop


# -- the orchestrator ---------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (with 20 samples, p99 is the maximum)."""
    s = sorted(values)
    rank = min(len(s), max(1, math.ceil(q / 100 * len(s))))
    return s[rank - 1]


class Proc:
    """A child process we own: stdin/stdout pipes, stopped for sure in stop()."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name

    async def line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            raise RuntimeError(f"{self.name} exited (rc={self.proc.returncode})")
        return raw.decode().strip()

    async def stop(self, sig: int = signal.SIGTERM, grace: float = 15) -> None:
        if self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


def _child_setup() -> None:  # runs in each child before exec
    raise_nofile()


async def spawn(name: str, argv: list[str], *, log: Path | None = None, **kw: Any) -> Proc:
    stdout = subprocess.PIPE
    stderr = open(log, "ab") if log else None  # noqa: SIM115 - closed right after spawning
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            preexec_fn=_child_setup,
            cwd=ROOT,
            limit=1 << 20,
            **kw,
        )
    finally:
        if stderr:
            stderr.close()
    return Proc(proc, name)


class Clients:
    """1-2 client processes holding N display sockets between them."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []
        self.counts: list[int] = []
        self.ready: list[tuple[int, int, float, int]] = []

    async def start(
        self, url: str, n: int, nprocs: int, batch: int, tmp: Path, sample_out: Path | None
    ) -> None:
        share = [n // nprocs + (1 if i < n % nprocs else 0) for i in range(nprocs)]
        for i, count in enumerate(share):
            argv = [PY, __file__, "--role", "client", "--url", url, "--count", str(count)]
            argv += ["--batch", str(max(1, batch // nprocs))]
            if sample_out and i == 0:
                argv += ["--sample-out", str(sample_out)]
            self.procs.append(await spawn(f"client{i}", argv, log=tmp / f"client{i}.log"))
            self.counts.append(count)
        for p in self.procs:  # they connect in parallel, each in batches
            ok, failed, took, snap = (await p.line(300)).split()[1:]
            self.ready.append((int(ok), int(failed), float(took), int(snap)))

    async def wait_call(self, k: int, timeout: float) -> tuple[float, float] | None:
        """(first, last) receipt of call k over all sockets, or None on timeout."""
        firsts, lasts = [], []
        deadline = time.monotonic() + timeout
        for p in self.procs:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                try:
                    parts = (await p.line(left)).split()
                except TimeoutError:
                    return None
                if parts[0] == "done" and int(parts[1]) == k:
                    firsts.append(float(parts[2]))
                    lasts.append(float(parts[3]))
                    break
        return min(firsts), max(lasts)

    async def stop(self) -> None:
        for p in self.procs:
            if p.proc.stdin and p.proc.returncode is None:
                with contextlib.suppress(Exception):
                    p.proc.stdin.write(b"quit\n")
                    await p.proc.stdin.drain()
        for p in self.procs:
            try:
                await asyncio.wait_for(p.proc.wait(), 30)
            except TimeoutError:
                await p.stop(signal.SIGKILL, 5)
        self.procs.clear()


async def wait_http(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def wait_tcp(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}") from None
            await asyncio.sleep(0.05)


async def warm_sockets(url: str, n: int, trigger: Any) -> None:
    """A few sockets, one call delivered to them, closed again: lazy one-time costs."""
    from websockets.asyncio.client import connect

    socks = [await connect(url, compression=None, ping_interval=None) for _ in range(n)]
    try:
        for ws in socks:
            await asyncio.wait_for(ws.recv(), 30)
        await trigger()
        for ws in socks:
            while CALLED not in await asyncio.wait_for(ws.recv(), 30):
                pass
    finally:
        for ws in socks:
            await ws.close()


async def measure(
    kind: str,
    pid: int,
    ws_url: str,
    n: int,
    args: argparse.Namespace,
    tmp: Path,
    trigger: Any,
    sample_out: Path | None,
) -> dict[str, Any]:
    await warm_sockets(ws_url, args.warm, trigger)
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    clients = Clients()
    try:
        nprocs = args.client_procs or (1 if n <= 1000 else 2)
        await clients.start(ws_url, n, nprocs, args.batch, tmp, sample_out)
        ok = sum(r[0] for r in clients.ready)
        failed = sum(r[1] for r in clients.ready)
        if failed:
            print(f"  ! {kind}: {failed} of {n} sockets failed to connect", flush=True)
            for log in sorted(tmp.glob("client*.log")):
                print("   ", log.read_text(errors="replace").strip()[-600:], flush=True)
        await asyncio.sleep(args.settle)
        after = rss_kib(pid)
        cpu0 = cpu_s(pid)
        ccpu0 = sum(cpu_s(c.proc.pid) for c in clients.procs)
        lat: list[float] = []
        spread: list[float] = []
        missed = 0
        for k in range(args.calls):
            t_send = time.monotonic()
            await trigger()
            got = await clients.wait_call(k, args.call_timeout)
            if got is None:
                missed += 1
                print(f"  ! {kind}: call {k} did not reach all sockets", flush=True)
                break  # the per-socket counting is off from here on
            first, last = got
            lat.append((last - t_send) * 1000)
            spread.append((last - first) * 1000)
            await asyncio.sleep(max(0.0, t_send + args.interval - time.monotonic()))
        cpu1 = cpu_s(pid)
        ccpu1 = sum(cpu_s(c.proc.pid) for c in clients.procs)
        after_calls = rss_kib(pid)
    finally:
        await clients.stop()
    return {
        "ok": ok,
        "failed": failed,
        "connect_s": max(r[2] for r in clients.ready),
        "snapshot_bytes": clients.ready[0][3],
        "rss_before": before,
        "rss_idle": after,
        "rss_after_calls": after_calls,
        "kib_per_conn": (after - before) / max(ok, 1),
        "lat": lat,
        "spread": spread,
        "missed": missed,
        "cpu_ms_per_call": (cpu1 - cpu0) * 1000 / max(len(lat), 1),
        "client_cpu_ms_per_call": (ccpu1 - ccpu0) * 1000 / max(len(lat), 1),
        "client_procs": len(clients.ready),
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": pct(lat, 99) if lat else float("nan"),
    }


async def run_loket(n: int, args: argparse.Namespace, tmp: Path, sample: Path) -> dict[str, Any]:
    import httpx

    sys.path.insert(0, str(ROOT))
    from server.config import load_demo
    from server.embedded_redis import EmbeddedRedis

    data = tmp / f"loket-{n}"
    redis = EmbeddedRedis(data / "valkey")
    server: Proc | None = None
    try:
        url = redis.start()
        port = free_port()
        env = {**os.environ, "LOKET_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
        env.pop("LOKET_REDIS_URL", None)
        argv = [PY, "-m", "server.cli", "serve", "--redis-url", url, "--port", str(port)]
        argv += ["--data-dir", str(data)]
        server = await spawn("loket", argv, log=tmp / f"loket-{n}.log", env=env)
        base = f"http://127.0.0.1:{port}"
        await wait_http(f"{base}/readyz")
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        # One call per counter, each on an idle counter (round robin over the demo's 46),
        # so a call is one event (ticket.called), like the baseline's one broadcast. With
        # --same-counter every call is `next` at loket-1, which also finishes the ticket
        # held there: two events (ticket.finished, then ticket.called) per click.
        demo = load_demo()
        if args.same_counter:
            plan = [(COUNTER, SERVICE)] * (args.calls + 1)
        else:
            counters = [(c.id, c.services[0]) for c in demo.counters]
            plan = [counters[i % len(counters)] for i in range(args.calls + 1)]
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            # every ticket the run will call, issued up front: the call is then all there is
            for _, service in plan:
                r = await http.post(f"/api/v1/sites/{SITE}/tickets", json={"service": service})
                if r.status_code != 201:
                    raise RuntimeError(f"issuing a ticket: {r.status_code} {r.text}")
            todo = iter(plan)

            async def trigger() -> None:
                counter, _ = next(todo)
                r = await http.post(f"/api/v1/sites/{SITE}/counters/{counter}/next")
                if r.status_code != 200 or not r.json().get("ticket"):
                    raise RuntimeError(f"next at {counter}: {r.status_code} {r.text}")

            ws_url = f"ws://127.0.0.1:{port}/ws/sites/{SITE}/events"
            await asyncio.sleep(0.5)  # let the issue events reach the (still idle) reader
            return await measure("loket", server.proc.pid, ws_url, n, args, tmp, trigger, sample)
    finally:
        if server:
            await server.stop(signal.SIGINT)
        redis.stop()


async def run_baseline(
    n: int, args: argparse.Namespace, tmp: Path, sample: Path, snapshot_bytes: int
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    port = free_port()
    argv = [PY, __file__, "--role", "baseline", "--port", str(port)]
    argv += ["--message-file", str(sample), "--snapshot-bytes", str(snapshot_bytes)]
    server = await spawn("baseline", argv, log=tmp / f"baseline-{n}.log")
    try:
        await server.line(30)  # "listening"
        await wait_tcp(port)
        async with connect(f"ws://127.0.0.1:{port}/ctl", compression=None) as ctl:

            async def trigger() -> None:
                await ctl.send("go")
                await ctl.recv()  # "ok": the broadcast has been handed to every socket

            ws_url = f"ws://127.0.0.1:{port}/display"
            return await measure("baseline", server.proc.pid, ws_url, n, args, tmp, trigger, None)
    finally:
        await server.stop(signal.SIGTERM)


FALLBACK_SAMPLE = json.dumps(
    {
        "type": "ticket.called",
        "seq": 42,
        "at": "2026-11-28T09:00:00+07:00",
        "ticket": {
            "number": "KT001",
            "service": SERVICE,
            "service_name": "Perekaman KTP-el",
            "agency": "disdukcapil",
            "priority": False,
            "status": "called",
            "issued_at": "2026-11-28T08:40:00+07:00",
            "called_at": "2026-11-28T09:00:00+07:00",
            "recalls": 0,
            "counter": {"id": COUNTER, "name": "Loket 1", "floor": "1", "zone": "a"},
        },
        "counter": {"id": COUNTER, "name": "Loket 1", "status": "open", "floor": "1", "zone": "a"},
        "waiting": {SERVICE: 21},
    },
    separators=(",", ":"),
)


def report(n: int, lok: dict[str, Any], base: dict[str, Any]) -> None:
    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("inf")

    r50 = ratio(lok["p50"], base["p50"])
    r99 = ratio(lok["p99"], base["p99"])
    rmem = ratio(lok["kib_per_conn"], base["kib_per_conn"])
    print(f"\n== N = {n} display sockets, {len(lok['lat'])}/{len(base['lat'])} calls ==")
    print(f"{'':22}{'Loket':>12}{'baseline':>12}{'Loket/base':>12}  target")
    print(f"{'p50 latency (ms)':22}{lok['p50']:12.1f}{base['p50']:12.1f}{r50:12.2f}")
    verdict = "PASS" if r99 <= TARGET_P99 else "MISS"
    print(
        f"{'p99 latency (ms)':22}{lok['p99']:12.1f}{base['p99']:12.1f}{r99:12.2f}"
        f"  <= {TARGET_P99}  {verdict}"
    )
    verdict = "PASS" if rmem <= TARGET_MEM else "MISS"
    print(
        f"{'KiB / idle socket':22}{lok['kib_per_conn']:12.1f}{base['kib_per_conn']:12.1f}"
        f"{rmem:12.2f}  <= {TARGET_MEM}  {verdict}"
    )
    print("   details")
    for label, key, fmt in (
        ("first->last spread p50 (ms)", "spread", "med"),
        ("server CPU per call (ms)", "cpu_ms_per_call", "{:.1f}"),
        ("client CPU per call (ms)", "client_cpu_ms_per_call", "{:.1f}"),
        ("client processes", "client_procs", "{}"),
        ("server RSS before (MiB)", "rss_before", "mib"),
        ("server RSS N idle (MiB)", "rss_idle", "mib"),
        ("server RSS after calls (MiB)", "rss_after_calls", "mib"),
        ("connect all N (s)", "connect_s", "{:.1f}"),
        ("first message (bytes)", "snapshot_bytes", "{}"),
        ("sockets connected / failed", "ok", "okf"),
    ):
        cells = []
        for d in (lok, base):
            if fmt == "med":
                cells.append(f"{statistics.median(d[key]):.1f}" if d[key] else "-")
            elif fmt == "mib":
                cells.append(f"{d[key] / 1024:.1f}")
            elif fmt == "okf":
                cells.append(f"{d['ok']}/{d['failed']}")
            else:
                cells.append(fmt.format(d[key]))
        print(f"   {label:30}{cells[0]:>12}{cells[1]:>12}")
    print(f"   (p99 = nearest rank over {len(lok['lat'])} samples, i.e. the maximum; p50 = median)")
    print("   Loket latencies (ms):", " ".join(f"{x:.0f}" for x in lok["lat"]))
    print("   base  latencies (ms):", " ".join(f"{x:.0f}" for x in base["lat"]))


async def orchestrate(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    nofile = raise_nofile()
    if nofile < max(sizes) + 1000:
        print(f"RLIMIT_NOFILE is only {nofile}; sizes up to {nofile - 1000} fit", file=sys.stderr)
        return 1
    import websockets

    print(
        f"fanout bench: sizes {sizes}, {args.calls} calls every {args.interval}s"
        f" ({'all at loket-1' if args.same_counter else 'round robin over idle counters'}),"
        f" {os.cpu_count()} cores, websockets {websockets.__version__},"
        f" RLIMIT_NOFILE {nofile}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="loket-fanout-"))
    sample = tmp / "called.json"
    failed = False
    try:
        for n in sizes:
            t0 = time.monotonic()
            print(f"-- N={n}: Loket ...", flush=True)
            lok = await run_loket(n, args, tmp, sample)
            if not sample.exists() or CALLED not in sample.read_text():
                sample.write_text(FALLBACK_SAMPLE)
            print(f"-- N={n}: baseline ({len(sample.read_text())}-byte message) ...", flush=True)
            base = await run_baseline(n, args, tmp, sample, lok["snapshot_bytes"])
            report(n, lok, base)
            print(f"   (size took {time.monotonic() - t0:.0f} s)", flush=True)
            failed |= bool(lok["missed"] or base["missed"] or lok["failed"] or base["failed"])
    except BaseException:
        for log in sorted(tmp.glob("*.log")):
            text = log.read_text(errors="replace").strip()
            if text:
                print(f"--- {log.name} (tail) ---\n{text[-2000:]}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000,5000")
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.5, help="seconds between calls")
    p.add_argument(
        "--batch",
        type=int,
        default=50,
        help="sockets connecting at once, over all client processes (each snapshot read"
        " takes one of the 256 connections of Loket's blocking Redis pool, server/connect.py)",
    )
    p.add_argument("--warm", type=int, default=20, help="warm-up sockets before 'RSS before'")
    p.add_argument("--settle", type=float, default=2.0, help="idle seconds before 'RSS idle'")
    p.add_argument("--call-timeout", type=float, default=20.0)
    p.add_argument(
        "--same-counter",
        action="store_true",
        help="every call is `next` at loket-1 (2 events per click: finished + called)",
    )
    p.add_argument("--client-procs", type=int, default=0, help="0: 1 up to N=1000, else 2")
    # internal roles
    p.add_argument("--role", choices=["main", "client", "baseline"], default="main")
    p.add_argument("--url")
    p.add_argument("--count", type=int)
    p.add_argument("--sample-out")
    p.add_argument("--port", type=int)
    p.add_argument("--message-file")
    p.add_argument("--snapshot-bytes", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="20 sockets, 3 calls: runs, no figure")
    args = p.parse_args()
    if args.smoke:
        args.sizes, args.calls, args.interval, args.warm, args.settle = "20", 3, 0.1, 5, 0.2
    raise_nofile()
    use_uvloop()
    if args.role == "client":
        asyncio.run(client_main(args))
        return 0
    if args.role == "baseline":
        asyncio.run(baseline_main(args))
        return 0
    return asyncio.run(orchestrate(args))


if __name__ == "__main__":
    sys.exit(main())
