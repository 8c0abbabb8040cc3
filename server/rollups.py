"""Reading and keeping the figures' rollup hashes.

The scripts add each transition's figures to the site's journal of figures, in the
transition's own atomic step (lua/_lib.lua `roll`); `settle` sums the journal's entries
here, in the app, and adds the sums into the day's hashes in one atomic step that also
drops those entries (settle.lua). Every reader settles first, and the day ticker every
30 s, so the hashes are never behind what a reader asks; the store's time per click
stays that of one list append (docs/performance.md). After a day ends it is
folded into its month's hashes in one atomic step (fold.lua), and from then on late
figures of that day (a ticket held past midnight) go to both. A report reads whole
months where it can and single days elsewhere (measure.periods), so a year is about a
dozen hashes per dimension, never a scan of tickets. Day hashes older than
`compress_after_days` are kept compressed; day figures older than `retention_days` are
dropped (the months stay).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from redis.exceptions import WatchError

from . import keys, measure

DIMS = ("s", "a", "v", "c", "o", "h", "b")
SETTLE_BATCH = 2000  # journal entries summed per settle.lua step
SETTLE_STEPS = 50  # at most per call: a journal written faster is left for the next one

# settle.lua of a site, with its own arguments; its answer
SettleScript = Callable[[str, list[str | bytes]], Awaitable[dict[str, Any]]]


class Rollups:
    def __init__(
        self,
        redis: Any,
        settle_script: SettleScript,
        *,
        retention_days: int = 400,
        compress_after_days: int = 40,
    ) -> None:
        self.redis: Any = redis
        self.settle_script = settle_script
        self.retention_days = retention_days
        self.compress_after_days = compress_after_days

    # -- the journal ------------------------------------------------------------------

    async def settle(self, site_id: str) -> int:
        """Add the site's journal of figures into its rollup hashes: what every reader
        does first, so that it sees every transition up to now. Answers how many
        entries this call settled (another process may settle some meanwhile)."""
        done = 0
        for _ in range(SETTLE_STEPS):
            entries = await self.redis.lrange(keys.rollup_journal(site_id), 0, SETTLE_BATCH - 1)
            if not entries:
                break
            sums = journal_sums(entries)
            args: list[str | bytes] = [str(len(entries)), entries[0]]
            for (day, dim, field), n in sums.items():
                args += [day, dim, field, str(n)]
            answer = await self.settle_script(site_id, args)
            if answer.get("moved"):
                continue  # settled by another process meanwhile: read again
            done += len(entries)
            if len(entries) < SETTLE_BATCH:
                break
        return done

    # -- reading ----------------------------------------------------------------------

    async def fields_now(
        self, site_id: str, day: str, dim: str, fields: Sequence[str]
    ) -> list[int]:
        """A few fields of one day's hash of one dimension, with what the journal holds
        for them yet, read in one atomic step and without settling: for a reader that
        asks after every click (the console's figures of today), which would otherwise
        settle one entry at a time and put the click's field-by-field work back on the
        store."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.rollup(site_id, day, dim), list(fields))
            pipe.lrange(keys.rollup_journal(site_id), 0, -1)
            stored, entries = await pipe.execute()
        pending = journal_sums(entries)
        return [
            int(v or 0) + pending.get((day, dim, f), 0) for v, f in zip(stored, fields, strict=True)
        ]

    async def hashes(
        self, site_id: str, dim: str, periods: Sequence[str]
    ) -> list[dict[bytes, bytes]]:
        """The rollup hash of each period for one dimension, in order (an old day's
        compressed figures merged in), the journal settled first."""
        await self.settle(site_id)
        pipe = self.redis.pipeline(transaction=False)
        for period in periods:
            pipe.hgetall(keys.rollup(site_id, period, dim))
            pipe.get(keys.rollup_archive(site_id, period, dim))
        replies = await pipe.execute()
        out = []
        for live, archived in zip(replies[::2], replies[1::2], strict=True):
            if archived:
                merged = {k.encode(): str(v).encode() for k, v in _unpack(archived).items()}
                for k, v in live.items():
                    merged[k] = str(int(merged.get(k, b"0")) + int(v)).encode()
                live = merged
            out.append(live)
        return out

    async def units(
        self, site_id: str, dim: str, first: date, last: date, today: date
    ) -> dict[str, measure.Tally]:
        """The figures of every unit of a dimension over the service days first..last:
        whole months where the range covers most of them (less the days outside it),
        single days elsewhere (measure.plan)."""
        plus, minus = measure.plan(first, last, today)
        plus, minus = await self._correct_for_unfolded(site_id, plus, minus, today)
        hashes = await self.hashes(site_id, dim, [*plus, *minus])
        units = measure.tally_units(hashes[: len(plus)])
        return measure.subtract(units, measure.tally_units(hashes[len(plus) :]))

    async def _correct_for_unfolded(
        self, site_id: str, plus: list[str], minus: list[str], today: date
    ) -> tuple[list[str], list[str]]:
        """A month's hash holds only its folded days: add the month's unfolded days that
        the range wants, and take away only folded days."""
        months = [p for p in plus if len(p) == 7]
        if not months:
            return plus, minus
        candidates = [d.isoformat() for m in months for d in measure.month_days(m, today)]
        flags = await self.redis.smismember(keys.rollups_folded(site_id), candidates)
        folded = {d for d, yes in zip(candidates, flags, strict=True) if yes}
        unwanted = set(minus)
        wanted_unfolded = [d for d in candidates if d not in folded and d not in unwanted]
        return plus + wanted_unfolded, [d for d in minus if d in folded]

    # -- keeping ----------------------------------------------------------------------

    async def fold_days(
        self,
        site_id: str,
        today: date,
        run: Callable[[list[str], list[str]], Awaitable[Any]],
        lookback_days: int = 40,
    ) -> int:
        """Fold every finished day of the last `lookback_days` that is not folded yet
        (`run` runs fold.lua with the extra keys and arguments)."""
        days = [(today - timedelta(days=i)).isoformat() for i in range(1, lookback_days + 1)]
        flags = await self.redis.smismember(keys.rollups_folded(site_id), days)
        folded = 0
        for day, yes in zip(days, flags, strict=True):
            if yes:
                continue
            month = day[:7]
            pairs = [
                k
                for dim in DIMS
                for k in (keys.rollup(site_id, day, dim), keys.rollup(site_id, month, dim))
            ]
            await run([keys.rollups_folded(site_id), *pairs], [day])
            folded += 1
        return folded

    async def compress_old_days(self, site_id: str, today: date, span_days: int = 7) -> int:
        """Keep the day hashes of `compress_after_days` ago (and a few days before, in
        case a rollover was missed) as compressed strings; drop day figures older than
        the retention."""
        done = 0
        for i in range(span_days):
            day = (today - timedelta(days=self.compress_after_days + i)).isoformat()
            for dim in DIMS:
                done += await self._compress(site_id, day, dim)
        cutoff = today - timedelta(days=self.retention_days)
        doomed = [
            key
            for i in range(1, span_days + 1)
            for dim in DIMS
            for key in (
                keys.rollup(site_id, (cutoff - timedelta(days=i)).isoformat(), dim),
                keys.rollup_archive(site_id, (cutoff - timedelta(days=i)).isoformat(), dim),
            )
        ]
        await self.redis.delete(*doomed)
        return done

    async def _compress(self, site_id: str, day: str, dim: str) -> int:
        live, packed = keys.rollup(site_id, day, dim), keys.rollup_archive(site_id, day, dim)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(3):
                try:
                    await pipe.watch(live)
                    fields = await pipe.hgetall(live)
                    if not fields:
                        return 0
                    old = await pipe.get(packed)
                    merged = _unpack(old) if old else {}
                    for k, v in fields.items():
                        name = k.decode()
                        merged[name] = merged.get(name, 0) + int(v)
                    pipe.multi()
                    pipe.set(packed, _pack(merged))
                    pipe.delete(live)
                    await pipe.execute()
                    return 1
                except WatchError:
                    continue  # a late figure arrived meanwhile: read again
        return 0


def journal_sums(entries: Iterable[bytes]) -> dict[tuple[str, str, str], int]:
    """The journal entries' figures summed by (day, dimension, hash field `unit|metric`);
    sums of 0 left out (an action and its undo in the same batch: never written)."""
    sums: dict[tuple[str, str, str], int] = {}
    for entry in entries:
        _, _, body = entry.partition(b" ")
        for day, units, fields in json.loads(body):
            for dim, unit in units.items():
                for metric, n in fields.items():
                    key = (day, dim, f"{unit}|{metric}")
                    sums[key] = sums.get(key, 0) + int(n)
    return {key: n for key, n in sums.items() if n}


def _pack(fields: dict[str, int]) -> bytes:
    return zlib.compress(json.dumps(fields, separators=(",", ":")).encode(), 6)


def _unpack(raw: bytes) -> dict[str, int]:
    data: dict[str, int] = json.loads(zlib.decompress(raw))
    return data
