"""The audit log's storage (server/audit.py): per site and installation-wide, newest
first, trimmed by age."""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis

from server import keys
from server.audit import AuditLog, Entry
from tests.conftest import fresh_site_id


def entry(action: str, target: str = "x") -> Entry:
    return Entry("2026-11-28T01:00:00+00:00", "admin", action, target, {"n": 1})


async def test_newest_first_with_a_limit(redis: Redis) -> None:
    log = AuditLog(redis)
    site = fresh_site_id("a")
    for i in range(5):
        await log.record(site, entry(f"step.{i}"))
    got = await log.entries(site, limit=3)
    assert [e["action"] for e in got] == ["step.4", "step.3", "step.2"]
    assert got[0] == {
        "at": "2026-11-28T01:00:00+00:00",
        "actor": "admin",
        "action": "step.4",
        "target": "x",
        "detail": {"n": 1},
    }
    assert await log.entries(fresh_site_id("a")) == []  # another site: its own log


async def test_entries_without_a_site_go_to_the_installation_log(redis: Redis) -> None:
    log = AuditLog(redis)
    marker = fresh_site_id("global")
    await log.record(None, entry("user.create", marker))
    assert (await log.entries(None, limit=1))[0]["target"] == marker
    assert await redis.exists(keys.audit_global())


async def test_entries_older_than_the_retention_are_trimmed(redis: Redis) -> None:
    log = AuditLog(redis, retention_days=400)
    site = fresh_site_id("a")
    now_ms = int(time.time() * 1000)
    body = json.dumps({"at": "old", "actor": "a", "action": "old", "target": "", "detail": {}})
    # entries as the log would hold them 401 and 399 days ago
    for days in (401, 399):
        await redis.xadd(keys.audit(site), {"e": body}, id=f"{now_ms - days * 86_400_000}-0")
    await log.record(site, entry("new"))
    assert [e["action"] for e in await log.entries(site)] == ["new", "old"]
    assert await redis.xlen(keys.audit(site)) == 2
