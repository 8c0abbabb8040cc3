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
TARGET_P99 = 1.2  # issue 13: Loket/baseline, same run
TARGET_MEM = 1.2
TARGET_CPU = 1.3


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
    """N sockets; reports `ready`, then `done k first last` once all got call k.

    Commands on stdin: `quit`; `drop` (close every socket, keeping each one's last seq);
    `back` (all reconnect at once with `since` and `epoch`, each reads until its `ready`;
    answers `back <took_s> <replayed> <snapshots> <gaps> <p50_s> <p99_s>`)."""
    from websockets.asyncio.client import connect

    out = sys.stdout
    urls = Path(args.urls_file).read_text().split() if args.urls_file else [args.url] * args.count
    n = len(urls)
    sockets: list[Any] = [None] * n
    last_seq = [0] * n  # --track: the last seq each socket saw (snapshot or event)
    epoch = [""] * n
    snapshot_bytes: list[int] = []
    failed = 0
    extra: dict[str, Any] = {"local_addr": (args.local_host, 0)} if args.local_host else {}

    def track(i: int, msg: str) -> None:
        doc = json.loads(msg)
        if doc.get("type") == "snapshot":
            epoch[i] = doc["epoch"]
        if isinstance(doc.get("seq"), int):
            last_seq[i] = doc["seq"]

    async def open_one(i: int) -> None:
        nonlocal failed
        try:
            ws = await connect(
                urls[i],
                compression=None,
                ping_interval=None,  # lobby TVs (browsers) send no pings
                open_timeout=120,
                close_timeout=2,
                max_size=None,
                **extra,
            )
            first = await asyncio.wait_for(ws.recv(), 120)
        except Exception as exc:
            failed += 1
            if failed <= 3:
                print(f"connect failed: {exc!r}", file=sys.stderr, flush=True)
            return
        if args.track:
            track(i, str(first))
        snapshot_bytes.append(len(first))
        sockets[i] = ws

    t0 = time.monotonic()
    for i in range(0, n, args.batch):
        await asyncio.gather(*(open_one(j) for j in range(i, min(n, i + args.batch))))
    took = time.monotonic() - t0
    ok = sum(1 for ws in sockets if ws is not None)
    avg = int(statistics.mean(snapshot_bytes)) if snapshot_bytes else 0
    out.write(f"ready {ok} {failed} {took:.3f} {avg}\n")
    out.flush()

    counts: dict[int, int] = {}
    first: dict[int, float] = {}
    sample_written = False

    async def listen(i: int, ws: Any, k: int = 0) -> None:
        nonlocal sample_written
        with contextlib.suppress(Exception):
            async for msg in ws:
                if args.track:
                    track(i, msg)
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
                    out.write(f"done {k} {first[k]:.6f} {now:.6f}\n")
                    out.flush()
                k += 1

    listeners = {i: asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets) if ws}
    loop = asyncio.get_running_loop()
    while True:
        command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if command == "drop":
            for task in listeners.values():
                task.cancel()
            await asyncio.gather(*(ws.close() for ws in sockets if ws), return_exceptions=True)
            out.write("dropped\n")
            out.flush()
        elif command == "back":
            await back(args, urls, sockets, last_seq, epoch, out)
            counts.clear()  # calls are numbered from 0 again after a `back`
            first.clear()
            listeners = {
                i: asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets) if ws
            }
        else:
            break
    for task in listeners.values():
        task.cancel()
    live = [ws for ws in sockets if ws is not None]
    for i in range(0, len(live), 500):
        await asyncio.gather(*(ws.close() for ws in live[i : i + 500]), return_exceptions=True)
    out.write("bye\n")
    out.flush()


async def back(
    args: argparse.Namespace,
    urls: list[str],
    sockets: list[Any],
    last_seq: list[int],
    epoch: list[str],
    out: Any,
) -> None:
    """Every dropped socket reconnects at once with `since`/`epoch` and reads until its
    `ready`: the events it missed must come in order, each seq once, none left out."""
    from websockets.asyncio.client import connect

    extra: dict[str, Any] = {"local_addr": (args.local_host, 0)} if args.local_host else {}
    took: list[float] = []
    replayed = snapshots = gaps = 0
    t0 = time.monotonic()

    async def one(i: int) -> None:
        nonlocal replayed, snapshots, gaps
        since = last_seq[i]
        sep = "&" if "?" in urls[i] else "?"
        url = f"{urls[i]}{sep}since={since}&epoch={epoch[i]}"
        ws = await connect(
            url, compression=None, ping_interval=None, open_timeout=120, max_size=None, **extra
        )
        sockets[i] = ws
        expect = since + 1
        while True:
            doc = json.loads(await asyncio.wait_for(ws.recv(), 120))
            kind = doc.get("type")
            if kind == "snapshot":
                snapshots += 1
                last_seq[i] = doc["seq"]
                break
            if kind == "ready":
                last_seq[i] = doc["last_seq"]
                break
            if isinstance(doc.get("seq"), int):
                if doc["seq"] != expect:
                    gaps += 1
                expect = doc["seq"] + 1
                replayed += 1
        took.append(time.monotonic() - t0)

    live = [i for i, ws in enumerate(sockets) if ws is not None]
    results = await asyncio.gather(*(one(i) for i in live), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"reconnect failed ({len(errors)}): {errors[0]!r}", file=sys.stderr, flush=True)
    took.sort()
    p50 = statistics.median(took) if took else float("nan")
    p99 = took[max(0, math.ceil(0.99 * len(took)) - 1)] if took else float("nan")
    total = max(took) if took else float("nan")
    out.write(f"back {total:.3f} {replayed} {snapshots} {gaps + len(errors)} {p50:.3f} {p99:.3f}\n")
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


def tree(pid: int) -> list[int]:
    """A process and its descendants (`loket serve --workers N`: the workers)."""
    out = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                out += tree(int(child))
    return out


def rss_kib(pid: int) -> int:
    """VmRSS of a process and its descendants, KiB."""
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants."""
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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


SERVER_CPUS: set[int] = set()  # --pin: the server under test on core 0,
CLIENT_CPUS: set[int] = set()  # the clients, Valkey and this process on the others


def pin(cpus: set[int]) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


async def spawn(
    name: str, argv: list[str], *, log: Path | None = None, cpus: set[int] | None = None, **kw: Any
) -> Proc:
    def _child_setup() -> None:  # runs in the child before exec
        raise_nofile()
        pin(cpus or set())

    kw.setdefault("cwd", ROOT)
    stdout = subprocess.PIPE
    stderr = open(log, "ab") if log else None  # noqa: SIM115 - closed right after spawning
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            preexec_fn=_child_setup,
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
        self,
        url: str | list[str],
        n: int,
        nprocs: int,
        batch: int,
        tmp: Path,
        sample_out: Path | None,
        *,
        track: bool = False,
        hosts: bool = False,
    ) -> None:
        """`url`: one for every socket, or one per socket. `hosts`: client process i
        connects from 127.0.0.(i + 2), so that each has its own ephemeral ports."""
        share = [n // nprocs + (1 if i < n % nprocs else 0) for i in range(nprocs)]
        done = 0
        for i, count in enumerate(share):
            argv = [PY, __file__, "--role", "client", "--count", str(count)]
            if isinstance(url, str):
                argv += ["--url", url]
            else:
                urls = tmp / f"urls{i}.txt"
                urls.write_text("\n".join(url[done : done + count]))
                argv += ["--urls-file", str(urls)]
            done += count
            argv += ["--batch", str(max(1, batch // nprocs))]
            if sample_out and i == 0:
                argv += ["--sample-out", str(sample_out)]
            if track:
                argv += ["--track"]
            if hosts:
                argv += ["--local-host", f"127.0.0.{i + 2}"]
            self.procs.append(
                await spawn(f"client{i}", argv, log=tmp / f"client{i}.log", cpus=CLIENT_CPUS)
            )
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

    async def command(self, line: str, timeout: float = 300) -> list[list[str]]:
        """Send a command to every client process; each one's answer, split."""
        for p in self.procs:
            assert p.proc.stdin is not None
            p.proc.stdin.write(line.encode() + b"\n")
            await p.proc.stdin.drain()
        return [(await p.line(timeout)).split() for p in self.procs]

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
    ws_url: str | list[str],
    n: int,
    args: argparse.Namespace,
    tmp: Path,
    trigger: Any,
    sample_out: Path | None,
    *,
    warm_url: str | None = None,
    nprocs: int = 0,
    hosts: bool = False,
) -> dict[str, Any]:
    """Connect N sockets (memory per idle socket), then `args.calls` calls (latency to
    the last socket, server CPU per call)."""
    await warm_sockets(warm_url or str(ws_url), args.warm, trigger)
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    clients = Clients()
    try:
        nprocs = nprocs or args.client_procs or (1 if n <= 1000 else 2)
        await clients.start(ws_url, n, nprocs, args.batch, tmp, sample_out, hosts=hosts)
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
        t0 = time.monotonic()
        lat, spread, missed = await calls(kind, clients, trigger, args)
        wall = time.monotonic() - t0
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
        "cpu_share": (cpu1 - cpu0) / wall,
        "client_cpu_ms_per_call": (ccpu1 - ccpu0) * 1000 / max(len(lat), 1),
        "client_procs": len(clients.ready),
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": pct(lat, 99) if lat else float("nan"),
    }


async def calls(
    kind: str, clients: Clients, trigger: Any, args: argparse.Namespace, first_k: int = 0
) -> tuple[list[float], list[float], int]:
    """`args.calls` calls, one every `args.interval` s (or when the last one reached every
    socket); each one's latency to the last socket and first-to-last spread, ms."""
    lat: list[float] = []
    spread: list[float] = []
    missed = 0
    for k in range(first_k, first_k + args.calls):
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
    return lat, spread, missed


class Loket:
    """`loket serve` on a private Valkey, with every ticket its calls will need issued
    up front: `trigger()` is then one `next` at an idle counter (one event)."""

    def __init__(self, args: argparse.Namespace, tmp: Path, name: str) -> None:
        self.args = args
        self.tmp = tmp
        self.name = name
        self.redis: Any = None
        self.server: Proc | None = None
        self.http: Any = None
        self.base = ""
        self.port = 0
        self.plan: list[tuple[str, str]] = []
        self.todo: Any = iter(())

    async def start(
        self, ws: str, workers: int = 1, cpus: set[int] | None = None, tree: Path | None = None
    ) -> None:
        """`tree`: run the server code of another commit (exported there), as it was
        (its own websocket implementation: no --ws)."""
        import httpx

        sys.path.insert(0, str(ROOT))
        from server.embedded_redis import EmbeddedRedis

        data = self.tmp / self.name
        self.redis = EmbeddedRedis(data / "valkey")
        url = self.redis.start()
        self.port = free_port()
        env = {**os.environ, "LOKET_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
        env.pop("LOKET_REDIS_URL", None)
        argv = [PY, "-m", "server.cli", "serve", "--redis-url", url, "--port", str(self.port)]
        argv += ["--data-dir", str(data), "--workers", str(workers)]
        argv += ["--max-connections-per-client", "1000000"]  # every socket from 127.0.0.x
        if tree is None:
            argv += ["--ws", ws]
        else:
            env["PYTHONPATH"] = str(tree)
        self.server = await spawn(
            "loket",
            argv,
            log=self.tmp / f"{self.name}.log",
            env=env,
            cpus=cpus,
            cwd=tree or ROOT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        await wait_http(f"{self.base}/readyz")
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        self.http = httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/sites/{SITE}/events"

    async def issue(self, service: str) -> dict[str, Any]:
        r = await self.http.post(f"/api/v1/sites/{SITE}/tickets", json={"service": service})
        if r.status_code != 201:
            raise RuntimeError(f"issuing a ticket: {r.status_code} {r.text}")
        ticket: dict[str, Any] = r.json()["ticket"] if "ticket" in r.json() else r.json()
        return ticket

    async def prepare_calls(self, n: int, same_counter: bool = False) -> None:
        """One call per counter, each on an idle counter (round robin over the demo's 46),
        so a call is one event (ticket.called), like the baseline's one broadcast. With
        `same_counter` every call is `next` at loket-1, which also finishes the ticket
        held there: two events (ticket.finished, then ticket.called) per click."""
        from server.config import load_demo

        demo = load_demo()
        if same_counter:
            self.plan = [(COUNTER, SERVICE)] * n
        else:
            counters = [(c.id, c.services[0]) for c in demo.counters]
            self.plan = [counters[i % len(counters)] for i in range(n)]
        for _, service in self.plan:
            await self.issue(service)
        self.todo = iter(self.plan)
        await asyncio.sleep(0.5)  # let the issue events reach the (still idle) reader

    async def trigger(self) -> None:
        counter, _ = next(self.todo)
        r = await self.http.post(f"/api/v1/sites/{SITE}/counters/{counter}/next")
        if r.status_code != 200 or not r.json().get("ticket"):
            raise RuntimeError(f"next at {counter}: {r.status_code} {r.text}")

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.server is not None:
            await self.server.stop(signal.SIGINT)
        if self.redis is not None:
            self.redis.stop()


def export(commit: str, into: Path) -> str:
    """The server of a commit (`git archive`: no worktree, no checkout); its short hash."""
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", commit + "^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", full, "server", "display", "counter_client"],
        stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {commit} failed")
    return full


async def run_loket(
    n: int, args: argparse.Namespace, tmp: Path, sample: Path, ws: str, r: int
) -> dict[str, Any]:
    """`ws`: a websocket implementation of this tree, or `@<commit>`: that commit's server."""
    lok = Loket(args, tmp, f"loket-{ws}-{n}-{r}")
    tree = tmp / f"tree-{ws[1:]}" if ws.startswith("@") else None
    try:
        await lok.start(ws, cpus=SERVER_CPUS, tree=tree)
        await lok.prepare_calls(args.calls + args.warm + 1, args.same_counter)
        assert lok.server is not None
        return await measure(
            f"loket ({ws})", lok.server.proc.pid, lok.ws_url, n, args, tmp, lok.trigger, sample
        )
    finally:
        await lok.stop()


async def run_baseline(
    n: int, args: argparse.Namespace, tmp: Path, sample: Path, snapshot_bytes: int
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    port = free_port()
    argv = [PY, __file__, "--role", "baseline", "--port", str(port)]
    argv += ["--message-file", str(sample), "--snapshot-bytes", str(snapshot_bytes)]
    server = await spawn("baseline", argv, log=tmp / f"baseline-{n}.log", cpus=SERVER_CPUS)
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


def med(values: list[float], fmt: str = "{:.1f}") -> str:
    """`median [min-max]`."""
    if not values:
        return "-"
    return (
        f"{fmt.format(statistics.median(values))} "
        f"[{fmt.format(min(values))}-{fmt.format(max(values))}]"
    )


def report(n: int, runs: dict[str, list[dict[str, Any]]], rounds: int) -> None:
    """Per kind: medians over rounds [min-max]; per Loket kind: ratios to the baseline
    of the same round, then their median [min-max]; p99 also over all calls pooled."""
    base = runs["baseline"]
    pooled_base = sorted(x for r in base for x in r["lat"])
    print(f"\n== N = {n} display sockets, {rounds} interleaved rounds ==")
    rows = [
        ("server CPU per call (ms)", "cpu_ms_per_call", TARGET_CPU),
        ("KiB per idle socket", "kib_per_conn", TARGET_MEM),
        ("p50 latency (ms)", "p50", None),
        ("p99 latency per round (ms)", "p99", None),
        ("client CPU per call (ms)", "client_cpu_ms_per_call", None),
        ("server CPU share during calls", "cpu_share", None),
        ("connect all N (s)", "connect_s", None),
    ]
    for kind, results in runs.items():
        lat = sorted(x for r in results for x in r["lat"])
        print(
            f"  {kind}: {len(lat)} calls; sockets {sum(r['ok'] for r in results)} ok, "
            f"{sum(r['failed'] for r in results)} failed; calls missed "
            f"{sum(r['missed'] for r in results)}"
        )
        for label, key, _ in rows:
            fmt = "{:.2f}" if key == "cpu_share" else "{:.1f}"
            print(f"    {label:32} {med([r[key] for r in results], fmt)}")
        print(
            f"    {'p50 / p99 over all calls (ms)':32} "
            f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f} (nearest rank, {len(lat)} calls)"
        )
        if kind == "baseline":
            continue
        for label, key, target in [*rows[:2], ("p99 latency", "p99", TARGET_P99)]:
            ratios = [r[key] / b[key] for r, b in zip(results, base, strict=False) if b[key] > 0]
            verdict = ""
            if target is not None and ratios:
                verdict = f"  target <= {target}: " + (
                    "PASS" if statistics.median(ratios) <= target else "MISS"
                )
            print(f"    {kind}/baseline {label:24} {med(ratios, '{:.2f}')}{verdict}")
        if lat and pooled_base:
            r99 = pct(lat, 99) / pct(pooled_base, 99)
            verdict = "PASS" if r99 <= TARGET_P99 else "MISS"
            print(
                f"    {kind}/baseline {'p99 over all calls':24} {r99:.2f}"
                f"  target <= {TARGET_P99}: {verdict}"
            )


async def orchestrate(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    nofile = raise_nofile()
    if nofile < max(sizes) + 1000:
        print(f"RLIMIT_NOFILE is only {nofile}; sizes up to {nofile - 1000} fit", file=sys.stderr)
        return 1
    import websockets

    implementations = [w for w in args.ws.split(",") if w]
    tmp = Path(tempfile.mkdtemp(prefix="loket-fanout-"))
    if args.before:
        short = export(args.before, tmp / "tree-export")
        (tmp / "tree-export").rename(tmp / f"tree-{short}")
        implementations.append("@" + short)
    kinds = [f"loket ({w})" for w in implementations] + ["baseline"]
    print(
        f"fanout bench | {time.strftime('%Y-%m-%d %H:%M')} | sizes {sizes}, {args.rounds} "
        f"rounds x {args.calls} calls every {args.interval}s"
        f" ({'all at loket-1' if args.same_counter else 'round robin over idle counters'}),"
        f" {os.cpu_count()} cores, websockets {websockets.version.version},"
        f" RLIMIT_NOFILE {nofile}, pinned: server {sorted(SERVER_CPUS) or '-'},"
        f" clients/Valkey {sorted(CLIENT_CPUS) or '-'} | load {loadavg()}",
        flush=True,
    )
    sample = tmp / "called.json"
    failed = False
    try:
        for n in sizes:
            t0 = time.monotonic()
            runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
            snapshot_bytes = 0
            for r in range(args.rounds):
                # Loket first in round 1 (the baseline sends the call Loket sent)
                order = kinds if r % 2 == 0 else kinds[::-1]
                for kind in order:
                    if kind == "baseline":
                        if not sample.exists() or CALLED not in sample.read_text():
                            sample.write_text(FALLBACK_SAMPLE)
                        res = await run_baseline(n, args, tmp, sample, snapshot_bytes)
                    else:
                        ws = kind[len("loket (") : -1]
                        res = await run_loket(n, args, tmp, sample, ws, r)
                        snapshot_bytes = snapshot_bytes or res["snapshot_bytes"]
                    runs[kind].append(res)
                    failed |= bool(res["missed"] or res["failed"])
                    print(
                        f"  N={n} round {r + 1}/{args.rounds} {kind:26} "
                        f"cpu/call {res['cpu_ms_per_call']:6.1f} ms  "
                        f"KiB/socket {res['kib_per_conn']:5.1f}  p50 {res['p50']:6.1f}  "
                        f"p99 {res['p99']:6.1f} ms  (load {loadavg()})",
                        flush=True,
                    )
            report(n, runs, args.rounds)
            print(f"   (size took {time.monotonic() - t0:.0f} s)", flush=True)
    except BaseException:
        for log in sorted(tmp.glob("*.log")):
            text = log.read_text(errors="replace").strip()
            if text:
                print(f"--- {log.name} (tail) ---\n{text[-2000:]}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def add_options(p: argparse.ArgumentParser) -> None:
    """Options the fan-out benches share (this file's and crowd.py's)."""
    p.add_argument("--calls", type=int, default=40, help="calls per run")
    p.add_argument("--interval", type=float, default=0.25, help="seconds between calls")
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
    p.add_argument("--client-procs", type=int, default=0, help="0: 1 up to N=1000, else 2")
    p.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the server to core 0 and the clients and Valkey to the others",
    )
    p.add_argument("--same-counter", action="store_true", help=argparse.SUPPRESS)


def setup_pinning(args: argparse.Namespace) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if not args.no_pin and len(cpus) >= 2:
        SERVER_CPUS.update(cpus[:1])
        CLIENT_CPUS.update(cpus[1:])
        pin(CLIENT_CPUS)  # this process, and so the Valkey it starts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000,5000")
    p.add_argument(
        "--before",
        help="also run the server of this commit (git archive), e.g. HEAD before a change",
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per size")
    p.add_argument(
        "--ws",
        default="websockets-sansio",
        help="uvicorn websocket implementations to run Loket with, comma-separated "
        "(websockets-sansio, wsproto, websockets)",
    )
    add_options(p)
    # internal roles
    p.add_argument("--role", choices=["main", "client", "baseline"], default="main")
    p.add_argument("--url")
    p.add_argument("--urls-file")
    p.add_argument("--local-host")
    p.add_argument("--track", action="store_true")
    p.add_argument("--count", type=int)
    p.add_argument("--sample-out")
    p.add_argument("--port", type=int)
    p.add_argument("--message-file")
    p.add_argument("--snapshot-bytes", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="20 sockets, 3 calls: runs, no figure")
    args = p.parse_args()
    if args.smoke:
        args.sizes, args.calls, args.interval, args.warm, args.settle = "20", 3, 0.1, 5, 0.2
        args.rounds = 2
    raise_nofile()
    use_uvloop()
    if args.role == "client":
        asyncio.run(client_main(args))
        return 0
    if args.role == "baseline":
        asyncio.run(baseline_main(args))
        return 0
    setup_pinning(args)
    return asyncio.run(orchestrate(args))


if __name__ == "__main__":
    sys.exit(main())
