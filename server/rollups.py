"""Reading the figures' rollup hashes (written only by the Lua scripts, lua/_lib.lua).

A report over any range reads whole months where it can and single days elsewhere
(measure.periods), so a year is about a dozen hashes per dimension, never a scan of
tickets. Day hashes are kept `retention_days`; month hashes are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from . import keys, measure

DIMS = ("s", "a", "v", "c", "o", "h")


class Rollups:
    def __init__(self, redis: Any, *, retention_days: int = 400) -> None:
        self.redis: Any = redis
        self.retention_days = retention_days

    async def hashes(
        self, site_id: str, dim: str, periods: Sequence[str]
    ) -> list[dict[bytes, bytes]]:
        """The rollup hash of each period for one dimension, in order."""
        pipe = self.redis.pipeline(transaction=False)
        for period in periods:
            pipe.hgetall(keys.rollup(site_id, period, dim))
        return list(await pipe.execute())

    async def units(
        self, site_id: str, dim: str, first: date, last: date, today: date
    ) -> dict[str, measure.Tally]:
        """The figures of every unit of a dimension over the service days first..last."""
        return measure.tally_units(
            await self.hashes(site_id, dim, measure.periods(first, last, today))
        )

    async def forget_days_before(self, site_id: str, cutoff: date, lookback_days: int) -> int:
        """Drop the day hashes of the `lookback_days` days before `cutoff` (the months
        stay). Called at each rollover, so a gap of a few days is still cleaned."""
        doomed = [
            keys.rollup(site_id, (cutoff - timedelta(days=i)).isoformat(), dim)
            for i in range(1, lookback_days + 1)
            for dim in DIMS
        ]
        return int(await self.redis.delete(*doomed))
