"""A short run of each bench (bench/README.md), so none rots: each runs with --smoke
(tiny rounds, a few seconds) and prints its figures. No speed is asserted here: the
figures belong to the benches' full runs, on a quiet machine (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def smoke(script: str, *args: str) -> str:
    """Run `bench/<script> [args] --smoke`; its output, after checking it succeeded."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--smoke"],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.timeout(120)
def test_engine() -> None:
    out = smoke("engine.py")
    for figure in ("L  Loket HTTP API", "a  bare Starlette", "b  Store.next", "L/a ", "L/b "):
        assert figure in out


@pytest.mark.timeout(120)
def test_rollup_cost() -> None:
    out = smoke("rollup_cost.py")
    for figure in ("issue ops/s", "next ops/s", "issue+next tickets/s", "HEAD/before"):
        assert figure in out


@pytest.mark.timeout(120)
def test_reports() -> None:
    out = smoke("reports.py")
    for figure in ("MEMORY USAGE sum", "report ", "evaluation ", "cold ", "warm "):
        assert figure in out


@pytest.mark.timeout(120)
def test_fanout() -> None:
    out = smoke("fanout.py")
    for figure in ("server CPU per call (ms)", "KiB per idle socket", "p99 over all calls"):
        assert figure in out


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("scenario", "figures"),
    [
        ("phones", ("phones/plain server CPU per event",)),
        ("reconnect", ("every event, in order, none missing: yes",)),
        ("country", ("click-to-last-screen p50", "KiB per idle socket")),
    ],
)
def test_crowd(scenario: str, figures: tuple[str, ...]) -> None:
    out = smoke("crowd.py", scenario)
    for figure in figures:
        assert figure in out
