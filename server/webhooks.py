"""Webhooks (docs/notifications.md): the admin API, and the worker that delivers events.

Every matching event is POSTed as JSON with `X-Loket-Event`, `X-Loket-Delivery` (the
same on every retry) and `X-Loket-Signature: sha256=HEX` (HMAC-SHA256 of the body with
the webhook's secret). Delivery is at least once, from a durable queue in the store:

- the **dispatcher** reads the sites' event logs and turns events into deliveries, in
  one step with a cursor per site (lua/webhook_enqueue.lua), so that several processes
  reading the same events enqueue each once; it also works out `ticket.near` (a
  ticket's position reached the site's `notify_when_position`), once per ticket;
- the **sender** takes deliveries from a stream with a consumer group (`senders`): the
  processes share the work, and a delivery a process took and never finished (it
  died) is claimed by another after `webhook_claim_idle_s` (XAUTOCLAIM); a process that
  stops hands back what it holds as retries due now (lua/webhook_release.lua);
- a failed attempt goes to a sorted set, due after an exponential backoff, and is
  moved back into the stream when due (lua/webhook_due.lua); after
  `webhook_give_up_s` (24 h) it is dropped. Every attempt is logged per webhook.

Bodies never carry ticket ids: events as the public sees them (`domain.event_view`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import domain, keys, schemas
from .api import Json, body_of, by_method, principal_of
from .config import Site
from .errors import Forbidden, InvalidField, NotFound, Unauthorized
from .fanout import affected_services
from .settings import Settings
from .store import FAILURES, Store

log = logging.getLogger("loket.webhooks")

NEAR = "ticket.near"
EVENT_TYPES = (*domain.EVENT_TYPES, NEAR)
GROUP = "senders"
LOG_LEN = 100  # attempts kept per webhook
MAX_WEBHOOKS = 100
LUA_DIR = Path(__file__).parent / "lua"
WEBHOOK_ID_LEN = 16


def sign(secret: str, body: bytes) -> str:
    """The `X-Loket-Signature` of a body: `sha256=` + HMAC-SHA256 hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _ms() -> int:
    return int(time.time() * 1000)


# -- storage ------------------------------------------------------------------------------


class Webhooks:
    """The webhooks and their delivery logs in the store (keys.webhooks and friends)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.redis: Any = store.redis

    async def create(self, url: str, events: list[str], site: str | None) -> dict[str, Any]:
        if await self.redis.hlen(keys.webhooks()) >= MAX_WEBHOOKS:
            raise InvalidField("url", f"at most {MAX_WEBHOOKS} webhooks")
        sites = [site] if site else await self.store.site_ids()
        heads = [await self.store.log.last_seq(s) for s in sites]
        hook = {
            "id": secrets.token_hex(WEBHOOK_ID_LEN // 2),
            "url": url,
            "events": events,
            "site": site,
            "secret": "whsec_" + secrets.token_urlsafe(32),
            "created_at": _now_iso(),
            # events up to these seqs happened before the webhook existed
            "from": dict(zip(sites, heads, strict=True)),
        }
        await self.redis.hset(keys.webhooks(), hook["id"], json.dumps(hook))
        return hook

    async def all(self) -> list[dict[str, Any]]:
        raw = await self.redis.hgetall(keys.webhooks())
        return sorted((json.loads(v) for v in raw.values()), key=lambda h: h["created_at"])

    async def get(self, hook_id: str) -> dict[str, Any]:
        raw = await self.redis.hget(keys.webhooks(), hook_id) if hook_id.isalnum() else None
        if raw is None:
            raise NotFound("No such webhook.")
        hook: dict[str, Any] = json.loads(raw)
        return hook

    async def delete(self, hook_id: str) -> None:
        await self.get(hook_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(keys.webhooks(), hook_id)
        pipe.delete(keys.webhook_log(hook_id))
        await pipe.execute()

    async def deliveries(self, hook_id: str, limit: int = LOG_LEN) -> list[dict[str, Any]]:
        await self.get(hook_id)
        rows = await self.redis.lrange(keys.webhook_log(hook_id), 0, limit - 1)
        return [json.loads(r) for r in rows]

    async def record(self, hook_id: str, entry: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(keys.webhook_log(hook_id), json.dumps(entry))
        pipe.ltrim(keys.webhook_log(hook_id), 0, LOG_LEN - 1)
        await pipe.execute()


def public(hook: dict[str, Any]) -> dict[str, Any]:
    """A webhook as listed: everything but its secret."""
    return {k: hook[k] for k in ("id", "url", "events", "site", "created_at")}


def wants(hook: dict[str, Any], site_id: str, event_type: str) -> bool:
    return (hook["site"] in (None, site_id)) and (
        "*" in hook["events"] or event_type in hook["events"]
    )


# -- the worker ---------------------------------------------------------------------------


class Worker:
    def __init__(self, hooks: Webhooks, settings: Settings) -> None:
        self.hooks = hooks
        self.store = hooks.store
        self.redis: Any = hooks.redis
        self.settings = settings
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self.client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        )
        self.enqueue = self.redis.register_script((LUA_DIR / "webhook_enqueue.lua").read_text())
        self.due = self.redis.register_script((LUA_DIR / "webhook_due.lua").read_text())
        self.release = self.redis.register_script((LUA_DIR / "webhook_release.lua").read_text())
        self._hooks: dict[str, dict[str, Any]] = {}
        self._group_ready = False
        self.poll_s = max(0.05, min(1.0, settings.webhook_backoff_s / 4))

    def start(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._forever(self._dispatch, "dispatcher")),
            asyncio.create_task(self._forever(self._send, "sender")),
            asyncio.create_task(self._forever(self._move_due, "retries")),
            asyncio.create_task(self._forever(self._claim, "claims")),
        ]

    async def close(self) -> None:
        """After the tasks stopped: hand back the deliveries this process still holds (a
        stop cut their attempt off) as retries due now, so that the next process sends
        them at once, not once they have been idle `webhook_claim_idle_s` (delivered at
        least once: one cut off after its POST may arrive twice, with one delivery id)."""
        if self._group_ready:
            try:
                await self.release(
                    keys=[keys.webhook_queue(), keys.webhook_retry()],
                    args=[GROUP, self.consumer, _ms()],
                )
            except FAILURES as exc:  # the store is gone: another process claims them later
                log.warning("webhook sender: could not hand back its deliveries: %s", exc)
        await self.client.aclose()

    async def _forever(self, step: Any, name: str) -> None:
        """Run one step after the other; a failing store is waited out, not fatal."""
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except FAILURES as exc:
                log.warning("webhook %s: %s", name, exc)
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("webhook %s failed", name)
                await asyncio.sleep(1.0)

    async def _refresh(self) -> list[dict[str, Any]]:
        hooks = await self.hooks.all()
        self._hooks = {h["id"]: h for h in hooks}
        return hooks

    # -- events into deliveries ----------------------------------------------------------

    async def _dispatch(self) -> None:
        hooks = await self._refresh()
        if not hooks:
            await asyncio.sleep(1.0)
            return
        wanted_sites = {h["site"] for h in hooks}
        site_ids = [
            s for s in await self.store.site_ids() if None in wanted_sites or s in wanted_sites
        ]
        if not site_ids:
            await asyncio.sleep(1.0)
            return
        cursors = await self._cursors(site_ids, hooks)
        after = {s: f"{cursors[s]}-0" for s in site_ids}
        if self.settings.redis_cluster:  # one slot per site: one read per site
            rows = []
            for s in site_ids:
                rows += await self.store.log.read_events([s], after, block_ms=None)  # type: ignore[arg-type]
            if not rows:
                await asyncio.sleep(0.5)
        else:
            rows = await self.store.log.read_events(site_ids, after, block_ms=1000, count=200)
        by_site: dict[str, list[dict[str, Any]]] = {}
        for site_id, _, raw in rows:
            by_site.setdefault(site_id, []).append(json.loads(raw))
        for site_id, events in by_site.items():
            await self._offer(site_id, cursors[site_id], events, hooks)

    async def _cursors(self, site_ids: list[str], hooks: list[dict[str, Any]]) -> dict[str, int]:
        """Each site's cursor; a new one starts where the oldest webhook of the site
        started, and one past the log's head (the log started over) goes back to it."""
        pipe = self.redis.pipeline(transaction=False)
        for site_id in site_ids:
            pipe.get(keys.webhook_cursor(site_id))
            pipe.get(keys.seq(site_id))
        raw = await pipe.execute()
        out = {}
        for i, site_id in enumerate(site_ids):
            value, head = raw[2 * i], int(raw[2 * i + 1] or 0)
            if value is None or int(value) > head:
                start = min(int(h.get("from", {}).get(site_id, 0)) for h in hooks)
                out[site_id] = min(start, head)
                await self.redis.set(keys.webhook_cursor(site_id), out[site_id], nx=value is None)
            else:
                out[site_id] = int(value)
        return out

    async def _offer(
        self, site_id: str, cursor: int, events: list[dict[str, Any]], hooks: list[dict[str, Any]]
    ) -> None:
        deliveries = []
        for event in events:
            body: str | None = None
            for hook in hooks:
                if not wants(hook, site_id, event["type"]):
                    continue
                if event["seq"] <= int(hook.get("from", {}).get(site_id, 0)):
                    continue
                if body is None:
                    view = domain.event_view(event, with_id=False)
                    body = json.dumps(view, ensure_ascii=False, separators=(",", ":"))
                deliveries.append(_delivery(hook["id"], event["type"], body))
        near = await self._near(site_id, events, hooks)
        args: list[Any] = [str(cursor), str(events[-1]["seq"]), len(deliveries)]
        args += [json.dumps(d) for d in deliveries]
        for ticket_id, items in near:
            args += [ticket_id, json.dumps(items)]
        day = events[-1]["at"][:10]
        await self.enqueue(
            keys=[
                keys.webhook_cursor(site_id),
                keys.webhook_queue(),
                keys.webhook_near(site_id, day),
            ],
            args=args,
        )

    async def _near(
        self, site_id: str, events: list[dict[str, Any]], hooks: list[dict[str, Any]]
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        """ticket.near deliveries for the tickets now within `notify_when_position` of
        their queue's head, in the queues these events moved (once per ticket: the
        enqueue script keeps the ones already sent out)."""
        listening = [h for h in hooks if wants(h, site_id, NEAR)]
        if not listening:
            return []
        site: Site = await self.store.site(site_id)
        limit = site.notify_when_position
        if limit is None:
            return []
        services = sorted({s for e in events for s in affected_services(site, e)})
        services = [s for s in services if s in site.service_by_id]
        if not services:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for s in services:
            pipe.zrange(keys.queue(site_id, s), 0, limit - 1)
        heads = [[m.decode() for m in ids] for ids in await pipe.execute()]
        ids = [i for group in heads for i in group]
        if not ids:
            return []
        raws = await self.redis.hmget(keys.tickets(site_id), ids)
        tickets = {i: json.loads(r) for i, r in zip(ids, raws, strict=True) if r}
        phones = await self._phones(site_id, tickets.values())
        at = domain.local_iso(self.store.clock(), site.timezone)
        out = []
        for group in heads:
            for position, ticket_id in enumerate(group, 1):
                ticket = tickets.get(ticket_id)
                if ticket is None or ticket["status"] != domain.WAITING:
                    continue
                event: dict[str, Any] = {
                    "type": NEAR,
                    "site": site_id,
                    "at": at,
                    "ticket": domain.ticket_view(ticket, with_id=False),
                    "position": position,
                }
                phone = phones.get(ticket_id)
                if phone:
                    event["phone"] = phone
                body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                out.append((ticket_id, [_delivery(h["id"], NEAR, body) for h in listening]))
        return out

    async def _phones(self, site_id: str, tickets: Iterable[dict[str, Any]]) -> dict[str, str]:
        """The phone numbers booked visitors gave, for their tickets (the gateway that
        sends "your turn is near" needs one)."""
        booked = {t["id"]: t["_booking"] for t in tickets if t.get("_booking")}
        if not booked:
            return {}
        raws = await self.redis.hmget(keys.bookings(site_id), list(booked.values()))
        out = {}
        for ticket_id, raw in zip(booked, raws, strict=True):
            phone = json.loads(raw).get("phone") if raw else None
            if phone:
                out[ticket_id] = phone
        return out

    # -- sending -------------------------------------------------------------------------

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.redis.xgroup_create(keys.webhook_queue(), GROUP, id="0", mkstream=True)
        except Exception as exc:  # BUSYGROUP: it exists
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _send(self) -> None:
        await self._ensure_group()
        reply = await self.redis.xreadgroup(
            GROUP, self.consumer, {keys.webhook_queue(): ">"}, count=20, block=1000
        )
        entries = [(eid, fields) for _, rows in reply or [] for eid, fields in rows]
        if entries:
            await self._attempt_all(entries)

    async def _claim(self) -> None:
        """Take over deliveries another process took and never finished (it died)."""
        await asyncio.sleep(max(0.5, self.settings.webhook_claim_idle_s / 2))
        await self._ensure_group()
        idle_ms = int(self.settings.webhook_claim_idle_s * 1000)
        reply = await self.redis.xautoclaim(
            keys.webhook_queue(), GROUP, self.consumer, idle_ms, start_id="0-0", count=50
        )
        entries = [(eid, fields) for eid, fields in reply[1] if fields]
        if entries:
            await self._attempt_all(entries)

    async def _attempt_all(self, entries: list[tuple[Any, dict[bytes, bytes]]]) -> None:
        await asyncio.gather(*(self._attempt(eid, json.loads(f[b"d"])) for eid, f in entries))

    async def _move_due(self) -> None:
        await asyncio.sleep(self.poll_s)
        await self.due(keys=[keys.webhook_retry(), keys.webhook_queue()], args=[_ms(), 100])

    async def _attempt(self, entry_id: Any, d: dict[str, Any]) -> None:
        hook = self._hooks.get(d["webhook"])
        if hook is None:
            hook = await self._lookup(d["webhook"])
        if hook is None:  # deleted meanwhile
            await self._done(entry_id)
            return
        body = d["body"].encode()
        attempt = int(d.get("attempt", 0)) + 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Loket-Webhooks/1",
            "X-Loket-Event": d["event"],
            "X-Loket-Delivery": d["delivery"],
            "X-Loket-Signature": sign(hook["secret"], body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = await self.client.post(hook["url"], content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        entry = {
            "delivery": d["delivery"],
            "event": d["event"],
            "attempt": attempt,
            "at": _now_iso(),
            "status": status,
            "ok": error is None,
            "error": error,
            "ms": round((time.monotonic() - started) * 1000),
        }
        if error is None:
            await self._done(entry_id)
        elif _ms() - int(d["first_ms"]) >= self.settings.webhook_give_up_s * 1000:
            entry["gave_up"] = True
            await self._done(entry_id)
        else:
            delay = min(
                self.settings.webhook_backoff_s * 2 ** (attempt - 1),
                self.settings.webhook_backoff_max_s,
            )
            retry = {**d, "attempt": attempt}
            pipe = self.redis.pipeline(transaction=True)
            pipe.zadd(keys.webhook_retry(), {json.dumps(retry): _ms() + int(delay * 1000)})
            pipe.xack(keys.webhook_queue(), GROUP, entry_id)
            pipe.xdel(keys.webhook_queue(), entry_id)
            await pipe.execute()
            entry["retry_in_s"] = delay
        await self.hooks.record(hook["id"], entry)

    async def _lookup(self, hook_id: str) -> dict[str, Any] | None:
        with contextlib.suppress(NotFound):
            hook = await self.hooks.get(hook_id)
            self._hooks[hook_id] = hook
            return hook
        return None

    async def _done(self, entry_id: Any) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(keys.webhook_queue(), GROUP, entry_id)
        pipe.xdel(keys.webhook_queue(), entry_id)
        await pipe.execute()


def _delivery(hook_id: str, event_type: str, body: str) -> dict[str, Any]:
    return {
        "delivery": secrets.token_hex(12),
        "webhook": hook_id,
        "event": event_type,
        "body": body,
        "attempt": 0,
        "first_ms": _ms(),
    }


# -- the admin API ------------------------------------------------------------------------


def _hooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


async def _admin(request: Request) -> None:
    principal = await principal_of(request)
    if principal is None:
        raise Unauthorized("This needs a credential.")
    if principal.role != "admin":
        raise Forbidden("Only administrators manage webhooks.")


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(raw) > 2000:
        raise InvalidField("url", "must be an http(s) address")
    if parts.username or parts.password:
        raise InvalidField("url", "must not carry a user name or password")
    return raw


async def create_webhook(request: Request) -> Response:
    await _admin(request)
    body = await body_of(request, schemas.NewWebhook)
    events = body["events"]
    if not events or not all(isinstance(e, str) for e in events):
        raise InvalidField("events", 'must list event types (or "*" for all)')
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise InvalidField("events", f"unknown event type {unknown[0]!r}")
    site = body.get("site")
    if site is not None:
        await request.app.state.store.site(site)  # 404 if unknown
    hook = await _hooks(request).create(_url(body["url"]), sorted(set(events)), site)
    return Json({"id": hook["id"], "secret": hook["secret"], **public(hook)}, status_code=201)


async def list_webhooks(request: Request) -> Response:
    await _admin(request)
    return Json({"webhooks": [public(h) for h in await _hooks(request).all()]})


async def delete_webhook(request: Request) -> Response:
    await _admin(request)
    await _hooks(request).delete(request.path_params["webhook"])
    return Json({"deleted": True})


async def list_deliveries(request: Request) -> Response:
    await _admin(request)
    rows = await _hooks(request).deliveries(request.path_params["webhook"])
    return Json({"deliveries": rows})


def routes() -> list[BaseRoute]:
    return [
        by_method("/api/v1/webhooks", get=list_webhooks, post=create_webhook),
        Route("/api/v1/webhooks/{webhook}", delete_webhook, methods=["DELETE"]),
        Route("/api/v1/webhooks/{webhook}/deliveries", list_deliveries),
    ]
