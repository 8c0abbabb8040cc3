"""Prometheus metrics (spec section 9): the metric objects, the request middleware that
counts, times and logs every HTTP request, and `GET /metrics`.

Labels stay bounded: routes by their template (`/api/v1/sites/{site}/tickets/{ticket}`,
never the raw path, which holds ticket ids), status by class (`2xx`), methods from a
fixed set, sites only once the store knows them (fanout.py counts open sockets after a
socket subscribed, so a made-up site in a URL never becomes a label).

One process: the metrics live in its memory. `loket serve --workers N` (cli.py) sets
`PROMETHEUS_MULTIPROC_DIR` to a directory of its own inside the data dir before anything
imports prometheus_client; every worker, and the serve process itself (its store
supervisor counts restarts), then writes its figures to files there, and `/metrics` in
any worker reads them all (prometheus-client's multiprocess mode). Open-socket gauges
add up over live processes only; a worker that starts forgets the files of dead ones.
"""

from __future__ import annotations

import asyncio
import glob
import os
import random
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .errors import Forbidden, LoketError, Unauthorized

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
READERS = frozenset({"admin", "metrics"})  # who may read /metrics

HTTP_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
SEND_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

HTTP_REQUESTS = Counter(
    "loket_http_requests",
    "HTTP requests answered, by method, route template and status class.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "loket_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte, by route template.",
    ["method", "route", "status"],
    buckets=HTTP_BUCKETS_S,
)
COUNTER_ACTION_DURATION = Histogram(
    "loket_counter_action_duration_seconds",
    "API time of a counter action (next, call, recall, ...): the click's side of click-to-screen.",
    ["action"],
    buckets=HTTP_BUCKETS_S,
)
WEBSOCKETS_OPEN = Gauge(
    "loket_websocket_connections",
    "Event websockets open now (subscribed to the fan-out), by site.",
    ["site"],
    multiprocess_mode="livesum",
)
WEBSOCKET_DROPS = Counter(
    "loket_websocket_drops",
    "Event websockets the server cut off, by reason (too_slow, store_lost, revoked, "
    "gone_from_log): the clients reconnect and catch up.",
    ["reason"],
)
EVENTS_PUBLISHED = Counter(
    "loket_events_published",
    "Events the fan-out read from a site's log and sent on to its sockets, by type (each "
    "process with sockets on the site counts each event once).",
    ["type"],
)
EVENT_SEND = Histogram(
    "loket_event_send_seconds",
    "From the fan-out reader receiving an event to its handing to sockets, sampled: once "
    "per event for the sockets written to at once (after the last of them), and every "
    "send of a fifteenth of the sockets for those sent from their buffer (a busy or slow "
    "client): the screens' side of click-to-screen.",
    buckets=SEND_BUCKETS_S,
)
STORE_ERRORS = Counter(
    "loket_store_errors",
    "Store failures met (unreachable, timed out, erroring), by where: request, "
    "websocket, fanout, ticker.",
    ["where"],
)
STORE_RECONNECTS = Counter(
    "loket_store_reconnects",
    "Event-log readers started again after the store was lost under them.",
)
EMBEDDED_RESTARTS = Counter(
    "loket_embedded_store_restarts",
    "Times `loket serve` started its embedded store again after it died.",
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: a 404 (its raw path is never a label)
COUNTER_ACTION_ROUTE = "/api/v1/sites/{site}/counters/{counter}/{action}"
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")


def store_error(where: str, exc: BaseException | None = None) -> None:
    """Count a store failure; the domain's own refusals (a 4xx LoketError) are none."""
    if isinstance(exc, LoketError) and exc.status < 500:
        return
    STORE_ERRORS.labels(where).inc()


def route_template(scope: Scope) -> str:
    """The template of the route that answered (Starlette's router sets `route`)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None)  # without convertors: `{action}`
    if path is None:
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else str(path)


def request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is short and plain, else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            if SANE_REQUEST_ID.fullmatch(value):
                return value.decode()
            break
    return f"{random.getrandbits(64):016x}"  # unique enough, and no system call


class Observe:
    """Plain ASGI: counts and times each HTTP request by route template, writes its one
    access log line (logs.py), and echoes its request id in `X-Request-ID`. It wraps the
    whole app, error handling included (app.Loket), so a 500 is counted as one. The event
    websocket never gets here (app.Loket routes it first): fanout.py counts sockets."""

    def __init__(self, app: ASGIApp, counter_actions: Iterable[str] = ()) -> None:
        self.app = app
        self.action_timers = {a: COUNTER_ACTION_DURATION.labels(a) for a in counter_actions}
        # the metrics' children by label values (a bounded set): labels() costs more
        self.children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        rid = request_id(scope["headers"])
        token = logs.REQUEST_ID.set(rid)
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - began)
            logs.REQUEST_ID.reset(token)

    def _record(self, scope: Scope, status: int, duration_s: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = route_template(scope)
        key = (method, route, f"{status // 100}xx")
        children = self.children.get(key)
        if children is None:
            children = self.children[key] = (HTTP_REQUESTS.labels(*key), HTTP_DURATION.labels(*key))
        children[0].inc()
        children[1].observe(duration_s)
        if route == COUNTER_ACTION_ROUTE:
            timer = self.action_timers.get(scope.get("path_params", {}).get("action"))
            if timer is not None:
                timer.observe(duration_s)
        logs.access(method, route, status, duration_s, scope.get("client"))


def _exposition() -> bytes:
    if MULTIPROCESS_DIR is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def endpoint(request: Request) -> Response:
    """`GET /metrics`: the admin token or a `metrics` token (401 without, 403 others)."""
    auth: Any = request.app.state.auth
    principal = await auth.from_request(request.method, request.headers, lambda: request.cookies)
    if principal is None:
        raise Unauthorized("This needs the admin token or a metrics token.")
    if principal.role not in READERS:
        raise Forbidden("Only the admin token and metrics tokens read the metrics.")
    body = await asyncio.to_thread(_exposition)  # multiprocess: reads every worker's files
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def forget_dead_processes() -> None:
    """A worker that starts drops the open-socket gauges of processes that died (a
    worker killed and started again by uvicorn): they hold no sockets any more."""
    if MULTIPROCESS_DIR is None:
        return
    pids: set[int] = set()
    for path in glob.glob(os.path.join(MULTIPROCESS_DIR, "gauge_live*_*.db")):
        name = os.path.basename(path).rpartition("_")[2].removesuffix(".db")
        if name.isdigit():
            pids.add(int(name))
    for pid in pids:
        if not _alive(pid):
            _multiprocess.mark_process_dead(pid, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]


def remove_dead_dirs(root: Path) -> None:
    """Drop the multiprocess directories (named by pid) of `loket serve` processes that
    are gone: one killed by SIGKILL left its own behind."""
    for old in root.iterdir():
        if old.is_dir() and old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
