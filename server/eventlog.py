"""The sites' event logs (one Redis stream per site, entry id `<seq>-0`): reading what
was missed, and blocking for what comes next. Writes happen only in the Lua scripts,
in the same atomic step as the change they record."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import keys


@dataclass(frozen=True, slots=True)
class Page:
    """Events with seq > since (oldest first, `limit` at most), whether the log still
    held every one of them, and the log's head seq at that moment."""

    events: list[dict[str, Any]]
    complete: bool
    last_seq: int


@dataclass(frozen=True, slots=True)
class Queues:
    """What visitors' positions are computed from, read at one moment: the waiting ids
    of some services in order, the status of their counters, their latest service times."""

    waiting: dict[str, list[str]]  # service -> ticket ids, next first
    counters: dict[str, bytes | None]  # counter id -> its state JSON (None: never set)
    service_times: dict[str, bytes | None]  # service -> comma list of seconds


class EventLog:
    def __init__(self, redis: Any) -> None:
        self.redis: Any = redis

    async def last_seq(self, site_id: str) -> int:
        raw = await self.redis.get(keys.seq(site_id))
        return int(raw or 0)

    async def epoch(self, site_id: str) -> str:
        """The id of the site's log; made here (SET NX) the first time it is read, so a
        log that starts over (a store lost and started empty) gets a new one."""
        raw = await self.redis.get(keys.epoch(site_id))
        if raw is None:
            await self.redis.set(keys.epoch(site_id), secrets.token_urlsafe(9), nx=True)
            raw = await self.redis.get(keys.epoch(site_id))
        return str(raw.decode() if isinstance(raw, bytes) else raw)

    async def page(self, site_id: str, since: int, limit: int = 10_000) -> Page:
        """Events with seq > since, `limit` at most, read with the log's head in one step."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xrange(keys.events(site_id), "-", "+", count=1)
        pipe.get(keys.seq(site_id))
        pipe.xrange(keys.events(site_id), f"{since + 1}-0", "+", count=limit)
        first, last, rows = await pipe.execute()
        last_seq = int(last or 0)
        first_seq = int(first[0][0].decode().split("-")[0]) if first else last_seq + 1
        complete = since >= last_seq or first_seq <= since + 1
        return Page([json.loads(fields[b"e"]) for _, fields in rows], complete, last_seq)

    async def events_after(
        self, site_id: str, since: int, limit: int = 10_000
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events with seq > since, oldest first, and whether the log still held all."""
        page = await self.page(site_id, since, limit)
        return page.events, page.complete

    async def queues(
        self, site_id: str, services: Sequence[str], counter_ids: Sequence[str]
    ) -> Queues:
        """The waiting lines of some services and the load on them, in one round trip
        (the fan-out's visitor positions: one read per event, whatever the phones)."""
        pipe = self.redis.pipeline(transaction=True)
        for service in services:
            pipe.zrange(keys.queue(site_id, service), 0, -1)
        if services:
            pipe.hmget(keys.service_times(site_id), list(services))
        if counter_ids:
            pipe.hmget(keys.counters(site_id), list(counter_ids))
        reply = await pipe.execute()
        waiting = {s: [i.decode() for i in ids] for s, ids in zip(services, reply, strict=False)}
        rest = reply[len(services) :]
        times = dict(zip(services, rest.pop(0), strict=True)) if services else {}
        states = dict(zip(counter_ids, rest.pop(0), strict=True)) if counter_ids else {}
        return Queues(waiting, states, times)

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
