"""The ASGI application: `create_app(settings)`, its lifespan and error handling."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import admin, api, bookings, guard, metrics, openapi, realtime, reports, tasks, webhooks
from .auth import Authenticator
from .errors import LoketError, NotFound
from .fanout import Fanout
from .settings import Settings
from .store import FAILURES, STORE_ERRORS, Store, connect, disconnect

log = logging.getLogger("loket")


class PagesBackend:
    """What page handlers may ask the server (docs/contract-pages.md)."""

    def __init__(self, store: Store, auth: Authenticator) -> None:
        self.store = store
        self.auth = auth

    async def site(self, site_id: str) -> dict[str, Any] | None:
        try:
            return (await self.store.site(site_id)).public()
        except NotFound:
            return None

    async def ticket(self, site_id: str, ticket_id: str) -> dict[str, Any] | None:
        try:
            site = await self.store.site(site_id)
            return await self.store.ticket(site, ticket_id)
        except NotFound:
            return None

    async def principal(self, token: str) -> dict[str, Any] | None:
        principal = await self.auth.from_token(token)
        return principal.public() if principal else None


async def _day_ticker(store: Store) -> None:
    """Roll every site's service day soon after local midnight, even with no traffic;
    settle its journal of figures meanwhile (readers settle too: this keeps it short)."""
    while True:
        await asyncio.sleep(30)
        try:
            for site in await store.sites():
                await store.rollover(site)
                await store.rollups.settle(site.id)
        except FAILURES as exc:
            metrics.store_error("ticker", exc)
            log.warning("day rollover check failed: %s", exc)


def error_response(exc: LoketError) -> Response:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message, **exc.details}},
        status_code=exc.status,
    )


async def on_loket_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoketError)
    if exc.status == 503:
        metrics.store_error("request", exc)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return JSONResponse(
        {"error": {"code": codes.get(exc.status_code, "http_error"), "message": exc.detail}},
        status_code=exc.status_code,
        headers=exc.headers,  # a 405 says which methods the path allows (Allow)
    )


async def on_redis_error(request: Request, exc: Exception) -> Response:
    metrics.store_error("request", exc)
    log.warning("storage error: %s", exc)
    return JSONResponse(
        {"error": {"code": "storage_unavailable", "message": "The store is unavailable."}},
        status_code=503,
    )


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """The client left mid-request: nobody reads this answer, and it is no fault."""
    return Response(status_code=400)


async def on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(
        {"error": {"code": "internal_error", "message": "Something went wrong on our side."}},
        status_code=500,
    )


# Pages and answers (spec section 9). No inline scripts or styles anywhere: scripts are
# ES modules under /static, styles are CSS files; media may be clips fetched as blobs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the visitor status page's URL is a secret
]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP answer that does not set them itself. Plain
    ASGI: websockets pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Loket(Starlette):
    """Starlette, with the event websocket routed ahead of the middleware stack: each of
    thousands of open sockets then costs only its own small task (realtime.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            match = realtime.PATH.fullmatch(scope["path"])
            if match is not None:
                await realtime.events_endpoint(self.state.realtime, scope, receive, send, match[1])
                return
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        # outermost, around Starlette's error handling: a crash is counted as a 500
        return metrics.Observe(super().build_middleware_stack(), api.COUNTER_ACTIONS)


def tune_gc(settings: Settings) -> None:
    """Thousands of open sockets are hundreds of thousands of long-lived objects; the
    default collector thresholds make it scan them all every few seconds (a pause of
    a few hundred ms at 5,000 sockets: measured in bench/fanout.py). Collect less often,
    and leave what exists at start (code, configuration) out of every scan."""
    if settings.gc_threshold is not None:
        gc.set_threshold(*settings.gc_threshold)
        gc.freeze()


def create_app(settings: Settings) -> Starlette:
    from counter_client import pages as counter_pages
    from display import pages as display_pages
    from display.staff import pages as staff_pages

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = connect(settings.redis_url, cluster=settings.redis_cluster)
        store = Store(
            redis,
            clock=settings.clock,
            event_log_len=settings.event_log_len,
            retention_days=settings.ticket_retention_days,
            wait_replicas=settings.redis_wait_replicas,
            wait_timeout_ms=settings.redis_wait_timeout_ms,
        )
        auth = Authenticator(
            store,
            settings.admin_token,
            cache_s=settings.credential_cache_s,
            session_ttl_s=settings.session_ttl_s,
        )
        app.state.settings = settings
        app.state.store = store
        app.state.auth = auth
        app.state.pages = PagesBackend(store, auth)
        fanout = Fanout(store, settings.ws_heartbeat_s)
        app.state.fanout = fanout
        app.state.realtime = realtime.Services(store, fanout, auth, settings)
        ticker = asyncio.create_task(_day_ticker(store))
        stop_bookings = bookings.start(app, store, settings)  # expiry, webhook sender
        tune_gc(settings)
        guard.quiet_noisy_logs()
        metrics.forget_dead_processes()
        try:
            yield
        finally:
            await tasks.stop([ticker])
            await stop_bookings()
            await fanout.close()
            await tasks.bounded(disconnect(redis), "the store connection")

    routes = [
        *api.routes(),
        *reports.routes(),
        *admin.routes(),
        *bookings.routes(),
        *webhooks.routes(),
        Route("/api/openapi.json", openapi.endpoint),
        Route("/metrics", metrics.endpoint),
        *display_pages.routes(),
        *counter_pages.routes(),
        *staff_pages.routes(),
    ]
    app = Loket(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            LoketError: on_loket_error,
            HTTPException: on_http_error,
            ClientDisconnect: on_client_gone,
            **dict.fromkeys(STORE_ERRORS, on_redis_error),
            Exception: on_crash,
        },
    )
    return app


def create_app_from_env() -> ASGIApp:
    """Factory for `uvicorn --factory` worker processes started by `loket serve`."""
    return create_app(Settings.from_env())
