"""Accounts, device and script tokens, and login sessions (the `{auth}` keys)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
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
        pipe.hdel(keys.token_used(), digest)
        deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def touch_token(self, digest: str, at: str) -> None:
        """Remember when a token was last used (only while it exists)."""
        if await self.redis.exists(keys.token(digest)):
            await self.redis.hset(keys.token_used(), digest, at)

    async def tokens_used(self) -> dict[str, str]:
        """token digest -> when it was last used."""
        raw = await self.redis.hgetall(keys.token_used())
        return {_text(k): _text(v) for k, v in raw.items()}

    async def tokens(self) -> list[tuple[str, dict[str, Any]]]:
        """Every device and script token: (digest, principal), in no order."""
        digests = sorted(await self.redis.smembers(keys.tokens()))
        if not digests:
            return []
        raws = await self.redis.mget([keys.token(_text(d)) for d in digests])
        return [(_text(d), json.loads(raw)) for d, raw in zip(digests, raws, strict=True) if raw]

    async def put_session(self, digest: str, principal: dict[str, Any], ttl_s: int) -> None:
        """A login session, remembered with its user's others (`principal["name"]`)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.session(digest), json.dumps(principal), ex=ttl_s)
        pipe.sadd(keys.user_sessions(principal["name"]), digest)
        pipe.expire(keys.user_sessions(principal["name"]), ttl_s)
        await pipe.execute()

    async def session(self, digest: str) -> dict[str, Any] | None:
        return await self.get_json(keys.session(digest))

    async def drop_session(self, digest: str) -> None:
        session = await self.session(digest)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.session(digest))
        if session and session.get("name"):
            pipe.srem(keys.user_sessions(session["name"]), digest)
        await pipe.execute()

    async def end_sessions(self, username: str) -> int:
        """Log a user out everywhere; the number of sessions ended."""
        digests = await self.redis.smembers(keys.user_sessions(username))
        pipe = self.redis.pipeline(transaction=True)
        for d in digests:
            pipe.delete(keys.session(_text(d)))
        pipe.delete(keys.user_sessions(username))
        results = await pipe.execute()
        return sum(int(r) for r in results[:-1])

    async def put_user(self, username: str, account: dict[str, Any]) -> None:
        """Create or replace an account. The caller ends its sessions when it changed:
        a login re-reads the account after saving its session (see `auth.login`), so
        the two cannot cross."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.user(username), json.dumps(account))
        pipe.sadd(keys.users(), username)
        await pipe.execute()

    async def user(self, username: str) -> dict[str, Any] | None:
        return await self.get_json(keys.user(username))

    async def users(self) -> list[tuple[str, dict[str, Any]]]:
        """Every account: (username, account with its password hash), by name."""
        names = sorted(_text(n) for n in await self.redis.smembers(keys.users()))
        if not names:
            return []
        raws = await self.redis.mget([keys.user(n) for n in names])
        return [(n, json.loads(raw)) for n, raw in zip(names, raws, strict=True) if raw]

    async def remove_user(self, username: str) -> bool:
        """Delete an account and end its sessions; False when there was none."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.user(username))
        pipe.srem(keys.users(), username)
        deleted, _ = await pipe.execute()
        await self.end_sessions(username)
        return bool(deleted)

    async def count_login(self, username: str, window_s: int = 60) -> tuple[int, int]:
        """Count one login attempt for `username` before checking its password:
        (attempts in this window, the window). A success takes its count back
        (`forgive_login`), so what stays counted are the failures."""
        return await self._count(keys.login_failures, username, window_s)

    async def forgive_login(self, username: str, window: int, window_s: int = 60) -> None:
        await self._forgive(keys.login_failures(username, window), window_s)

    async def count_login_from(self, address: str, window_s: int = 60) -> tuple[int, int]:
        """`count_login`, for a client address."""
        return await self._count(keys.login_failures_from, address, window_s)

    async def forgive_login_from(self, address: str, window: int, window_s: int = 60) -> None:
        await self._forgive(keys.login_failures_from(address, window), window_s)

    async def _count(
        self, key_of: Callable[[str, int], str], ident: str, window_s: int
    ) -> tuple[int, int]:
        window = int(time.time() // window_s)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key_of(ident, window))
        pipe.expire(key_of(ident, window), window_s * 2)
        count, _ = await pipe.execute()
        return int(count), window

    async def _forgive(self, key: str, window_s: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.decr(key)
        pipe.expire(key, window_s * 2)
        await pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
