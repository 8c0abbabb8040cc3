"""The audit log's storage (server/audit.py): per site and installation-wide, newest
first, trimmed by age."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from redis.asyncio import Redis

from server import config, keys
from server.audit import AuditLog, Entry
from server.cli import loopback_warning
from tests.conftest import fresh_site_id, loket_env, run_loket, write_small_site


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


async def test_commands_write_audit_entries(redis: Redis, redis_url: str, tmp_path) -> None:
    """`loket config load`, `user add/remove`, `token create/revoke`: actor cli:<user>."""
    site = fresh_site_id("cli")
    path = write_small_site(tmp_path / "kecil.toml")
    path.write_text(path.read_text().replace('id = "kecil"', f'id = "{site}"', 1))
    store = ["--redis-url", redis_url]
    steps = [
        ("config", "load", str(path), *store),
        ("token", "create", "--role", "kiosk", "--site", site, "--name", "kiosk-1", *store),
        ("token", "revoke", "kiosk-1", "--site", site, *store),
    ]
    for args in steps:
        assert run_loket(*args).returncode == 0
    officer = ["--role", "officer", "--site", site, "--password-stdin"]
    user = subprocess.run(
        [sys.executable, "-m", "server.cli", "user", "add", f"ofc-{site}", *officer, *store],
        input="rahasia-123\n",
        env=loket_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert user.returncode == 0, user.stderr
    assert run_loket("user", "remove", f"ofc-{site}", *store).returncode == 0
    entries = await AuditLog(redis).entries(site)
    assert [e["action"] for e in entries] == [
        "user.remove",
        "user.create",
        "token.revoke",
        "token.create",
        "config.load",
    ]
    assert all(e["actor"].startswith("cli:") for e in entries)
    assert entries[-1]["detail"]["services"] == {"added": ["umum"]}
    assert entries[1]["detail"] == {"role": "officer", "site": site, "counters": []}


def test_serve_warns_when_only_this_machine_can_connect() -> None:
    site = config.parse(
        {
            "site": {"id": "kecil", "name": "MPP Kecil"},
            "agencies": [{"id": "a", "name": "A"}],
            "services": [{"id": "s", "agency": "a", "name": "S", "prefix": "S"}],
            "counters": [{"id": "c", "name": "C", "agency": "a", "services": ["s"]}],
        }
    )
    text = loopback_warning(8000, [site])
    assert "--host 0.0.0.0 --port 8000" in text and "public_url in [site] of kecil" in text
    assert "public_url" not in loopback_warning(8000, [])
