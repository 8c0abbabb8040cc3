"""Connection limits below the ASGI app, in uvicorn's protocol layer (spec section 9).

uvicorn bounds neither how long a client may take to send a request's headers nor how
many connections one address holds, so one client can hold thousands of half-sent
requests and starve every other of file descriptors. `Guard` adds both:

- the headers of each request must arrive within `header_timeout_s` of its first byte
  (or of the connection, for a client that sends nothing); past it the socket is closed;
- one client address holds at most `max_per_client` connections (websockets included);
  one more is closed at once. The addresses of trusted reverse proxies are exempt: the
  proxy limits its own clients (docs/operations.md).

`uvicorn_options(...)` gives the `http=`/`ws=` protocol factories that carry one Guard,
and the websocket frame limit; they pickle, so `--workers N` gives each worker its own.
`--ws` picks uvicorn's websocket implementation; the default one (sans-I/O websockets)
also offers the fan-out a synchronous write of a ready-made frame and keeps an idle
socket small (`GuardedWebSocketProtocol`: measured in docs/performance.md).
`quiet_noisy_logs()` keeps a flood (accept() out of file descriptors, garbage requests)
to one log line per interval, with the count of the lines it held back.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN

log = logging.getLogger("loket.guard")

WRITE_EXTENSION = "loket.write"  # scope["extensions"]: a socket's synchronous write
# scope["extensions"]: a list the app may add callbacks to, called once when the socket
# ends without the app: with STOPPING (the server stops) or GONE (the client left)
CLOSE_EXTENSION = "loket.on_close"
STOPPING, GONE = "stopping", "gone"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Guard:
    """One server's limits and its count of open connections per client address."""

    header_timeout_s: float
    max_per_client: int
    exempt: tuple[Network, ...] = ()  # trusted proxies
    exempt_all: bool = False
    open: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls, header_timeout_s: float, max_per_client: int, trusted_proxies: Iterable[str] = ()
    ) -> Guard:
        nets: list[Network] = []
        exempt_all = False
        for raw in trusted_proxies:
            host = raw.strip()
            if host == "*":
                exempt_all = True
            elif host:
                nets.append(ipaddress.ip_network(host, strict=False))
        return cls(header_timeout_s, max_per_client, tuple(nets), exempt_all)

    def counts(self, host: str) -> bool:
        if self.exempt_all:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # not an IP address (a unix socket): nothing to count
        return not any(address in net for net in self.exempt)

    def admit(self, host: str | None) -> bool:
        """Count one more connection from `host`, or refuse it (False)."""
        if host is None or not self.counts(host):
            return True
        n = self.open.get(host, 0)
        if n >= self.max_per_client:
            log.warning(
                "refused a connection from %s: it holds %d already (max_connections_per_client)",
                host,
                n,
            )
            return False
        self.open[host] = n + 1
        return True

    def release(self, host: str | None) -> None:
        if host is None or host not in self.open:
            return
        n = self.open[host] - 1
        if n > 0:
            self.open[host] = n
        else:
            del self.open[host]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with the Guard's header timeout and address limit."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        guard: Guard,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = guard
        self.host: str | None = None
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if not self.guard.admit(host):
            transport.abort()  # at once: no buffers, no answer, no TIME_WAIT
            return
        self.host = host
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        self.guard.release(self.host)
        self.host = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_protocol() is not self:
            return  # upgraded to a websocket, which now holds the count
        # h11 says IDLE until a request's headers are complete
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.header_timer is None:
                self._arm_header_timer()
        else:
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        self._disarm_header_timer()  # the keep-alive timeout covers the idle time now
        super().on_response_complete()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm_header_timer()
        super().handle_websocket_upgrade(event)
        self.host = None  # GuardedWebSocketProtocol releases it

    def _arm_header_timer(self) -> None:
        self.header_timer = self.loop.call_later(
            self.guard.header_timeout_s, self._headers_too_slow
        )

    def _disarm_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if self.conn.their_state is h11.IDLE:
            self.transport.close()


def text_frame(data: bytes) -> bytes:
    """A whole, unmasked text frame of UTF-8 `data`: what a server sends without
    compression (per-message deflate is off, cli.py), the same bytes for every socket,
    so built once per message (fanout.Outgoing) and written as is (`write`)."""
    return Frame(Opcode.TEXT, data).serialize(mask=False)


class _Inbox:
    """What uvicorn's sans-I/O protocol uses of its asyncio.Queue of received messages
    (put_nowait, get, empty), for its one reader, the app's `receive`: a list and a
    future instead of a queue's four deques (about 3 KiB per socket)."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    async def get(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)


class _Gate:
    """What uvicorn's protocol uses of its `writable` asyncio.Event (set, clear, is_set,
    wait), with the waiters' list made only when someone waits (the Event's deque is
    about 0.7 KiB per socket)."""

    __slots__ = ("is_open", "waiters")

    def __init__(self) -> None:
        self.is_open = True
        self.waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self.is_open

    def set(self) -> None:
        self.is_open = True
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self.is_open = False

    async def wait(self) -> bool:
        while not self.is_open:
            waiter = asyncio.get_running_loop().create_future()
            if self.waiters is None:
                self.waiters = []
            self.waiters.append(waiter)
            await waiter
        return True


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """The websocket a guarded HTTP connection was upgraded to (uvicorn's sans-I/O
    websockets implementation, `--ws websockets-sansio`): it holds the connection's
    place in the Guard's count until it closes.

    Two savings, both measured (docs/performance.md):
    - a synchronous write of a ready-made frame (`scope["extensions"]["loket.write"]`,
      see `write`): the fan-out hands an event to every idle socket in one loop, the
      way `websockets.broadcast()` does, instead of waking one task per socket and
      framing the message again for each (fanout.py);
    - memory per idle socket: a lighter inbox and write gate than asyncio's Queue and
      Event (same behaviour for one reader), and the handshake's request and response
      headers dropped once the socket is open (nothing reads them again)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        guard: Guard,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = guard
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Gate()  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][WRITE_EXTENSION] = self.write
            self.on_close: list[Callable[[str], object]] = []
            scope["extensions"][CLOSE_EXTENSION] = self.on_close
        # copied into the scope by now; the parser's generator keeps the request alive
        event.headers.clear()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]

    def write(self, frame: bytes) -> bool:
        """Write a frame (`text_frame`) now, without waiting: False (nothing written)
        when the socket is not open, its transport's buffer is over the high-water mark
        or an extension (compression) is in use; the caller then queues the message for
        the socket's own sender, which sends it through ASGI."""
        if (
            self.close_sent
            or not self.writable.is_set()
            or self.conn.state is not OPEN
            or self.conn.extensions
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True

    def shutdown(self) -> None:
        """The server is stopping: uvicorn sends the close frame (1012) and tells the
        app through `receive()`, which Loket's endpoint never waits on (its one task
        sends); the callbacks wake it, so it ends now, not when uvicorn cancels it."""
        super().shutdown()
        self._closed(STOPPING)

    def _closed(self, why: str) -> None:
        callbacks, self.on_close = getattr(self, "on_close", []), []
        for callback in callbacks:
            callback(why)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.release(self.client[0] if self.client else None)
        super().connection_lost(exc)
        self._closed(GONE)  # the client left: its sender need not wait for a frame to fail


def _holding_place(base: type[Any], name: str, doc: str) -> type[Any]:
    """A subclass of one of uvicorn's other websocket implementations that holds its
    Guard place until it closes. Built on first use (module `__getattr__`), so that
    wsproto, and websockets' deprecated legacy API, are imported only when chosen."""

    def __init__(
        self: Any,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        guard: Guard,
    ) -> None:
        base.__init__(self, config, server_state, app_state, _loop)
        self.guard = guard

    def connection_lost(self: Any, exc: Exception | None) -> None:
        self.guard.release(self.client[0] if self.client else None)
        base.connection_lost(self, exc)

    cls = type(name, (base,), {"__init__": __init__, "connection_lost": connection_lost})
    cls.__module__, cls.__qualname__, cls.__doc__ = __name__, name, doc
    return cls


def __getattr__(name: str) -> Any:  # the other implementations' classes, built on demand
    if name == "GuardedWSProtocol":
        from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

        cls = _holding_place(WSProtocol, name, "uvicorn's wsproto implementation, guarded.")
    elif name == "GuardedLegacyProtocol":
        from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

        cls = _holding_place(WebSocketProtocol, name, "uvicorn's legacy websockets, guarded.")
    else:
        raise AttributeError(name)
    globals()[name] = cls
    return cls


# --ws of `loket serve`: uvicorn's implementation, by the name uvicorn gives it
WS_PROTOCOLS = {
    "websockets-sansio": "GuardedWebSocketProtocol",
    "wsproto": "GuardedWSProtocol",
    "websockets": "GuardedLegacyProtocol",
}
WS_DEFAULT = "websockets-sansio"  # chosen by measurement: docs/performance.md


def uvicorn_options(
    *,
    header_timeout_s: float,
    max_connections_per_client: int,
    ws_max_frame_bytes: int,
    trusted_proxies: Iterable[str] = (),
    ws: str = WS_DEFAULT,
) -> dict[str, Any]:
    """uvicorn.Config keywords: the guarded protocols and the websocket frame limit."""
    guard = Guard.build(header_timeout_s, max_connections_per_client, trusted_proxies)
    return {
        "http": functools.partial(GuardedH11Protocol, guard=guard),
        # named, not "auto": the frame limit below is what this implementation enforces
        # (a bigger frame fails the connection with 1009 as soon as its header is read)
        "ws": functools.partial(getattr(sys.modules[__name__], WS_PROTOCOLS[ws]), guard=guard),
        "ws_max_size": ws_max_frame_bytes,
    }


# -- log floods -------------------------------------------------------------------------

NOISY = (
    "socket.accept() out of system resource",  # asyncio, at EMFILE: thousands a second
    "Invalid HTTP request received.",  # uvicorn, for each garbage request
    "refused a connection from",  # ours
)


class RateLimit(logging.Filter):
    """Lets one record of each noisy kind through per `every_s`, as one line (no
    traceback) telling how many it held back since the last; others pass untouched."""

    def __init__(self, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.every_s = every_s
        self.clock = clock
        self.last: dict[str, float] = {}
        self.held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        kind = next((k for k in NOISY if message.startswith(k)), None)
        if kind is None:
            return True
        now = self.clock()
        previous = self.last.get(kind)
        if previous is not None and now - previous < self.every_s:
            self.held[kind] = self.held.get(kind, 0) + 1
            return False
        self.last[kind] = now
        held = self.held.pop(kind, 0)
        line = record.getMessage().splitlines()[0]
        if record.exc_info and record.exc_info[1] is not None:
            line += f": {record.exc_info[1]}"
        if held and previous is not None:
            line += f" ({held} more like it in the last {now - previous:.0f} s held back)"
        record.msg, record.args = line, None
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_noisy_logs(every_s: float = 10.0) -> None:
    """Rate-limit the noisy lines of asyncio, uvicorn and the guard (idempotent)."""
    for name in ("asyncio", "uvicorn.error", "loket.guard"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimit) for f in logger.filters):
            logger.addFilter(RateLimit(every_s))
