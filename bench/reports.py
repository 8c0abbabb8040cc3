#!/usr/bin/env python
"""Reports bench: a year of MPP Bogor and a month of 300 sites through the HTTP API.

    python bench/reports.py [--rounds 5] [--warm 5] [--days 365] [--tickets 3000]
                            [--sites 300] [--smoke]

Setup (not timed): the MPP Bogor demo site (147 services, 46 counters) with `--days`
service days up to today of synthetic rollups at `--tickets` a day (bench/synthetic.py:
day hashes of every dimension, written with keys.rollup, then after each day the day
ticker's own step, Store.keep_figures: folded into month hashes by fold.lua, days past
40 compressed by rollups.compress_old_days), and `--sites` - 1 small sites (3 agencies,
12 services, 8 counters) with realistic rollups for last month (at 400 tickets a day;
10 simulated site-months shared round robin), folded the same way.

Memory: INFO used_memory before and after writing (and folding, compressing) the Bogor
year, and the sum of MEMORY USAGE (exact, SAMPLES 0) over its rollup keys, with their
types and encodings.

Timed, through `loket serve` (one worker) with the admin token, per round:
  report:     GET /api/v1/sites/bogor/reports?by=service&from=<today-364>&to=<today>
  evaluation: GET /api/v1/evaluation?from=<first of last month>&to=<its last day>
each on a fresh server process: the first request is cold (new process, new
connection, configurations not yet cached), then `--warm` more are warm. Targets:
report < 1 s, evaluation < 2 s (medians). The order of the two alternates by round.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from typing import Any

import httpx
from harness import Lab, header, load_average, spread
from synthetic import Figures, SiteModel, keep, periods, write

ADMIN_TOKEN = "bench-reports-admin-token"
TEMPLATES = 10
SMALL_TICKETS = 400
TARGET_S = {"report": 1.0, "evaluation": 2.0}


def small_site_doc(site_id: str) -> dict[str, Any]:
    agencies = [f"dinas-{a}" for a in range(3)]
    services = [
        {
            "id": f"layanan-{s}",
            "agency": agencies[s % 3],
            "name": f"Layanan {s}",
            "prefix": "ABC"[s % 3],
            "target_wait_min": 15,
            "target_service_min": 10,
        }
        for s in range(12)
    ]
    counters = [
        {
            "id": f"loket-{c}",
            "name": f"Loket {c}",
            "agency": agencies[c % 3],
            "services": [s["id"] for s in services if s["agency"] == agencies[c % 3]],
        }
        for c in range(8)
    ]
    return {
        "site": {"id": site_id, "name": f"MPP {site_id}", "timezone": "Asia/Jakarta"},
        "agencies": [{"id": a, "name": a.title()} for a in agencies],
        "services": services,
        "counters": counters,
    }


def today_jakarta() -> date:
    from server import domain
    from server.store import utc_now

    return date.fromisoformat(domain.service_day(utc_now(), "Asia/Jakarta"))


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


async def setup(lab: Lab, args: argparse.Namespace, today: date) -> dict[str, Any]:
    from server import config, keys
    from server.connect import connect, disconnect
    from server.rollups import _unpack
    from server.store import Store

    redis = connect(lab.url)
    try:
        store = Store(redis)
        bogor = config.load_demo("bogor")
        await store.load_config(bogor)
        await redis.execute_command("MEMORY", "PURGE")
        before = int((await redis.info("memory"))["used_memory"])
        t0 = time.perf_counter()
        first = today - timedelta(days=args.days - 1)
        year = periods(SiteModel(bogor, 1), first, today, args.tickets, 2)
        hashes = await write(redis, bogor.id, year)
        folded = await keep(store, bogor, first, today - timedelta(days=1))
        took = time.perf_counter() - t0
        await redis.execute_command("MEMORY", "PURGE")
        after = int((await redis.info("memory"))["used_memory"])
        names = [k async for k in redis.scan_iter(match=keys.rollups("bogor") + "*", count=1000)]
        usage, fields, encodings = 0, 0, {}
        for name in names:
            usage += int(await redis.execute_command("MEMORY", "USAGE", name, "SAMPLES", "0"))
            kind = (await redis.type(name)).decode()
            if kind == "hash":
                fields += int(await redis.hlen(name))
            elif kind == "string":  # an old day, compressed (rollups.compress_old_days)
                fields += len(_unpack(await redis.get(name)))
            enc = f"{kind} {(await redis.object('encoding', name)).decode()}"
            encodings[enc] = encodings.get(enc, 0) + 1
        memory = {
            "hashes": hashes,
            "folded": folded,
            "keys": len(names),
            "fields": fields,
            "used_memory_delta": after - before,
            "memory_usage_sum": usage,
            "encodings": encodings,
            "generated_s": took,
        }

        m_first, m_last = last_month(today)
        months: list[list[tuple[str, Figures]]] = []  # simulated once, shared round robin
        for i in range(1, args.sites):
            site = config.parse(small_site_doc(f"mpp-{i:03d}"), "<bench>", f"mpp-{i:03d}")
            await store.load_config(site)
            if len(months) < TEMPLATES:
                model = SiteModel(site, 100 + i)
                months.append(list(periods(model, m_first, m_last, SMALL_TICKETS, 200 + i)))
            await write(redis, site.id, months[(i - 1) % TEMPLATES])
            await keep(store, site, m_last, m_last)  # the day after it: folds the month
        return memory
    finally:
        await disconnect(redis)


def timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    response = client.get(url)
    return time.perf_counter() - t0, response


def check(what: str, response: httpx.Response, args: argparse.Namespace) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    doc = response.json()
    if what == "report" and doc["total"]["issued"] != args.days * args.tickets:
        raise RuntimeError(f"report: {doc['total']['issued']} issued, not all the year's")
    if what == "evaluation" and len(doc["sites"]) != args.sites:
        raise RuntimeError(f"evaluation: {len(doc['sites'])} sites, not {args.sites}")


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warm", type=int, default=5, help="warm requests after the cold one")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--tickets", type=int, default=3000, help="Bogor's tickets a day")
    p.add_argument("--sites", type=int, default=300, help="sites in the evaluation")
    p.add_argument("--smoke", action="store_true", help="tiny data, 1 round: runs, no figure")
    args = p.parse_args()
    if args.smoke:
        args.rounds, args.warm, args.days, args.tickets, args.sites = 1, 1, 20, 100, 5

    today = today_jakarta()
    m_first, m_last = last_month(today)
    paths = {
        "report": f"/api/v1/sites/bogor/reports?by=service"
        f"&from={(today - timedelta(days=args.days - 1)).isoformat()}&to={today.isoformat()}",
        "evaluation": f"/api/v1/evaluation?from={m_first.isoformat()}&to={m_last.isoformat()}",
    }
    times: dict[str, dict[str, list[float]]] = {k: {"cold": [], "warm": []} for k in paths}
    sizes: dict[str, int] = {}
    with Lab("loket-reports-") as lab:
        header(
            "reports bench",
            lab,
            f"{args.rounds} rounds, 1 cold + {args.warm} warm requests each; Bogor "
            f"{args.days} days x {args.tickets} tickets; evaluation {args.sites} sites",
        )
        memory = asyncio.run(setup(lab, args, today))
        print(
            f"setup: {memory['hashes']} Bogor day hashes written, Store.keep_figures after "
            f"each day (fold.lua ran {memory['folded']} times) in {memory['generated_s']:.1f} s"
            f" ({memory['fields']:,} fields kept); "
            f"load {load_average()}",
            flush=True,
        )
        for r in range(args.rounds):
            order = list(paths) if r % 2 == 0 else list(reversed(paths))
            for what in order:
                with (
                    lab.loket(ADMIN_TOKEN) as port,
                    httpx.Client(
                        base_url=f"http://127.0.0.1:{port}",
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                        timeout=60,
                    ) as client,
                ):
                    cold, response = timed_get(client, paths[what])
                    check(what, response, args)
                    sizes[what] = len(response.content)
                    times[what]["cold"].append(cold)
                    for _ in range(args.warm):
                        warm, response = timed_get(client, paths[what])
                        check(what, response, args)
                        times[what]["warm"].append(warm)
            print(
                f"round {r + 1}/{args.rounds} (load {load_average()}): "
                + "  ".join(
                    f"{k} cold {times[k]['cold'][-1] * 1000:.0f} ms, warm median "
                    f"{statistics.median(times[k]['warm'][-args.warm :]) * 1000:.0f} ms"
                    for k in paths
                    if args.warm
                ),
                flush=True,
            )

    mib = 1024 * 1024
    print(f"\nMPP Bogor, {args.days} days x {args.tickets} tickets of rollups in the store:")
    print(
        f"  {memory['keys']} keys, {memory['fields']:,} fields "
        f"({', '.join(f'{n} {e}' for e, n in sorted(memory['encodings'].items()))})"
    )
    print(
        f"  MEMORY USAGE sum {memory['memory_usage_sum'] / mib:.1f} MiB; "
        f"INFO used_memory +{memory['used_memory_delta'] / mib:.1f} MiB; "
        f"{memory['memory_usage_sum'] / max(1, memory['fields']):.0f} B per field"
    )
    print(f"\nms, median [min-max]; cold over {args.rounds} rounds, warm over all requests")
    for what, path in paths.items():
        warm = times[what]["warm"]
        verdict = "PASS" if warm and statistics.median(warm) < TARGET_S[what] else "MISS"
        print(f"{what:10} GET {path}  ({sizes.get(what, 0):,} bytes)")
        print(
            f"{'':10} cold {spread([t * 1000 for t in times[what]['cold']])}  "
            f"warm {spread([t * 1000 for t in warm])}  "
            f"(target < {TARGET_S[what]:g} s: {verdict})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
