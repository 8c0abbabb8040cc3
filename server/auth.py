"""Credentials and roles.

Bearer tokens (admin from the environment; device and script tokens from
`loket token create`; login sessions) and the session/device cookies of pages. A cookie
authenticates a write only with the matching CSRF header (double submit).
"""

from __future__ import annotations

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
from .errors import Forbidden, InvalidField, Unauthorized
from .store import Store

ROLES = ("admin", "supervisor", "officer", "kiosk", "display", "evaluator")
# Roles that see a site's ticket ids (secrets: an id lets its holder cancel and rate).
ID_READERS = frozenset({"supervisor", "officer"})
# Roles that need no site: they read every site of the installation.
GLOBAL_ROLES = frozenset({"admin", "evaluator"})
SESSION_COOKIE = "loket_session"
DEVICE_COOKIE = "loket_device"
CSRF_COOKIE = "loket_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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
    ) -> None:
        self.store = store
        self.admin_token = admin_token
        self.cache_s = cache_s
        self.session_ttl_s = session_ttl_s
        self._cache: dict[str, tuple[Principal | None, float]] = {}

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
        data = await self.store.accounts.token(d) or await self.store.accounts.session(d)
        principal = _principal(data, d) if data else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[d] = (principal, now)
        return principal

    def forget(self, token: str) -> None:
        self._cache.pop(digest(token), None)

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

    async def login(self, username: object, password: object) -> tuple[str, Principal]:
        if not isinstance(username, str) or not username:
            raise InvalidField("username", "must be a non-empty string")
        if not isinstance(password, str) or not password:
            raise InvalidField("password", "must be a non-empty string")
        account = await self.store.accounts.user(username) if len(username) <= 64 else None
        try:
            _hasher.verify(account["password"] if account else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            account = None
        if account is None:
            raise Unauthorized("Wrong username or password.", code="bad_login")
        token = new_token()
        principal = {k: account.get(k) for k in ("role", "site", "counters")}
        principal["name"] = username
        await self.store.accounts.put_session(digest(token), principal, self.session_ttl_s)
        return token, _principal(principal, digest(token))

    async def logout(self, token: str) -> None:
        await self.store.accounts.drop_session(digest(token))
        self.forget(token)


async def create_token(
    store: Store, role: str, site: str | None, name: str, counters: Iterable[str] = ()
) -> str:
    _check_role(role, site)
    token = new_token()
    await store.accounts.put_token(
        digest(token), {"role": role, "site": site, "name": name, "counters": list(counters)}
    )
    return token


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
    _check_role(role, site)
    await store.accounts.put_user(
        username,
        {
            "role": role,
            "site": site,
            "counters": list(counters),
            "password": hash_password(password),
        },
    )


def _check_role(role: str, site: str | None) -> None:
    if role not in ROLES:
        raise InvalidField("role", f"must be one of {', '.join(ROLES)}")
    if role not in GLOBAL_ROLES and not site:
        raise InvalidField("site", f"a {role} belongs to a site")
    if role == "evaluator" and site:
        raise InvalidField("site", "an evaluator reads every site: give no site")


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
