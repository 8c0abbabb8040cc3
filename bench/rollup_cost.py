#!/usr/bin/env python
"""What the rollups cost issue and next: HEAD against the commit before them.

    python bench/rollup_cost.py [--rounds 6] [--calls 5000] [--before 0dd6431] [--smoke]

Goal (docs/performance.md): issuing and calling must not get slower by more than 10 %
because of the rollups (commit c3a07dd, whose parent is 0dd6431). Two baselines: the
commit before the rollups (whose code also lacks every later feature: undo, bookings,
opening hours...) and HEAD itself with no figures written ('off': lua/_lib.lua `roll`
made to return at once in the exported copy), which isolates what the figures cost
today. HEAD's journal of figures is settled after each run: its cost per transition is
printed too (the server pays it every 30 s and before reports, off the click).

The code trees are exported with `git archive` into a temp directory (no worktree, no
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
TREES = ("before", "off", "after")  # the commit before the rollups, HEAD without figures, HEAD


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


# HEAD with no figures: the scripts' `roll` (lua/_lib.lua) returns at once, so the same
# code runs without writing any rollup: what the rollups themselves cost today.
ROLL = "local function roll(day, units, fields)\n"


def without_figures(tree: Path) -> None:
    lib = tree / "server" / "lua" / "_lib.lua"
    text = lib.read_text()
    if ROLL not in text:
        raise RuntimeError(f"no `{ROLL.strip()}` in {lib}: cannot turn the figures off")
    lib.write_text(text.replace(ROLL, ROLL + "  do return end\n", 1))


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

    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in TREES}
    with Lab("loket-rollup-cost-") as lab:
        trees = {k: lab.tmp / k for k in runs}
        commits = {
            k: export(getattr(args, "before" if k == "before" else "after"), trees[k]) for k in runs
        }
        without_figures(trees["off"])
        header(
            "rollup cost bench",
            lab,
            f"before {commits['before'][:7]}, after {commits['after'][:7]} (and 'off': the"
            f" same with no figures written); {args.rounds} rounds x {args.calls} timed calls"
            f" per phase (+{args.warmup}), 20 coroutines",
        )
        for r in range(args.rounds):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            for k in order:
                runs[k].append(drive(lab, trees[k], f"{k}-{r}", args.calls, args.warmup))

            def trio(phase: str, figure: str) -> str:  # before / off / HEAD, this round
                return " / ".join(f"{runs[k][-1][phase][figure]:.0f}" for k in TREES)

            print(
                f"round {r + 1}/{args.rounds} (run {'/'.join(order)}, load {load_average()};"
                f" before / off / HEAD): issue {trio('issue', 'ops')} ops/s"
                f" ({trio('issue', 'usec')} µs in Valkey), next {trio('next', 'ops')} ops/s"
                f" ({trio('next', 'usec')} µs)",
                flush=True,
            )

    rows = [
        ("issue ops/s (client)", lambda r: r["issue"]["ops"], "{:.0f}", True),
        ("next ops/s (client)", lambda r: r["next"]["ops"], "{:.0f}", True),
        ("issue+next tickets/s", pair_ops, "{:.0f}", True),
        ("issue µs per script in Valkey", lambda r: r["issue"]["usec"], "{:.1f}", False),
        ("next µs per script in Valkey", lambda r: r["next"]["usec"], "{:.1f}", False),
    ]
    for base, title in (("before", "before (no rollups)"), ("off", "HEAD, figures off")):
        print(f"\nmedians over {args.rounds} rounds [min-max]   {title:>22}   HEAD")
        for name, get, fmt, is_rate in rows:
            first = [get(r) for r in runs[base]]
            after = [get(r) for r in runs["after"]]
            ratios = [x / y for x, y in zip(after, first, strict=True)]
            note = ""
            if is_rate:
                ok = statistics.median(ratios) >= TARGET
                note = f"  (target >= {TARGET}: {'PASS' if ok else 'MISS'})"
            print(
                f"{name:31} {spread(first, fmt):>22} {spread(after, fmt):>22}   "
                f"HEAD/{base} {spread(ratios, '{:.2f}')}{note}"
            )
    settled = [r["settle"] for r in runs["after"] if "settle" in r]
    if settled:
        print(
            "\nsettling the journal afterwards (HEAD), per issue or next: app CPU "
            + spread([s["app_usec_per_transition"] for s in settled], "{:.1f}")
            + " µs, store "
            + spread([s["store_usec_per_transition"] for s in settled], "{:.1f}")
            + " µs; entries per round "
            + spread([s["entries"] for s in settled], "{:.0f}")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
