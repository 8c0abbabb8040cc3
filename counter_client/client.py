"""Async client for a Loket server's counter API, for scripts, call buttons and the CLI.

    async with CounterClient("http://127.0.0.1:8000", token) as loket:
        ticket = await loket.next("bogor", "loket-5")      # None when nothing waits
        async for event in loket.events("bogor", agency="disdukcapil"):
            ...

It talks HTTP and websockets only (no server imports). Every write carries an
Idempotency-Key; a write that fails on the way (connection dropped, 502, 503) is sent
again with the SAME key, a bounded number of times with backoff, so the server acts once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

API = "/api/v1"
RETRY_STATUSES = frozenset({502, 503})
WS_POLICY_VIOLATION = 1008  # the server refused the stream: unknown site, bad credential


# --------------------------------------------------------------------------- errors


class LoketApiError(Exception):
    """An error answer of the API (`status`, `code`, `message`), or a network failure
    after all retries (`status` 0, code `network_error`)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class LoketConnectionError(LoketApiError):
    """The server could not be reached (after retries)."""


class UnauthorizedError(LoketApiError):
    """401: no credential, or a bad, expired or revoked one."""


class ForbiddenError(LoketApiError):
    """403: the credential may not do this (e.g. an officer at another counter)."""


class NotFoundError(LoketApiError):
    """404: unknown site, counter, service or ticket."""


class ConflictError(LoketApiError):
    """409: illegal transition, paused or closed counter, closed service, quota reached."""


_ERRORS_BY_STATUS: dict[int, type[LoketApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


def error_from_response(response: httpx.Response) -> LoketApiError:
    """Build the matching exception from an error answer (`{"error": {code, message}}`)."""
    code, message = "http_error", response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = str(body["error"].get("code") or code)
        message = str(body["error"].get("message") or message)
    cls = _ERRORS_BY_STATUS.get(response.status_code, LoketApiError)
    return cls(response.status_code, code, message)


# --------------------------------------------------------------------------- results


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class CounterRef:
    id: str
    name: str


@dataclass(frozen=True)
class Ticket:
    number: str
    site: str
    service: str
    agency: str
    status: str
    priority: bool
    issued_at: datetime | None
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counter: CounterRef | None
    recalls: int
    transfers: int
    rated: bool
    id: str | None = None  # absent from public answers

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ticket:
        counter = data.get("counter")
        return cls(
            id=data.get("id"),
            number=str(data["number"]),
            site=str(data.get("site", "")),
            service=str(data.get("service", "")),
            agency=str(data.get("agency", "")),
            status=str(data["status"]),
            priority=bool(data.get("priority", False)),
            issued_at=_time(data.get("issued_at")),
            called_at=_time(data.get("called_at")),
            started_at=_time(data.get("started_at")),
            finished_at=_time(data.get("finished_at")),
            counter=CounterRef(str(counter["id"]), str(counter["name"])) if counter else None,
            recalls=int(data.get("recalls") or 0),
            transfers=int(data.get("transfers") or 0),
            rated=bool(data.get("rated", False)),
        )


@dataclass(frozen=True)
class CounterState:
    id: str
    name: str
    status: str  # open, paused, closed
    ticket: Ticket | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CounterState:
        ticket = data.get("ticket")
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            status=str(data["status"]),
            ticket=Ticket.from_json(ticket) if ticket else None,
        )


@dataclass(frozen=True)
class TodayFigures:
    served: int
    no_show: int
    avg_service_s: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TodayFigures:
        avg = data.get("avg_service_s")
        return cls(
            served=int(data.get("served") or 0),
            no_show=int(data.get("no_show") or 0),
            avg_service_s=float(avg) if avg is not None else None,
        )


# --------------------------------------------------------------------------- client


class CounterClient:
    """One connection pool to one Loket server, acting with one credential."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int = 4,
        backoff_s: float = 0.25,
        max_backoff_s: float = 4.0,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        headers = {"Accept": "application/json", "User-Agent": "loket-counter-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout_s, transport=transport
        )

    async def __aenter__(self) -> CounterClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---------------------------------------------------------------- transport

    def _delay_s(self, attempt: int) -> float:
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one API call and return its JSON answer, retrying transient failures.

        Writes keep one Idempotency-Key across every try, so a retry after a dropped
        connection returns the first answer instead of acting twice."""
        headers = {}
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt > self.retries:
                    raise LoketConnectionError(
                        0, "network_error", f"cannot reach {self.url}: {exc or type(exc).__name__}"
                    ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt > self.retries:
                    if response.is_error:
                        raise error_from_response(response)
                    data = response.json()
                    return data if isinstance(data, dict) else {}
            await asyncio.sleep(self._delay_s(attempt))

    @staticmethod
    def _counter_path(site: str, counter: str, action: str = "") -> str:
        path = f"{API}/sites/{quote(site, safe='')}/counters/{quote(counter, safe='')}"
        return f"{path}/{action}" if action else path

    async def _ticket_action(
        self, site: str, counter: str, action: str, body: Mapping[str, Any] | None = None
    ) -> Ticket | None:
        data = await self.request("POST", self._counter_path(site, counter, action), body)
        ticket = data.get("ticket")
        return Ticket.from_json(ticket) if ticket else None

    async def _required_ticket(
        self, site: str, counter: str, action: str, body: Mapping[str, Any] | None = None
    ) -> Ticket:
        ticket = await self._ticket_action(site, counter, action, body)
        if ticket is None:
            raise LoketApiError(200, "bad_answer", f"{action}: the server answered no ticket")
        return ticket

    async def _counter_action(self, site: str, counter: str, action: str) -> CounterState:
        data = await self.request("POST", self._counter_path(site, counter, action))
        return CounterState.from_json(data["counter"])

    # ---------------------------------------------------------------- ticket actions

    async def next(self, site: str, counter: str) -> Ticket | None:
        """Finish the current ticket and call the next one; None when nothing waits."""
        return await self._ticket_action(site, counter, "next")

    async def recall(self, site: str, counter: str) -> Ticket:
        return await self._required_ticket(site, counter, "recall")

    async def start(self, site: str, counter: str) -> Ticket:
        return await self._required_ticket(site, counter, "start")

    async def finish(self, site: str, counter: str) -> Ticket:
        return await self._required_ticket(site, counter, "finish")

    async def no_show(self, site: str, counter: str) -> Ticket:
        return await self._required_ticket(site, counter, "no-show")

    async def transfer(self, site: str, counter: str, service: str) -> Ticket:
        """Send the current ticket back to the queue of another service."""
        return await self._required_ticket(site, counter, "transfer", {"service": service})

    async def call(self, site: str, counter: str, ticket: str) -> Ticket:
        """Call one waiting ticket (by id) out of turn."""
        return await self._required_ticket(site, counter, "call", {"ticket": ticket})

    # ---------------------------------------------------------------- counter actions

    async def pause(self, site: str, counter: str) -> CounterState:
        return await self._counter_action(site, counter, "pause")

    async def resume(self, site: str, counter: str) -> CounterState:
        return await self._counter_action(site, counter, "resume")

    async def close(self, site: str, counter: str) -> CounterState:
        return await self._counter_action(site, counter, "close")

    async def open(self, site: str, counter: str) -> CounterState:
        return await self._counter_action(site, counter, "open")

    # ---------------------------------------------------------------- reads

    async def status(self, site: str, counter: str) -> CounterState:
        data = await self.request("GET", self._counter_path(site, counter))
        return CounterState.from_json(data["counter"])

    async def today(self, site: str, counter: str) -> TodayFigures:
        data = await self.request("GET", self._counter_path(site, counter))
        return TodayFigures.from_json(data.get("today") or {})

    async def waiting(self, site: str, counter: str) -> list[Ticket]:
        """Waiting tickets of the counter's services, in call order (at most 100)."""
        data = await self.request("GET", self._counter_path(site, counter, "waiting"))
        return [Ticket.from_json(t) for t in data.get("tickets") or []]

    # ---------------------------------------------------------------- events

    def events_url(self, site: str, since: int | None = None, **filters: Any) -> str:
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query: dict[str, str] = {}
        for name, value in filters.items():
            if value is None or value == "" or value == []:
                continue
            query[name] = ",".join(value) if isinstance(value, list | tuple) else str(value)
        if since is not None:
            query["since"] = str(since)
        path = f"{parts.path}/ws/sites/{quote(site, safe='')}/events"
        return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))

    async def events(
        self, site: str, since: int | None = None, **filters: Any
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield the site's event stream (dicts with `type`), forever.

        Reconnects by itself with `since=<last seq>` so the server replays what was
        missed; never yields the same `seq` twice. Filters: agency, counter, zone (str or
        list), ticket. Raises LoketApiError when the server refuses the stream (close
        code 1008: unknown site or filter, bad credential)."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        filtered = any(v not in (None, "", []) for k, v in filters.items() if k != "ticket")
        last = since
        attempt = 0
        while True:
            try:
                async with connect(
                    self.events_url(site, last, **filters), additional_headers=headers
                ) as socket:
                    async for raw in socket:
                        message = json.loads(raw)
                        attempt = 0
                        if message.get("type") == "heartbeat":
                            continue  # keep-alive only
                        seq = message.get("seq")
                        if message.get("type") == "snapshot":
                            last = seq
                        elif isinstance(seq, int):
                            if last is not None and seq <= last:
                                continue  # already seen (replay overlap)
                            if last is not None and not filtered and seq != last + 1:
                                break  # gap on an unfiltered stream: reconnect, replay
                            last = seq
                        yield message
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == WS_POLICY_VIOLATION:
                    raise LoketApiError(
                        403, "stream_refused", exc.rcvd.reason or "event stream refused"
                    ) from exc
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403, 404):
                    raise LoketApiError(
                        exc.response.status_code, "stream_refused", "event stream refused"
                    ) from exc
            except (OSError, InvalidHandshake):
                pass  # server down or restarting: try again
            attempt += 1
            await asyncio.sleep(self._delay_s(min(attempt, 6)))
