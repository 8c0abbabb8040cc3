"""The audit log: who changed what, when (spec section 7), kept 400 days.

One capped stream per site (`keys.audit`) and one for changes that belong to no site
(`keys.audit_global`: admin and evaluator accounts). Every append trims entries older
than the retention with `XADD ... MINID`, so the log is bounded by age, not by count;
entry ids are the store's own time, so a process with a wrong clock cannot keep
entries for ever. Entries: `{"at", "actor", "action", "target", "detail"}`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from . import keys

RETENTION_DAYS = 400
MAX_LIMIT = 1000  # entries in one answer, at most


@dataclass(frozen=True)
class Entry:
    at: str  # ISO 8601 with offset
    actor: str  # account or token name, "admin", or "cli:<unix user>"
    action: str  # e.g. "config.replace", "user.create", "token.revoke"
    target: str  # what changed: a site, service, account, token ("token:<id> <name>")
    detail: dict[str, Any] = field(default_factory=dict)  # what changed, never secrets


class AuditLog:
    def __init__(self, redis: Any, retention_days: int = RETENTION_DAYS) -> None:
        self.redis: Any = redis
        self.retention_days = retention_days

    @staticmethod
    def key(site: str | None) -> str:
        return keys.audit(site) if site else keys.audit_global()

    async def record(self, site: str | None, entry: Entry) -> None:
        oldest_ms = int(time.time() * 1000) - self.retention_days * 86_400_000
        await self.redis.xadd(
            self.key(site),
            {"e": json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":"))},
            minid=max(oldest_ms, 0),
            approximate=False,  # a few changes a day: exact trimming costs nothing
        )

    async def entries(self, site: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` entries, newest first."""
        rows = await self.redis.xrevrange(self.key(site), count=min(limit, MAX_LIMIT))
        return [json.loads(fields[b"e"]) for _, fields in rows]
