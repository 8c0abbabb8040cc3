"""HTTP routes of administration (spec section 7): a site's whole configuration with its
version, new sites, a service's open flag, accounts, device tokens and the audit log.

Parse, authorize, call the store and auth, write an audit entry, answer. The rules of
a configuration are config.parse's (the same as `loket config load`); the version
check is in lua/config_load.lua, atomic with the write.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import auth, config, domain, schemas
from .api import Json, _auth, _json_object, audited, body_of, by_method, list_sites, principal_of
from .audit import MAX_LIMIT
from .auth import Principal, TokenInfo, UserInfo, require
from .errors import (
    ConfigError,
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    Unprocessable,
)
from .store import Store

CONFIG_MAX_BYTES = 1024 * 1024  # a configuration document (a big MPP is ~40 KiB)
IF_MATCH = re.compile(r'(?:W/)?"?(\d{1,18})"?')
TOKEN_ID = re.compile(r"[0-9a-f]{12}")
RETRIES = 3  # a service's open flag, when another change lands in between


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _principal(p: Principal | None) -> Principal:
    if p is None:
        raise Unauthorized("This needs a credential.")
    return p


async def _audit(
    request: Request,
    site: str | None,
    who: Principal,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await audited(request, site, who, action, target, detail)


# -- configuration ----------------------------------------------------------------------


async def _document(request: Request) -> dict[str, Any]:
    """A configuration document (JSON in the TOML schema), larger than other bodies;
    its `version` field, if any, is dropped (If-Match says which version it replaces)."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > CONFIG_MAX_BYTES:
            raise PayloadTooLarge(f"The configuration is larger than {CONFIG_MAX_BYTES} bytes.")
    doc = _json_object(raw)
    doc.pop("version", None)
    return doc


def _parse(doc: dict[str, Any], site_id: str | None = None) -> config.Site:
    """config.parse, its ConfigError (422 invalid_config, naming entry and field) as is;
    with `site_id`, `[site] id` must be it or absent."""
    head = doc.get("site")
    if site_id is not None and isinstance(head, dict):
        given = head.setdefault("id", site_id)
        if given != site_id:
            raise ConfigError(f'config: site: id: must be "{site_id}", the site of the address')
    return config.parse(doc, "config")


def _with_version(site: config.Site, version: int) -> dict[str, Any]:
    return {**site.to_dict(), "version": version}


def _versioned(site: config.Site, version: int, status: int = 200) -> Response:
    return Json(_with_version(site, version), status_code=status, headers={"ETag": f'"{version}"'})


async def get_config(request: Request) -> Response:
    p = await principal_of(request)
    site_id = request.path_params["site"]
    require(p, ("supervisor",), site_id)
    site, version = await _store(request).stored_config(site_id)
    return _versioned(site, version)


def _if_match(request: Request) -> int:
    raw = request.headers.get("if-match")
    if raw is None:
        raise PreconditionRequired(
            "Send If-Match with the version you read (GET .../config answers it), so "
            "that a change made meanwhile is not overwritten."
        )
    m = IF_MATCH.fullmatch(raw.strip())
    if m is None:
        raise InvalidField("If-Match", "must be the configuration's version, e.g. 7")
    return int(m[1])


async def put_config(request: Request) -> Response:
    p = await principal_of(request)
    site_id = request.path_params["site"]
    who = require(p, (), site_id)  # admins only
    store = _store(request)
    old, _ = await store.stored_config(site_id)  # 404 for an unknown site
    expect = _if_match(request)
    site = _parse(await _document(request), site_id)
    version = await store.load_config(site, expect=expect)
    await _audit(request, site.id, who, "config.replace", site.id, config.diff(old, site))
    return _versioned(site, version)


async def create_site(request: Request) -> Response:
    who = _principal(await principal_of(request))
    if who.role != "admin":
        raise Forbidden("Only an administrator creates sites.")
    site = _parse(await _document(request))
    store = _store(request)
    try:
        version = await store.load_config(site, expect=0)
    except Conflict as exc:
        if exc.code == "site_exists":
            raise Conflict(f"A site {site.id!r} exists already.", code="site_exists") from None
        raise
    await _audit(request, site.id, who, "site.create", site.id, config.diff(None, site))
    return _versioned(site, version, status=201)


async def patch_service(request: Request) -> Response:
    """A service's open flag (admin, or a supervisor of the site): the stored
    configuration with that one flag changed, loaded at its version."""
    p = await principal_of(request)
    site_id, service_id = request.path_params["site"], request.path_params["service"]
    who = require(p, ("supervisor",), site_id)
    body = await body_of(request, schemas.ServiceOpen)
    store = _store(request)
    for _ in range(RETRIES):
        site, version = await store.stored_config(site_id)
        service = site.service_by_id.get(service_id)
        if service is None:
            raise NotFound(f"Unknown service {service_id!r} at {site_id}.")
        if service.open == body["open"]:
            return Json({"service": _service_view(site, service_id), "version": version})
        doc = site.to_dict()
        for entry in doc["services"]:
            if entry["id"] == service_id:
                entry["open"] = body["open"]
        new = config.parse(doc, "config")
        try:
            version = await store.load_config(new, expect=version)
        except PreconditionFailed:
            continue
        action = "service.open" if body["open"] else "service.close"
        await _audit(request, site_id, who, action, service_id, {"open": body["open"]})
        return Json({"service": _service_view(new, service_id), "version": version})
    raise Conflict("The configuration keeps changing; try again.", code="busy")


def _service_view(site: config.Site, service_id: str) -> dict[str, Any]:
    return next(s for s in site.to_dict()["services"] if s["id"] == service_id)


# -- accounts -----------------------------------------------------------------------------


def _user_view(u: UserInfo) -> dict[str, Any]:
    return {"name": u.name, "role": u.role, "site": u.site, "counters": list(u.counters)}


def _account_manager(p: Principal | None) -> Principal:
    """A caller who may manage some accounts: checked before any account is looked up,
    so that nobody else learns which names exist."""
    who = _principal(p)
    if who.role not in ("admin", "supervisor"):
        raise Forbidden("Only administrators and supervisors manage accounts.")
    return who


def _may_manage(who: Principal, role: str, site: str | None) -> None:
    """Admins manage every account; a supervisor only officers of its own site."""
    if who.role == "admin":
        return
    if who.role != "supervisor":
        raise Forbidden("Only administrators and supervisors manage accounts.")
    if role != "officer" or site != who.site:
        raise Forbidden(
            "A supervisor manages only officer accounts of its own site.", code="not_your_account"
        )


async def _check_place(store: Store, site_id: str | None, counters: list[str]) -> None:
    """The site and counters of an account exist (422 naming the field otherwise)."""
    if site_id is None:
        if counters:
            raise Unprocessable("counters: only an account of a site has counters")
        return
    try:
        site = await store.site(site_id)
    except NotFound:
        raise Unprocessable(f"site: unknown site {site_id!r}", code="unknown_site") from None
    for c in counters:
        if c not in site.counter_by_id:
            raise Unprocessable(
                f"counters: unknown counter {c!r} at {site_id}", code="unknown_counter"
            )


def _counters(body: dict[str, Any]) -> list[str] | None:
    counters = body.get("counters")
    if counters is None:
        return None
    if not all(domain.is_slug(c) for c in counters) or len(set(counters)) != len(counters):
        raise InvalidField("counters", "must be distinct counter ids")
    return list(counters)


async def _account(store: Store, name: str) -> UserInfo:
    for u in await auth.list_users(store):
        if u.name == name:
            return u
    raise NotFound(f"No account named {name!r}.")


async def list_users(request: Request) -> Response:
    who = _principal(await principal_of(request))
    if who.role not in ("admin", "supervisor"):
        raise Forbidden("Only administrators and supervisors read accounts.")
    users = [
        u
        for u in await auth.list_users(_store(request))
        if who.role == "admin" or u.site == who.site
    ]
    return Json({"users": [_user_view(u) for u in users]})


async def create_user(request: Request) -> Response:
    who = _principal(await principal_of(request))
    body = await body_of(request, schemas.NewUser)
    name, role, site_id = body["name"], body["role"], body.get("site")
    counters = _counters(body) or []
    _may_manage(who, role, site_id)
    if not domain.is_slug(name):
        raise InvalidField("name", "must be a slug (a-z, 0-9, '-'), at most 48 characters")
    auth.check_role(role, site_id)
    store = _store(request)
    await _check_place(store, site_id, counters)
    if await store.accounts.user(name) is not None:
        raise Conflict(f"An account named {name!r} exists already.", code="user_exists")
    await auth.create_user(store, name, body["password"], role, site_id, counters)
    user = UserInfo(name, role, site_id, tuple(counters))
    await _audit(request, site_id, who, "user.create", name, _user_view(user))
    return Json({"user": _user_view(user)}, status_code=201)


async def change_user(request: Request) -> Response:
    """Role, site or counters of an account (its sessions end)."""
    who = _account_manager(await principal_of(request))
    name = request.path_params["name"]
    body = await body_of(request, schemas.UserChange)
    store = _store(request)
    old = await _account(store, name)
    _may_manage(who, old.role, old.site)
    role = body.get("role", old.role)
    site_id = body.get("site", old.site)
    counters = _counters(body)
    _may_manage(who, role, site_id)
    auth.check_role(role, site_id)
    await _check_place(store, site_id, counters if counters is not None else list(old.counters))
    await auth.change_user(store, name, role=role, site=site_id, counters=counters)
    new = await _account(store, name)
    detail = {
        k: [a, b]
        for k, a, b in (
            ("role", old.role, new.role),
            ("site", old.site, new.site),
            ("counters", list(old.counters), list(new.counters)),
        )
        if a != b
    }
    for place in {old.site, new.site}:
        await _audit(request, place, who, "user.change", name, detail)
    return Json({"user": _user_view(new)})


async def reset_password(request: Request) -> Response:
    who = _account_manager(await principal_of(request))
    name = request.path_params["name"]
    body = await body_of(request, schemas.Password)
    store = _store(request)
    user = await _account(store, name)
    _may_manage(who, user.role, user.site)
    await auth.change_user(store, name, password=body["password"])
    await _audit(request, user.site, who, "user.password", name)
    return Json({"user": _user_view(user)})


async def remove_user(request: Request) -> Response:
    who = _account_manager(await principal_of(request))
    name = request.path_params["name"]
    store = _store(request)
    user = await _account(store, name)
    _may_manage(who, user.role, user.site)
    await auth.remove_user(store, name)
    await _audit(request, user.site, who, "user.remove", name, _user_view(user))
    return Json({"removed": name})


# -- device and script tokens -------------------------------------------------------------


def token_id(t: TokenInfo) -> str:
    """The id of a token in the API: the end of its digest (the CLI's shorter id is
    its last 4 characters)."""
    return t.digest[-12:]


def _token_view(t: TokenInfo) -> dict[str, Any]:
    return {
        "id": token_id(t),
        "name": t.name,
        "role": t.role,
        "site": t.site,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
    }


def _admin(p: Principal | None) -> Principal:
    who = _principal(p)
    if who.role != "admin":
        raise Forbidden("Only an administrator manages device tokens.")
    return who


async def list_tokens(request: Request) -> Response:
    _admin(await principal_of(request))
    site_id = request.query_params.get("site") or None
    tokens = await auth.list_tokens(_store(request), site_id)
    return Json({"tokens": [_token_view(t) for t in tokens]})


async def create_token(request: Request) -> Response:
    who = _admin(await principal_of(request))
    body = await body_of(request, schemas.NewToken)
    name = body["name"].strip()
    if not 1 <= len(name) <= 60:
        raise InvalidField("name", "must be 1-60 characters")
    role, site_id = body["role"], body.get("site")
    counters = _counters(body) or []
    auth.check_role(role, site_id)
    store = _store(request)
    await _check_place(store, site_id, counters)
    token = await auth.create_token(store, role, site_id, name, counters)
    info = next(t for t in await auth.list_tokens(store, site_id) if t.digest == auth.digest(token))
    view = _token_view(info)
    await _audit(
        request, site_id, who, "token.create", f"token:{view['id']} {name}", {"role": role}
    )
    return Json({**view, "token": token}, status_code=201)


async def revoke_token(request: Request) -> Response:
    """Revoked in the store now and in this process's cache; other processes refuse it
    within their cache time (5 s) and close its open websockets at their re-check."""
    who = _admin(await principal_of(request))
    wanted = request.path_params["id"]
    if TOKEN_ID.fullmatch(wanted) is None:
        raise NotFound("No such token.")
    store = _store(request)
    found = [t for t in await auth.list_tokens(store) if token_id(t) == wanted]
    if not found:
        raise NotFound("No such token.")
    t = found[0]
    await auth.revoke_token(store, t)
    _auth(request).forget_digest(t.digest)
    await _audit(request, t.site, who, "token.revoke", f"token:{wanted} {t.name}", {"role": t.role})
    return Json({"revoked": _token_view(t)})


# -- audit --------------------------------------------------------------------------------


async def get_audit(request: Request) -> Response:
    """A site's audit log (admin; a supervisor its own site), or without `site` the log
    of changes that belong to no site (admin), newest first."""
    who = _principal(await principal_of(request))
    q = request.query_params
    site_id = q.get("site") or (who.site if who.role == "supervisor" else None)
    raw_limit = q.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidField("limit", f"must be from 1 to {MAX_LIMIT}")
    if site_id is None:
        if who.role != "admin":
            raise Forbidden("Only an administrator reads the installation's audit log.")
    else:
        require(who, ("supervisor",), site_id)
        await _store(request).site(site_id)  # 404 for an unknown site
    entries = await _store(request).audit.entries(site_id, int(raw_limit))
    return Json({"site": site_id, "entries": entries})


def routes() -> list[BaseRoute]:
    site = "/api/v1/sites/{site}"
    return [
        by_method("/api/v1/sites", get=list_sites, post=create_site),
        by_method(f"{site}/config", get=get_config, put=put_config),
        Route(f"{site}/services/{{service}}", patch_service, methods=["PATCH"]),
        by_method("/api/v1/users", get=list_users, post=create_user),
        by_method("/api/v1/users/{name}", patch=change_user, delete=remove_user),
        Route("/api/v1/users/{name}/password", reset_password, methods=["POST"]),
        by_method("/api/v1/tokens", get=list_tokens, post=create_token),
        Route("/api/v1/tokens/{id}", revoke_token, methods=["DELETE"]),
        Route("/api/v1/audit", get_audit, methods=["GET"]),
    ]
