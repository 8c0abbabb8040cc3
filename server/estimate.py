"""Estimated wait of a waiting ticket. Pure: no I/O. The method: docs/estimated-wait.md.

estimate = (position - 1/2) x typical service time / open counters

- `position` 1 is next. The visitor waits for the `position - 1` people ahead to be
  served and then for a counter to come free, shared among the open counters that serve
  the ticket's service. The half: when a visitor arrives, the counters are on average
  about halfway through their current visitors (a simulated day shows it beats a whole
  one; see tests/test_estimate.py).
- The typical service time is a trimmed mean of the recent service times of the service
  (the longest and shortest tenth dropped, at least one each once there are 5 samples):
  the mean is what sets a queue's pace, the trimming keeps one forgotten *done* button
  (a 2-hour "service") or a mis-click (a 2-second one) from swinging every estimate.
- With fewer than MIN_SAMPLES recent times (morning, a rarely used service) the
  configured default is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_SAMPLES = 3
TRIM_FRACTION = 0.1
DEFAULT_SERVICE_S = 300.0


def typical_service_s(
    recent_service_s: Sequence[float], default_service_s: float = DEFAULT_SERVICE_S
) -> float:
    """Trimmed mean of the usable recent service times, or the default with too few."""
    samples = sorted(s for s in recent_service_s if math.isfinite(s) and s > 0)
    if len(samples) < MIN_SAMPLES:
        return default_service_s
    trim = int(len(samples) * TRIM_FRACTION)
    if trim == 0 and len(samples) >= 5:
        trim = 1
    kept = samples[trim : len(samples) - trim]
    return sum(kept) / len(kept)


def estimate_wait_s(
    position: int | None,
    open_counters: int,
    recent_service_s: Sequence[float],
    default_service_s: float = DEFAULT_SERVICE_S,
) -> int | None:
    """Seconds until a ticket at `position` is likely called; None when it cannot be said.

    None when the ticket is not waiting (`position` None or below 1) or no open counter
    serves its service (the wait depends on a counter opening, which nobody can predict).
    """
    if position is None or position < 1 or open_counters < 1:
        return None
    typical = typical_service_s(recent_service_s, default_service_s)
    return round((position - 0.5) * typical / open_counters)
