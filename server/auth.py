"""Credentials and roles.

Bearer tokens (admin from the environment; device and script tokens from
`loket token create`; login sessions) and the session/device cookies of pages. A cookie
authenticates a write only with the matching CSRF header (double submit).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import domain
from .errors import Forbidden, InvalidField, NotFound, RateLimited, Unauthorized
from .store import Store

ROLES = ("admin", "supervisor", "officer", "kiosk", "display", "evaluator", "metrics")
# Roles that see a site's ticket ids (secrets: an id lets its holder cancel and rate).
ID_READERS = frozenset({"supervisor", "officer"})
# Roles that need no site: they read every site of the installation (`metrics`: only
# GET /metrics, for a Prometheus server).
GLOBAL_ROLES = frozenset({"admin", "evaluator", "metrics"})
SESSION_COOKIE = "loket_session"
DEVICE_COOKIE = "loket_device"
CSRF_COOKIE = "loket_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Failed logins one username may have per minute (from any address); the per-address
# limit (settings.login_rate_per_minute, passed by the api) must be well above it.
LOGIN_FAILURES_PER_MINUTE = 10
# Password hashes computed at once per process: argon2 runs in threads, off the event
# loop, and a login flood waits here instead of taking every core.
HASHING_CONCURRENCY = 4

# A device token's last use is recorded at most this often (per token and process).
TOKEN_USE_EVERY_S = 60.0

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user like a known one.
_DUMMY_HASH = _hasher.hash("not a password")


@dataclass(frozen=True)
class Principal:
    role: str
    site: str | None = None
    counters: tuple[str, ...] = ()
    name: str = ""
    key: str = field(default="", repr=False)  # digest of the credential (idempotency scope)

    def may(self, roles: Iterable[str], site: str) -> bool:
        return self.role == "admin" or (self.role in roles and self.site == site)

    def sees_ids(self, site: str) -> bool:
        """Whether this credential may read the secret ticket ids of `site`."""
        return self.role == "admin" or (self.role in ID_READERS and self.site == site)

    def public(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "site": self.site,
            "counters": list(self.counters),
            "name": self.name,
        }


ANONYMOUS = Principal(role="anonymous", key="anonymous")


def new_token() -> str:
    return "lkt_" + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _principal(data: Mapping[str, Any], key: str) -> Principal:
    return Principal(
        role=data["role"],
        site=data.get("site"),
        counters=tuple(data.get("counters") or ()),
        name=data.get("name", ""),
        key=key,
    )


class Authenticator:
    """Looks credentials up, with a short cache so a busy counter costs no extra trip."""

    def __init__(
        self,
        store: Store,
        admin_token: str,
        *,
        cache_s: float = 5.0,
        session_ttl_s: int = 12 * 3600,
        login_failures_per_minute: int = LOGIN_FAILURES_PER_MINUTE,
        hashing_concurrency: int = HASHING_CONCURRENCY,
    ) -> None:
        self.store = store
        self.admin_token = admin_token
        self.cache_s = cache_s  # a revoked credential works at most this long
        self.session_ttl_s = session_ttl_s
        self.login_failures_per_minute = login_failures_per_minute
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self._touched: dict[str, float] = {}  # token digest -> when its use was recorded
        self._hashing = asyncio.Semaphore(hashing_concurrency)

    async def from_token(self, token: str) -> Principal | None:
        if not token or len(token) > 200:
            return None
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Principal(role="admin", name="admin", key="admin")
        d = digest(token)
        hit = self._cache.get(d)
        now = time.monotonic()
        if hit and now - hit[1] < self.cache_s:
            return hit[0]
        data = await self.store.accounts.token(d)
        if data is not None:
            await self._record_use(d, now)
        else:
            data = await self.store.accounts.session(d)
        principal = _principal(data, d) if data else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[d] = (principal, now)
        return principal

    async def _record_use(self, d: str, now: float) -> None:
        """A device token's last use, for `token list`: recorded on a cache miss, at most
        once a minute per token and process, so a busy kiosk costs nothing extra."""
        if now - self._touched.get(d, -TOKEN_USE_EVERY_S) < TOKEN_USE_EVERY_S:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[d] = now
        await self.store.accounts.touch_token(d, _now_iso())

    def forget(self, token: str) -> None:
        self.forget_digest(digest(token))

    def forget_digest(self, key: str) -> None:
        """Drop a cached credential now (this process); others drop it within cache_s."""
        self._cache.pop(key, None)

    async def from_request(
        self,
        method: str,
        headers: Mapping[str, str],
        cookies: Callable[[], Mapping[str, str]],
        query_token: str | None = None,
    ) -> Principal | None:
        """The credential of a request; None when it carries none. A bad one is 401.
        `cookies` is only called (and the Cookie header parsed) when no token came."""
        header = headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Use 'Authorization: Bearer <token>'.")
            principal = await self.from_token(token.strip())
            if principal is None:
                raise Unauthorized("Unknown or revoked token.")
            return principal
        if query_token is not None:
            principal = await self.from_token(query_token)
            if principal is None:
                raise Unauthorized("Unknown or revoked token.")
            return principal
        jar = cookies()
        for name in (SESSION_COOKIE, DEVICE_COOKIE):
            cookie = jar.get(name)
            if not cookie:
                continue
            principal = await self.from_token(cookie)
            if principal is None:
                continue  # an expired session cookie is no credential
            if method not in SAFE_METHODS:
                sent = headers.get(CSRF_HEADER, "")
                expected = jar.get(CSRF_COOKIE, "")
                if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
                    raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
            return principal
        return None

    # -- accounts -----------------------------------------------------------------

    async def login(
        self,
        username: object,
        password: object,
        address: str = "unknown",
        address_limit: int = 10 * LOGIN_FAILURES_PER_MINUTE,
    ) -> tuple[str, Principal]:
        """A new session, or 401. Failed logins count per username (at most
        `login_failures_per_minute`) and per client address (at most `address_limit`, so
        well above: a whole office may share one address behind NAT). A success counts
        for neither, and a login refused by the username's limit costs no password check
        and does not count for the address: hammering one account locks only it."""
        if not isinstance(username, str) or not username:
            raise InvalidField("username", "must be a non-empty string")
        if not isinstance(password, str) or not password:
            raise InvalidField("password", "must be a non-empty string")
        accounts = self.store.accounts
        known = len(username) <= 64  # longer ones are no account, and are not counted
        window = 0
        if known:
            attempts, window = await accounts.count_login(username)
            if attempts > self.login_failures_per_minute:
                raise RateLimited("Too many failed logins for this account; wait a minute.")
        from_address, address_window = await accounts.count_login_from(address)
        if from_address > address_limit:
            if known:
                await accounts.forgive_login(username, window)
            raise RateLimited("Too many failed logins from this address; wait a minute.")
        account = await accounts.user(username) if known else None
        hashed = account["password"] if account else _DUMMY_HASH
        if not await verify_password(hashed, password, self._hashing) or account is None:
            raise Unauthorized("Wrong username or password.", code="bad_login")
        token = new_token()
        principal = {k: account.get(k) for k in ("role", "site", "counters")}
        principal["name"] = username
        await accounts.put_session(digest(token), principal, self.session_ttl_s)
        # An account changed or removed meanwhile ended the sessions it knew of; this one
        # may have come too late for that, so it checks for itself.
        if await accounts.user(username) != account:
            await accounts.drop_session(digest(token))
            raise Unauthorized("The account changed meanwhile; log in again.", code="bad_login")
        await accounts.forgive_login(username, window)
        await accounts.forgive_login_from(address, address_window)
        return token, _principal(principal, digest(token))

    async def logout(self, token: str) -> None:
        await self.store.accounts.drop_session(digest(token))
        self.forget(token)


async def verify_password(
    hashed: str, password: str, limit: asyncio.Semaphore | None = None
) -> bool:
    """argon2 in a thread (it takes ~0.1 s of CPU): the event loop keeps serving."""
    async with limit or contextlib.nullcontext():
        try:
            return await asyncio.to_thread(_hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            return False


async def create_token(
    store: Store, role: str, site: str | None, name: str, counters: Iterable[str] = ()
) -> str:
    check_role(role, site)
    token = new_token()
    await store.accounts.put_token(
        digest(token),
        {
            "role": role,
            "site": site,
            "name": name,
            "counters": list(counters),
            "created_at": _now_iso(),
        },
    )
    return token


@dataclass(frozen=True)
class TokenInfo:
    """What listing shows of a device or script token (never the token)."""

    id: str  # the last 4 characters of the token's digest
    name: str
    role: str
    site: str | None
    created_at: str | None  # None for tokens made before it was kept
    digest: str = field(repr=False)
    last_used_at: str | None = None  # to the minute (auth.TOKEN_USE_EVERY_S)


async def list_tokens(store: Store, site: str | None = None) -> list[TokenInfo]:
    """Device and script tokens (of `site`, when given), by site, name and age."""
    used = await store.accounts.tokens_used()
    found = [
        TokenInfo(
            id=d[-4:],
            name=data.get("name", ""),
            role=data["role"],
            site=data.get("site"),
            created_at=data.get("created_at"),
            digest=d,
            last_used_at=used.get(d),
        )
        for d, data in await store.accounts.tokens()
        if site is None or data.get("site") == site
    ]
    return sorted(found, key=lambda t: (t.site or "", t.name, t.created_at or "", t.id))


async def find_tokens(
    store: Store, name_or_token: str, site: str | None = None, token_id: str | None = None
) -> list[TokenInfo]:
    """The token itself when `name_or_token` is one, else the tokens with that device
    name (narrowed to a site and an id when given)."""
    d = digest(name_or_token)
    return [
        t
        for t in await list_tokens(store, site)
        if (t.digest == d or t.name == name_or_token) and token_id in (None, t.id)
    ]


async def revoke_token(store: Store, token: TokenInfo) -> bool:
    """Revoked in the store at once; every process refuses it within its cache_s."""
    return await store.accounts.revoke_token(token.digest)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


async def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    site: str | None,
    counters: Iterable[str] = (),
) -> None:
    if not domain.is_slug(username):
        raise InvalidField("username", "must be a slug (a-z, 0-9, '-')")
    if len(password) < 8:
        raise InvalidField("password", "must have at least 8 characters")
    check_role(role, site)
    account = {"role": role, "site": site, "counters": list(counters)}
    old = await store.accounts.user(username)
    account["password"] = await asyncio.to_thread(hash_password, password)
    await store.accounts.put_user(username, account)
    if old is not None and (
        any(old.get(k) != account[k] for k in ("role", "site", "counters"))
        or not await verify_password(old["password"], password)
    ):
        await store.accounts.end_sessions(username)


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    site: str | None
    counters: tuple[str, ...]


async def list_users(store: Store) -> list[UserInfo]:
    """Every account, by name (no password hashes)."""
    return [
        UserInfo(n, a["role"], a.get("site"), tuple(a.get("counters") or ()))
        for n, a in await store.accounts.users()
    ]


async def change_user(
    store: Store,
    username: str,
    *,
    role: str | None = None,
    site: str | None = None,
    counters: Iterable[str] | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Change an existing account (what is given); ends its sessions when its role,
    site or counters change or its password is reset. The account before the change."""
    old = await store.accounts.user(username)
    if old is None:
        raise NotFound(f"No account named {username!r}.")
    account = dict(old)
    if role is not None:
        account["role"] = role
        account["site"] = site
    if counters is not None:
        account["counters"] = list(counters)
    check_role(account["role"], account.get("site"))
    if password is not None:
        if len(password) < 8:
            raise InvalidField("password", "must have at least 8 characters")
        account["password"] = await asyncio.to_thread(hash_password, password)
    if account != old:
        await store.accounts.put_user(username, account)
        await store.accounts.end_sessions(username)
    return old


async def remove_user(store: Store, username: str) -> bool:
    """Delete an account and end its sessions; False when there is none."""
    return await store.accounts.remove_user(username)


def check_role(role: str, site: str | None) -> None:
    """A role and a site that go together: site roles need one, evaluators none."""
    if role not in ROLES:
        raise InvalidField("role", f"must be one of {', '.join(ROLES)}")
    if role not in GLOBAL_ROLES and not site:
        raise InvalidField("site", f"a {role} belongs to a site")
    if role == "evaluator" and site:
        raise InvalidField("site", "an evaluator reads every site: give no site")
    if role == "metrics" and site:
        raise InvalidField("site", "a metrics token covers the whole installation: give no site")


def sees_ids(principal: Principal | None, site: str) -> bool:
    return principal is not None and principal.sees_ids(site)


def require(principal: Principal | None, roles: Iterable[str], site: str) -> Principal:
    """401 without a credential, 403 with one of the wrong role or another site."""
    if principal is None:
        raise Unauthorized("This needs a credential.")
    if not principal.may(roles, site):
        raise Forbidden("Your credential may not do this here.")
    return principal


def require_counter(principal: Principal | None, site: str, counter: str) -> Principal:
    """Officers act only at their own counters; supervisors and admins anywhere."""
    p = require(principal, ("supervisor", "officer"), site)
    if p.role == "officer" and counter not in p.counters:
        raise Forbidden("You are not assigned to this counter.", code="not_your_counter")
    return p
