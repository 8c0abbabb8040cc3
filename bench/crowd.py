#!/usr/bin/env python
"""Crowds on Loket's event websocket: phones, a reconnect storm, a country's share.

    python bench/crowd.py phones    [--sockets 3000] [--rounds 5] [--calls 40]
    python bench/crowd.py reconnect [--sockets 1000] [--rounds 5] [--missed 10]
    python bench/crowd.py country   [--sockets 20000] [--workers 2] [--calls 200]
    python bench/crowd.py ... --smoke

The client processes, the Loket server and the measuring are bench/fanout.py's (same
client code, same `loket serve`, same CPU and memory readings from /proc).

* phones: N visitors' phones (`?ticket=<own ticket>`, every one still waiting, spread
  over the services the calls serve that have no daily quota) against N plain display
  sockets with the same queues, in interleaved rounds, each on a fresh server. Figure:
  server CPU per event (each call is one `ticket.called`; the phones also get their new
  `ticket.position` when their queue moved), and the ratio phones/plain per round
  (target <= 1.5).
* reconnect: N TVs connected; all drop, `--missed` calls happen, then all reconnect at
  the same moment with `since` and `epoch`. Figure: time until the last one has every
  event it missed (in order, no seq left out or twice) and its `ready` (target <= 2 s);
  then a few live calls must reach all N again.
* country: `loket serve --workers W` on one store, N sockets from 4 client processes
  (source addresses 127.0.0.2-5, each with its own ephemeral ports); every call must
  reach every socket. Figure: click-to-last-screen p50/p99 over `--calls` calls, server
  CPU per call and memory per socket over the W workers. Not pinned (the workers need
  every core).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import fanout
from fanout import Clients, Loket, calls, loadavg, measure, med, pct, rss_kib

TARGET_PHONES = 1.5
TARGET_RECONNECT_S = 2.0


async def phones_run(
    args: argparse.Namespace, tmp: Path, r: int, with_tickets: bool
) -> dict[str, Any]:
    lok = Loket(args, tmp, f"phones-{r}-{with_tickets}")
    try:
        await lok.start(args.ws, cpus=fanout.SERVER_CPUS)
        await lok.prepare_calls(args.calls + args.warm + 1)
        from server.config import load_demo

        unlimited = {s.id for s in load_demo().services if s.daily_quota is None}
        services = sorted({service for _, service in lok.plan} & unlimited)
        tickets = [
            await lok.issue(services[i % len(services)]) for i in range(args.sockets)
        ]  # all behind the ones the calls take, so every phone stays waiting
        if with_tickets:
            urls: str | list[str] = [f"{lok.ws_url}?ticket={t['id']}" for t in tickets]
        else:
            urls = lok.ws_url
        await asyncio.sleep(0.5)
        assert lok.server is not None
        return await measure(
            "phones" if with_tickets else "plain",
            lok.server.proc.pid,
            urls,
            args.sockets,
            args,
            tmp,
            lok.trigger,
            None,
            warm_url=lok.ws_url,
        )
    finally:
        await lok.stop()


async def phones(args: argparse.Namespace, tmp: Path) -> int:
    runs: dict[str, list[dict[str, Any]]] = {"phones": [], "plain": []}
    for r in range(args.rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        for with_tickets in order:
            res = await phones_run(args, tmp, r, with_tickets)
            kind = "phones" if with_tickets else "plain"
            runs[kind].append(res)
            print(
                f"  round {r + 1}/{args.rounds} {kind:7} server CPU per event "
                f"{res['cpu_ms_per_call']:6.1f} ms  p50 {res['p50']:6.1f}  p99 {res['p99']:6.1f} ms"
                f"  sockets {res['ok']}/{res['failed']} failed  (load {loadavg()})",
                flush=True,
            )
    print(f"\n== {args.sockets} sockets, {args.rounds} interleaved rounds, 1 event per call ==")
    for kind, results in runs.items():
        lat = sorted(x for res in results for x in res["lat"])
        print(
            f"  {kind:7} server CPU per event (ms) {med([x['cpu_ms_per_call'] for x in results])}"
        )
        print(
            f"  {kind:7} KiB per idle socket {med([x['kib_per_conn'] for x in results])}; "
            f"click-to-last-screen p50/p99 over {len(lat)} calls "
            f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f} ms"
        )
    ratios = [
        p["cpu_ms_per_call"] / q["cpu_ms_per_call"]
        for p, q in zip(runs["phones"], runs["plain"], strict=True)
        if q["cpu_ms_per_call"] > 0
    ]
    ok = bool(ratios) and statistics.median(ratios) <= TARGET_PHONES
    print(
        f"  phones/plain server CPU per event {med(ratios, '{:.2f}')}  "
        f"target <= {TARGET_PHONES}: {'PASS' if ok else 'MISS'}"
    )
    return int(any(x["missed"] or x["failed"] for v in runs.values() for x in v))


async def reconnect_run(args: argparse.Namespace, tmp: Path, r: int) -> dict[str, Any]:
    lok = Loket(args, tmp, f"reconnect-{r}")
    clients = Clients()
    try:
        await lok.start(args.ws, cpus=fanout.SERVER_CPUS)
        await lok.prepare_calls(2 + args.missed + 3)
        await clients.start(lok.ws_url, args.sockets, 1, args.batch, tmp, None, track=True)
        if sum(x[1] for x in clients.ready):
            raise RuntimeError("sockets failed to connect")
        live_args = argparse.Namespace(**{**vars(args), "calls": 2, "interval": 0.1})
        _, _, missed_live = await calls("reconnect", clients, lok.trigger, live_args)
        await clients.command("drop")
        for _ in range(args.missed):
            await lok.trigger()
        await asyncio.sleep(0.2)
        assert lok.server is not None
        cpu0 = fanout.cpu_s(lok.server.proc.pid)
        t0 = time.monotonic()
        answers = await clients.command("back", timeout=120)
        wall = time.monotonic() - t0
        cpu = fanout.cpu_s(lok.server.proc.pid) - cpu0
        _, took, replayed, snapshots, gaps, p50, p99 = answers[0]
        after_args = argparse.Namespace(**{**vars(args), "calls": 3, "interval": 0.1})
        lat, _, missed_after = await calls("reconnect", clients, lok.trigger, after_args)
        return {
            "took_s": float(took),
            "wall_s": wall,
            "p50_s": float(p50),
            "p99_s": float(p99),
            "replayed": int(replayed),
            "snapshots": int(snapshots),
            "gaps": int(gaps),
            "missed_live": missed_live + missed_after,
            "after_ms": max(lat) if lat else float("nan"),
            "cpu_s": cpu,
        }
    finally:
        await clients.stop()
        await lok.stop()


async def reconnect(args: argparse.Namespace, tmp: Path) -> int:
    runs = []
    for r in range(args.rounds):
        res = await reconnect_run(args, tmp, r)
        runs.append(res)
        print(
            f"  round {r + 1}/{args.rounds}: all {args.sockets} caught up in "
            f"{res['took_s']:.2f} s (p50 {res['p50_s']:.2f}, p99 {res['p99_s']:.2f}); "
            f"events replayed {res['replayed']} (expected {args.sockets * args.missed}), "
            f"gaps {res['gaps']}, snapshots {res['snapshots']}; live calls after: missed "
            f"{res['missed_live']}, slowest {res['after_ms']:.0f} ms; server CPU "
            f"{res['cpu_s']:.2f} s  (load {loadavg()})",
            flush=True,
        )
    took = [x["took_s"] for x in runs]
    complete = all(
        x["gaps"] == 0 and x["replayed"] == args.sockets * args.missed and not x["missed_live"]
        for x in runs
    )
    ok = complete and statistics.median(took) <= TARGET_RECONNECT_S
    print(
        f"\n== {args.sockets} TVs reconnecting at once with since, {args.missed} events missed, "
        f"{args.rounds} rounds ==\n  all caught up (s) {med(took, '{:.2f}')}; per socket p50 "
        f"{med([x['p50_s'] for x in runs], '{:.2f}')}, "
        f"p99 {med([x['p99_s'] for x in runs], '{:.2f}')}"
        f"\n  every event, in order, none missing: {'yes' if complete else 'NO'}; "
        f"target <= {TARGET_RECONNECT_S} s: {'PASS' if ok else 'MISS'}"
    )
    return 0 if complete else 1


async def country(args: argparse.Namespace, tmp: Path) -> int:
    lok = Loket(args, tmp, "country")
    try:
        await lok.start(args.ws, workers=args.workers)
        await lok.prepare_calls(args.calls + args.warm + 1)
        assert lok.server is not None
        await asyncio.sleep(1)
        res = await measure(
            "country",
            lok.server.proc.pid,
            lok.ws_url,
            args.sockets,
            args,
            tmp,
            lok.trigger,
            None,
            nprocs=4,
            hosts=True,
        )
        workers = len(fanout.tree(lok.server.proc.pid)) - 1
        rss = rss_kib(lok.server.proc.pid)
    finally:
        await lok.stop()
    lat = sorted(res["lat"])
    print(
        f"\n== {res['ok']} sockets ({res['failed']} failed) over {args.workers} worker "
        f"processes ({workers} found), one store; {len(lat)} calls, {res['missed']} missed ==\n"
        f"  click-to-last-screen p50 {pct(lat, 50):.0f} ms, p90 {pct(lat, 90):.0f} ms, "
        f"p99 {pct(lat, 99):.0f} ms, max {lat[-1] if lat else float('nan'):.0f} ms "
        f"(nearest rank over {len(lat)} calls)\n"
        f"  first-to-last socket spread p50 {statistics.median(res['spread']):.0f} ms\n"
        f"  server CPU per call {res['cpu_ms_per_call']:.1f} ms (all workers), CPU share "
        f"{res['cpu_share']:.2f} cores; client CPU per call {res['client_cpu_ms_per_call']:.1f}"
        f" ms\n  memory: {res['kib_per_conn']:.1f} KiB per idle socket; server RSS "
        f"{res['rss_idle'] / 1024:.0f} MiB idle, {rss / 1024:.0f} MiB at the end; connect all "
        f"{res['connect_s']:.0f} s"
    )
    return int(bool(res["missed"] or res["failed"]))


async def orchestrate(args: argparse.Namespace) -> int:
    nofile = fanout.raise_nofile()
    print(
        f"crowd bench: {args.scenario} | {time.strftime('%Y-%m-%d %H:%M')} | {args.sockets} "
        f"sockets | {os.cpu_count()} cores | RLIMIT_NOFILE {nofile} | pinned: server "
        f"{sorted(fanout.SERVER_CPUS) or '-'}, clients/Valkey {sorted(fanout.CLIENT_CPUS) or '-'}"
        f" | ws {args.ws} | load {loadavg()}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix=f"loket-{args.scenario}-"))
    try:
        scenario = {"phones": phones, "reconnect": reconnect, "country": country}
        return await scenario[args.scenario](args, tmp)
    except BaseException:
        for log in sorted(tmp.glob("*.log")):
            text = log.read_text(errors="replace").strip()
            if text:
                print(f"--- {log.name} (tail) ---\n{text[-2000:]}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("scenario", choices=["phones", "reconnect", "country"])
    p.add_argument("--sockets", type=int)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--missed", type=int, default=10, help="reconnect: calls while away")
    p.add_argument("--workers", type=int, default=2, help="country: loket serve --workers")
    p.add_argument("--ws", default="websockets-sansio", help="uvicorn websocket implementation")
    fanout.add_options(p)
    p.add_argument("--smoke", action="store_true", help="a few sockets and calls: runs, no figure")
    args = p.parse_args()
    default = {"phones": 3000, "reconnect": 1000, "country": 20000}[args.scenario]
    args.sockets = args.sockets or default
    if args.scenario == "country":
        args.no_pin = True
        args.settle = max(args.settle, 5.0)
    if args.smoke:
        args.sockets, args.rounds, args.calls, args.interval = 20, 2, 3, 0.1
        args.warm, args.settle, args.missed = 3, 0.2, 3
    fanout.setup_pinning(args)
    return asyncio.run(orchestrate(args))


if __name__ == "__main__":
    sys.exit(main())
