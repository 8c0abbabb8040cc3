"""An HTTP/1.1 load client for the engine bench (its own process; no wrk needed).

    python bench/load.py --port P --spec spec.json

spec.json: {"targets": [[path, bearer token or ""], ...], "calls": N, "warmup": W,
"connections": C}. C keep-alive connections; connection i POSTs target i mod len,
without a body, with a fresh Idempotency-Key each time (as a counter console does),
until W + N requests were answered; the first W (all connections) are not timed.
Prints one line `LOAD {json}`: calls, seconds, ops/s, latency percentiles (ms), nulls
(`"ticket":null` answers) and errors (non-200 answers, dropped connections).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import time
from pathlib import Path
from typing import Any


def _rank(values: list[float], p: float) -> float:
    return values[max(1, math.ceil(p / 100 * len(values))) - 1] if values else float("nan")


async def run(port: int, spec: dict[str, Any]) -> dict[str, Any]:
    targets: list[list[str]] = spec["targets"]
    warmup, calls, conns = int(spec["warmup"]), int(spec["calls"]), int(spec["connections"])
    total = warmup + calls
    issued = itertools.count()
    lat: list[float] = []
    counts = {"nulls": 0, "errors": 0, "answered": 0}
    marks: dict[str, float] = {}
    pc = time.perf_counter

    async def connection(i: int) -> None:
        path, token = targets[i % len(targets)]
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
            f"Content-Length: 0\r\nIdempotency-Key: "
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                n = next(issued)
                if n >= total:
                    return
                if n == warmup:
                    marks["start"] = pc()
                t0 = pc()
                writer.write(head + f"b{i}-{n}\r\n\r\n".encode())
                status_and_headers = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in status_and_headers.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                t1 = pc()
                counts["answered"] += 1
                if n >= warmup:
                    lat.append(t1 - t0)
                if not status_and_headers.startswith(b"HTTP/1.1 200"):
                    counts["errors"] += 1
                elif b'"ticket":null' in body:
                    counts["nulls"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(conns)))
    seconds = pc() - marks.get("start", pc())
    lat.sort()
    return {
        "calls": len(lat),
        "seconds": seconds,
        "ops": len(lat) / seconds if seconds > 0 else 0.0,
        "p50": _rank(lat, 50) * 1000,
        "p90": _rank(lat, 90) * 1000,
        "p99": _rank(lat, 99) * 1000,
        "max": (lat[-1] if lat else float("nan")) * 1000,
        "nulls": counts["nulls"],
        "errors": counts["errors"] + (total - counts["answered"]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--spec", type=Path, required=True)
    args = p.parse_args()
    result = asyncio.run(run(args.port, json.loads(args.spec.read_text())))
    print("LOAD " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
