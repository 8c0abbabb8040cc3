"""The sites' event logs (one Redis stream per site, entry id `<seq>-0`): reading what
was missed, and blocking for what comes next. Writes happen only in the Lua scripts,
in the same atomic step as the change they record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import keys


class EventLog:
    def __init__(self, redis: Any) -> None:
        self.redis: Any = redis

    async def last_seq(self, site_id: str) -> int:
        raw = await self.redis.get(keys.seq(site_id))
        return int(raw or 0)

    async def events_after(
        self, site_id: str, since: int, limit: int = 10_000
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events with seq > since, oldest first, and whether the log still held all."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xrange(keys.events(site_id), "-", "+", count=1)
        pipe.get(keys.seq(site_id))
        pipe.xrange(keys.events(site_id), f"{since + 1}-0", "+", count=limit)
        first, last, rows = await pipe.execute()
        last_seq = int(last or 0)
        first_seq = int(first[0][0].decode().split("-")[0]) if first else last_seq + 1
        complete = since >= last_seq or first_seq <= since + 1
        return [json.loads(fields[b"e"]) for _, fields in rows], complete

    async def read_events(
        self, site_ids: Sequence[str], after: dict[str, str], block_ms: int, count: int = 500
    ) -> list[tuple[str, str, bytes]]:
        """Block for new events of several sites: [(site, stream id, event JSON)]."""
        streams = {keys.events(s): after[s] for s in site_ids}
        reply = await self.redis.xread(streams, count=count, block=block_ms)
        out = []
        by_key = {keys.events(s): s for s in site_ids}
        for key, rows in reply or []:
            site = by_key[key.decode() if isinstance(key, bytes) else key]
            for entry_id, fields in rows:
                out.append((site, entry_id.decode(), fields[b"e"]))
        return out
