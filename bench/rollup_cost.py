#!/usr/bin/env python
"""What the rollups cost issue and next: HEAD against the commit before them.

    python bench/rollup_cost.py [--rounds 6] [--calls 5000] [--before 0dd6431] [--smoke]

Goal (docs/performance.md): issuing and calling must not get slower by more than 10 %
because of the rollups (commit c3a07dd, whose parent is 0dd6431).

Both code trees are exported with `git archive` into a temp directory (no worktree, no
checkout). Each round runs bench/storeload.py once per tree, in a subprocess with
PYTHONPATH set to that tree, on the same private Valkey, a fresh site each; the order
alternates between rounds. Printed: issue and next ops/s (20 coroutines) and the store's
own µs per script call, medians over rounds with [min-max], and HEAD/before ratios
(computed per round, then the median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import ROOT, Lab, header, load_average, spread

TARGET = 0.9  # at most 10 % slower


def export(commit: str, into: Path) -> str:
    """`git archive` of a commit into a directory; its full hash."""
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", commit + "^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", full, "server"], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {commit} failed")
    return full


def drive(lab: Lab, tree: Path, site: str, calls: int, warmup: int) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "bench" / "storeload.py"), "--redis-url", lab.url]
    out = subprocess.run(
        [*cmd, "--site", site, "--calls", str(calls), "--warmup", str(warmup)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("STORE ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"storeload failed in {tree}:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(line[6:])
    if not result["tree"].startswith(str(tree)):
        raise RuntimeError(f"imported {result['tree']}, not the tree {tree}")
    return result


def pair_ops(r: dict[str, Any]) -> float:
    """Tickets per second through issue and next back to back: 1 / (1/issue + 1/next)."""
    return 1 / (1 / r["issue"]["ops"] + 1 / r["next"]["ops"])


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--calls", type=int, default=5000, help="timed calls per phase")
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--before", default="0dd6431", help="the commit without rollups")
    p.add_argument("--after", default="HEAD")
    p.add_argument("--smoke", action="store_true", help="2 rounds of 200 calls: runs, no figure")
    args = p.parse_args()
    if args.smoke:
        args.rounds, args.calls, args.warmup = 2, 200, 40

    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with Lab("loket-rollup-cost-") as lab:
        trees = {k: lab.tmp / k for k in runs}
        commits = {k: export(getattr(args, k), trees[k]) for k in runs}
        header(
            "rollup cost bench",
            lab,
            f"before {commits['before'][:7]}, after {commits['after'][:7]}; {args.rounds} "
            f"rounds x {args.calls} timed calls per phase (+{args.warmup}), 20 coroutines",
        )
        for r in range(args.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for k in order:
                runs[k].append(drive(lab, trees[k], f"{k}-{r}", args.calls, args.warmup))
            b, a = runs["before"][-1], runs["after"][-1]
            print(
                f"round {r + 1}/{args.rounds} ({'/'.join(order)}, load {load_average()}): "
                f"issue {b['issue']['ops']:.0f} -> {a['issue']['ops']:.0f} ops/s "
                f"({b['issue']['usec']:.0f} -> {a['issue']['usec']:.0f} µs in Valkey), "
                f"next {b['next']['ops']:.0f} -> {a['next']['ops']:.0f} ops/s "
                f"({b['next']['usec']:.0f} -> {a['next']['usec']:.0f} µs)",
                flush=True,
            )

    print(f"\nmedians over {args.rounds} rounds [min-max]   before (no rollups)   HEAD")
    rows = [
        ("issue ops/s (client)", lambda r: r["issue"]["ops"], "{:.0f}", True),
        ("next ops/s (client)", lambda r: r["next"]["ops"], "{:.0f}", True),
        ("issue+next tickets/s", pair_ops, "{:.0f}", True),
        ("issue µs per script in Valkey", lambda r: r["issue"]["usec"], "{:.1f}", False),
        ("next µs per script in Valkey", lambda r: r["next"]["usec"], "{:.1f}", False),
    ]
    verdicts = []
    for name, get, fmt, is_rate in rows:
        before = [get(r) for r in runs["before"]]
        after = [get(r) for r in runs["after"]]
        ratios = [x / y for x, y in zip(after, before, strict=True)]
        note = ""
        if is_rate:
            ok = statistics.median(ratios) >= TARGET
            verdicts.append(ok)
            note = f"  (target >= {TARGET}: {'PASS' if ok else 'MISS'})"
        print(
            f"{name:31} {spread(before, fmt):>22} {spread(after, fmt):>22}   "
            f"HEAD/before {spread(ratios, '{:.2f}')}{note}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
