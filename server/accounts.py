"""Accounts, device and script tokens, and login sessions (the `{auth}` keys)."""

from __future__ import annotations

import json
from typing import Any

from . import keys


class Accounts:
    def __init__(self, redis: Any) -> None:
        self.redis: Any = redis

    async def get_json(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(key)
        return json.loads(raw) if raw else None

    async def put_token(self, digest: str, principal: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.token(digest), json.dumps(principal))
        pipe.sadd(keys.tokens(), digest)
        await pipe.execute()

    async def token(self, digest: str) -> dict[str, Any] | None:
        return await self.get_json(keys.token(digest))

    async def revoke_token(self, digest: str) -> bool:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.token(digest))
        pipe.srem(keys.tokens(), digest)
        deleted, _ = await pipe.execute()
        return bool(deleted)

    async def put_session(self, digest: str, principal: dict[str, Any], ttl_s: int) -> None:
        await self.redis.set(keys.session(digest), json.dumps(principal), ex=ttl_s)

    async def session(self, digest: str) -> dict[str, Any] | None:
        return await self.get_json(keys.session(digest))

    async def drop_session(self, digest: str) -> None:
        await self.redis.delete(keys.session(digest))

    async def put_user(self, username: str, account: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.user(username), json.dumps(account))
        pipe.sadd(keys.users(), username)
        await pipe.execute()

    async def user(self, username: str) -> dict[str, Any] | None:
        return await self.get_json(keys.user(username))
