"""Storage: the queue engine (with connect.py, eventlog.py and accounts.py, the only
modules that import redis).

Every state change is one Lua script (lua/*.lua, each prepended with lua/_lib.lua),
registered once; `run` maps their answers to domain exceptions. Reads that must be
consistent with a seq (the state snapshot) are read-only scripts too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import domain, hours, keys
from .accounts import Accounts
from .audit import AuditLog
from .config import Site, from_json
from .connect import FAILURES, STORE_ERRORS, connect, disconnect
from .errors import (
    Conflict,
    LoketError,
    NotFound,
    PreconditionFailed,
    StorageUnavailable,
    Unprocessable,
)
from .estimate import Load, load_of, parse_times
from .eventlog import EventLog
from .rollups import Rollups

LUA_DIR = Path(__file__).parent / "lua"
SCRIPTS = (
    "issue",
    "next",
    "call",
    "recall",
    "start",
    "finish",
    "no_show",
    "transfer",
    "undo",
    "cancel",
    "counter_status",
    "rate",
    "rollover",
    "config_load",
    "announce",
    "state",
    "purge",
    "fold",
    "settle",
    # bookings (booking_store.py)
    "book",
    "check_in",
    "booking_cancel",
    "booking_expire",
)

# script error code -> (exception, HTTP-facing message)
ERRORS: dict[str, type[LoketError]] = {
    "not_found": NotFound,
    "service_closed": Conflict,
    "quota_reached": Conflict,
    "counter_paused": Conflict,
    "counter_closed": Conflict,
    "counter_busy": Conflict,
    "no_current_ticket": Conflict,
    "illegal_transition": Conflict,
    "already_rated": Conflict,
    "same_service": Unprocessable,
    "idempotency_key_reused": Unprocessable,
    "stale_version": PreconditionFailed,
    "site_exists": Conflict,
    "undo_expired": Conflict,
}

# Scripts that change nothing: no WAIT after them (Store.wait_replicas).
READ_ONLY = frozenset({"state"})
FENCE_TTL_MS = 60_000

Clock = Callable[[], datetime]
__all__ = ["FAILURES", "STORE_ERRORS", "Clock", "Idem", "Store", "connect", "disconnect"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Idem:
    """An Idempotency-Key, already digested with the credential, method and path, and the
    digest of the request body it came with (the same key with another body is refused)."""

    digest: str
    ttl_ms: int = 600_000
    body: str = ""

    @property
    def argv(self) -> str:
        return f"{self.ttl_ms}:{self.body}"


# What a script needs beyond the common keys and arguments, for a given service day.
Extra = tuple[Sequence[str], Sequence[str]]


def service_load_of(
    site: Site,
    service_id: str,
    states: Mapping[str, bytes | str | None],
    waiting: Mapping[str, int],
    times: Mapping[str, bytes | str | None],
    now_ms: int,
) -> Load:
    """A service's Load (server/estimate.py) from the stored records: `states` the
    counters' stored JSON by id, `waiting` the queue lengths, `times` the services'
    stored lists of latest service times; each counter's breaks left today from the
    configuration."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    return load_of(
        service_id,
        [
            (
                c.services,
                json.loads(raw) if (raw := states.get(c.id)) else None,
                hours.windows_left(c.breaks, site.timezone, now),
            )
            for c in site.counters
            if service_id in c.services
        ],
        waiting,
        {s: parse_times(raw) for s, raw in times.items()},
        now_ms,
    )


class Store:
    def __init__(
        self,
        redis: Redis,
        *,
        clock: Clock = utc_now,
        event_log_len: int = 20_000,
        config_ttl_s: float = 5.0,
        retention_days: int = 35,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> None:
        # redis-py's response types are loose unions (bytes | str | ...): keep Any here
        # and convert at each call, where the reply shape is known.
        self.redis: Any = redis
        self.clock = clock
        self.event_log_len = event_log_len
        self.config_ttl_s = config_ttl_s
        self.retention_days = retention_days
        # With N > 0, each change is confirmed on N replicas (WAIT) before it is
        # answered, and events are shown only once replicated (`replicated`):
        # docs/scaling.md, "When a shard fails over".
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self.log = EventLog(redis)
        self.accounts = Accounts(redis)
        self.rollups = Rollups(redis, self._settle_script)
        self.audit = AuditLog(redis)
        self._configs: dict[str, tuple[Site, float]] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        lib = (LUA_DIR / "_lib.lua").read_text()
        self._scripts = {
            name: redis.register_script(lib + "\n" + (LUA_DIR / f"{name}.lua").read_text())
            for name in SCRIPTS
        }

    # -- plumbing -----------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    def _common(
        self, site: Site, idem: Idem | None, now: datetime, today: str
    ) -> tuple[list[str], list[str]]:
        sid = site.id
        k = self._common_keys(sid, idem)
        a = [
            sid,
            domain.local_iso(now, site.timezone),
            today,
            str(self.event_log_len),
            idem.argv if idem else "0",
            str(int(now.timestamp() * 1000)),
        ]
        return k, a

    @staticmethod
    def _common_keys(sid: str, idem: Idem | None) -> list[str]:
        return [
            keys.seq(sid),
            keys.events(sid),
            keys.day(sid),
            keys.idempotency(sid, idem.digest if idem else "-"),
            keys.tickets(sid),
            keys.counters(sid),
            keys.rollups(sid),
            keys.services(sid),
        ]

    async def _settle_script(self, site_id: str, args: list[str | bytes]) -> dict[str, Any]:
        """settle.lua (rollups.py `settle`): common keys, and common arguments that it
        does not read (no day, no time, no Idempotency-Key)."""
        k = self._common_keys(site_id, None)
        return _checked(await self._eval("settle", k, [site_id, "", "", "0", "0", "0", *args]))

    async def _eval(self, name: str, k: list[str], a: list[Any]) -> dict[str, Any]:
        try:
            if self.wait_replicas > 0 and name not in READ_ONLY:
                raw = await self._replicated(a[0], name, k, a)  # a[0]: the site (_common)
            else:
                raw = await self._scripts[name](keys=k, args=a)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StorageUnavailable("The store is unavailable; try again.") from exc
        result: dict[str, Any] = json.loads(raw)
        return result

    async def replicated(self, site_id: str) -> None:
        """With `wait_replicas`: return once everything of the site read so far from its
        node is on that many replicas (StorageUnavailable if not within the timeout), so
        that no screen is shown an event a failover may still lose. A no-op without."""
        if self.wait_replicas > 0:
            try:
                await self._replicated(site_id, None, [], [])
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                raise StorageUnavailable("The store is unavailable; try again.") from exc

    async def _replicated(self, site_id: str, name: str | None, k: list[str], a: list[str]) -> Any:
        """Run a script (if any), write the site's fence key and `WAIT` for the replicas,
        in one pipeline on one connection of the node holding the site's slot: the WAIT
        covers the script's writes, and through the fence everything the script (an
        Idempotency-Key's replay, say) or an earlier read of this node saw. The script's
        answer; StorageUnavailable when fewer replicas confirmed it in time (the change
        may stand: a retry with the same Idempotency-Key gets its first answer)."""
        fence = keys.fence(site_id)
        script = self._scripts[name] if name else None
        for _ in range(2):
            commands: list[tuple[Any, ...]] = []
            if script is not None:
                commands.append(("EVALSHA", script.sha, len(k), *k, *a))
            commands.append(("SET", fence, b"1", "PX", FENCE_TTL_MS))
            commands.append(("WAIT", self.wait_replicas, self.wait_timeout_ms))
            *answer, _, acked = await self._pipeline(fence, commands)
            if answer and isinstance(answer[0], NoScriptError):
                assert script is not None
                await self.redis.script_load(script.script)
                continue
            for reply in (*answer, acked):
                if isinstance(reply, Exception):
                    raise StorageUnavailable("The store is unavailable; try again.") from reply
            if int(acked) < self.wait_replicas:
                raise StorageUnavailable(
                    f"The store confirmed the change on {int(acked)} of"
                    f" {self.wait_replicas} replicas; try again with the same"
                    " Idempotency-Key."
                )
            return answer[0] if answer else None
        raise StorageUnavailable("The store is unavailable; try again.")

    async def _pipeline(self, key: str, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Commands sent together on one connection, their replies (an error reply as
        its exception), with no retry: what WAIT needs. On a Redis Cluster, on a
        connection of the node that holds `key`'s slot as the client knows it; a node
        that no longer does answers MOVED, and a normal command then lets the client
        learn the new layout (redis-py retries and re-routes a cluster pipeline command
        by command, which could send the WAIT to another node than the script)."""
        manager = getattr(self.redis, "nodes_manager", None)
        if manager is None:  # one server (or Sentinel's master): one connection
            pipe = self.redis.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            return list(await pipe.execute(raise_on_error=False))
        node = manager.get_node_from_slot(self.redis.keyslot(key))
        conn = node.acquire_connection()
        replies: list[Any] = []
        try:
            await node.disconnect_if_needed(conn)
            await conn.send_packed_command(conn.pack_commands(commands))
            for command in commands:
                try:
                    replies.append(await node.parse_response(conn, command[0]))
                except ResponseError as exc:
                    replies.append(exc)
        except BaseException:
            await conn.disconnect()
            with contextlib.suppress(RedisError, OSError):
                await self.redis.get(key)  # the client finds out where the slot went
            raise
        finally:
            node.release(conn)
        if any(isinstance(r, ResponseError) and not isinstance(r, NoScriptError) for r in replies):
            with contextlib.suppress(RedisError, OSError):
                await self.redis.get(key)  # MOVED, CLUSTERDOWN: the same
        return replies

    async def run(
        self,
        name: str,
        site: Site,
        idem: Idem | None,
        extra: Extra | Callable[[str], Extra] = ((), ()),
        *,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Run a script. `extra` is its own keys and arguments, or a function of the
        service day that gives them (keys of the day: numbers, quotas, ...)."""
        now = now or self.clock()
        today = self._today(site, now)
        for _ in range(3):
            k, a = self._common(site, idem, now, today)
            more_keys, more_args = extra(today) if callable(extra) else extra
            k.extend(more_keys)
            a.extend(more_args)
            result = await self._eval(name, k, a)
            if result.get("err") == "day_stale":
                await self.rollover(site, now=now)
            elif result.get("err") == "day_ahead":
                # Another process's clock passed midnight first: the day only moves
                # forward, so this change belongs to the stored day.
                today = str(result["day"])
            else:
                break
        return _checked(result)

    def _today(self, site: Site, now: datetime) -> str:
        return domain.service_day(now, site.timezone)

    # -- configuration ------------------------------------------------------------

    async def site_ids(self) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(keys.sites()))

    async def sites(self) -> list[Site]:
        """Every site of the installation (a site whose configuration is gone is left out)."""
        out = []
        for site_id in await self.site_ids():
            try:
                out.append(await self.site(site_id))
            except NotFound:
                continue
        return out

    async def site(self, site_id: str) -> Site:
        """The site's configuration, cached for a few seconds (and dropped on change)."""
        cached = self._configs.get(site_id)
        if cached and time.monotonic() - cached[1] < self.config_ttl_s:
            return cached[0]
        if not domain.is_slug(site_id):
            raise NotFound(f"Unknown site {site_id!r}.")
        # One load at a time per site: a crowd of sockets arriving as the cache expires
        # shares one parsed Site instead of each parsing (and keeping) its own.
        lock = self._loading.setdefault(site_id, asyncio.Lock())
        async with lock:
            cached = self._configs.get(site_id)
            if cached and time.monotonic() - cached[1] < self.config_ttl_s:
                return cached[0]
            try:
                return await self._load_site(site_id)
            except NotFound:
                self._loading.pop(site_id, None)  # no lock kept for made-up site ids
                raise

    async def _load_site(self, site_id: str) -> Site:
        try:
            raw = await self.redis.get(keys.config(site_id))
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StorageUnavailable("The store is unavailable; try again.") from exc
        if raw is None:
            raise NotFound(f"Unknown site {site_id!r}.")
        site = from_json(raw)
        self._configs[site_id] = (site, time.monotonic())
        return site

    def forget(self, site_id: str) -> None:
        self._configs.pop(site_id, None)

    async def load_config(self, site: Site, *, expect: int | None = None) -> int:
        """Store a configuration; its new version. With `expect`, only while that is
        still the stored version (412 `stale_version` otherwise, in the same atomic
        step); `expect=0` only creates a new site (409 `site_exists`)."""
        await self.redis.sadd(keys.sites(), site.id)
        try:
            result = await self.run(
                "config_load",
                site,
                None,
                (
                    [keys.config(site.id), keys.queue(site.id, ""), keys.config_version(site.id)],
                    [site.to_json(), "" if expect is None else str(expect)]
                    + [c.id for c in site.counters],
                ),
            )
        except LoketError as exc:
            if exc.code in ("stale_version", "site_exists"):
                exc.details = {"version": await self.config_version(site.id)}
            raise
        self.forget(site.id)
        return int(result["version"])

    async def config_version(self, site_id: str) -> int:
        raw = await self.redis.get(keys.config_version(site_id))
        return int(raw) if raw else 1

    async def stored_config(self, site_id: str) -> tuple[Site, int]:
        """The stored configuration (not the cache) and its version, read together."""
        if not domain.is_slug(site_id):
            raise NotFound(f"Unknown site {site_id!r}.")
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(keys.config(site_id))
        pipe.get(keys.config_version(site_id))
        try:
            raw, version = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StorageUnavailable("The store is unavailable; try again.") from exc
        if raw is None:
            raise NotFound(f"Unknown site {site_id!r}.")
        return from_json(raw), int(version) if version else 1

    # -- the service day ----------------------------------------------------------

    async def rollover(self, site: Site, *, now: datetime | None = None) -> bool:
        """Start a new service day if the stored one is not today's. Safe to race."""
        now = now or self.clock()
        stored = await self.redis.get(keys.day(site.id))
        stored_day = stored.decode() if stored else ""
        if stored_day >= self._today(site, now):
            return False  # the day only moves forward
        services = [s.id for s in site.services]
        result = await self.run(
            "rollover",
            site,
            None,
            (
                [keys.recent(site.id), *(keys.queue(site.id, s) for s in services)],
                [stored_day, *services],
            ),
            now=now,
        )
        if result.get("rolled"):
            await self.purge(site, now=now)
            await self.keep_figures(site, now=now)
        return bool(result.get("rolled"))

    async def keep_figures(self, site: Site, *, now: datetime | None = None) -> int:
        """After a day ends: fold the finished days into their months, compress old day
        figures and drop those past the retention (rollups.py)."""
        now = now or self.clock()
        today = date.fromisoformat(self._today(site, now))

        def fold(extra_keys: list[str], extra_args: list[str]) -> Awaitable[Any]:
            return self.run("fold", site, None, (extra_keys, extra_args), now=now)

        await self.rollups.settle(site.id)
        folded = await self.rollups.fold_days(site.id, today, fold)
        await self.rollups.compress_old_days(site.id, today)
        return folded

    async def purge(self, site: Site, *, now: datetime | None = None) -> int:
        """Forget tickets of service days older than the retention period."""
        now = now or self.clock()
        today = date.fromisoformat(self._today(site, now))
        cutoff = (today - timedelta(days=self.retention_days)).isoformat()
        old = sorted(d.decode() for d in await self.redis.smembers(keys.days(site.id)))
        old = [d for d in old if d < cutoff]
        if not old:
            return 0
        day_keys = [
            k
            for d in old
            for k in (
                keys.day_tickets(site.id, d),
                keys.numbers(site.id, d),
                keys.issued(site.id, d),
            )
        ]
        result = await self.run(
            "purge", site, None, ([keys.days(site.id), *day_keys], old), now=now
        )
        return int(result["purged"])

    # -- tickets ------------------------------------------------------------------

    async def issue(
        self, site: Site, service_id: str, *, priority: bool, idem: Idem | None
    ) -> dict[str, Any]:
        service = _service(site, service_id)
        now = self.clock()
        closed = hours.closed_at(service.hours, site.holidays, site.timezone, now)
        if closed is not None:
            when = closed.next_open
            raise Conflict(
                closed.message(now),
                code=closed.code,
                details={"next_open": when.isoformat(timespec="minutes") if when else None},
            )
        ticket_id = secrets.token_urlsafe(16)

        def extra(today: str) -> Extra:
            return (
                [
                    keys.numbers(site.id, today),
                    keys.issued(site.id, today),
                    keys.queue(site.id, service.id),
                    keys.day_tickets(site.id, today),
                    keys.days(site.id),
                    keys.booking_taken(site.id, today),  # places still booked today
                ],
                [
                    ticket_id,
                    service.id,
                    service.agency,
                    service.prefix,
                    "1" if priority else "0",
                    "" if service.daily_quota is None else str(service.daily_quota),
                ],
            )

        result = await self.run("issue", site, idem, extra)
        ticket: dict[str, Any] = result["ticket"]
        return ticket

    async def answered(self, site: Site, idem: Idem) -> bool:
        """Whether a request with this Idempotency-Key was already answered (a retry)."""
        return bool(await self.redis.exists(keys.idempotency(site.id, idem.digest)))

    async def ticket(self, site: Site, ticket_id: str) -> dict[str, Any]:
        if not domain.is_ticket_id(ticket_id):
            raise NotFound("No such ticket.")
        raw = await self.redis.hget(keys.tickets(site.id), ticket_id)
        if raw is None:
            raise NotFound("No such ticket.")
        ticket: dict[str, Any] = json.loads(raw)
        return ticket

    async def _on_ticket(
        self,
        site: Site,
        ticket_id: str,
        idem: Idem | None,
        run: Callable[[dict[str, Any]], Awaitable[Any]],
    ) -> dict[str, Any]:
        """Run a script that needs the ticket's service (for its queue key). The script
        answers "moved" if the ticket changed service meanwhile: read again and retry.
        A repeated Idempotency-Key answers as the first time, before any of that."""
        if idem is not None:
            stored = await self.redis.get(keys.idempotency(site.id, idem.digest))
            if stored is not None:
                return dict(_checked(_idem_answer(stored, idem))["ticket"])
        for _ in range(3):
            ticket = await self.ticket(site, ticket_id)
            try:
                result = await run(ticket)
            except Conflict as exc:
                if exc.code == "moved":
                    continue
                if idem is not None:  # a refusal decided here is the first answer too
                    answer = json.dumps({"err": exc.code, "message": exc.message})
                    await self.redis.set(
                        keys.idempotency(site.id, idem.digest),
                        f"{idem.body}|{answer}",
                        px=idem.ttl_ms,
                        nx=True,
                    )
                raise
            return dict(result["ticket"])
        raise Conflict("The ticket is changing; try again.", code="busy")

    async def cancel(self, site: Site, ticket_id: str, *, idem: Idem | None) -> dict[str, Any]:
        def run(ticket: dict[str, Any]) -> Awaitable[Any]:
            service = ticket["service"]
            return self.run(
                "cancel", site, idem, ([keys.queue(site.id, service)], [ticket_id, service])
            )

        return await self._on_ticket(site, ticket_id, idem, run)

    async def rate(
        self, site: Site, ticket_id: str, rating: dict[str, Any], *, idem: Idem | None
    ) -> dict[str, Any]:
        if not domain.is_ticket_id(ticket_id):
            raise NotFound("No such ticket.")
        result = await self.run(
            "rate",
            site,
            idem,
            ([keys.ratings(site.id)], [ticket_id, json.dumps(rating, ensure_ascii=False)]),
        )
        return dict(result["ticket"])

    async def rate_last(
        self,
        site: Site,
        counter_id: str,
        number: str,
        rating: dict[str, Any],
        *,
        idem: Idem | None,
        within_s: int = 15 * 60,
    ) -> dict[str, Any]:
        """Rate the ticket a counter finished last (its rating tablet), if it is the
        ticket `number` and was finished within `within_s`."""
        counter = _counter(site, counter_id)
        raw = await self.redis.hget(keys.counters(site.id), counter.id)
        record = json.loads(raw) if raw else {}
        last, at_ms = record.get("last_done"), record.get("last_done_ms") or 0
        now_ms = int(self.clock().timestamp() * 1000)
        if not last or now_ms - at_ms > within_s * 1000:
            raise Conflict("The counter finished no ticket recently.", code="no_recent_ticket")
        ticket = await self.ticket(site, last)
        if ticket["number"] != number:
            raise Conflict(
                f"The counter's last ticket is {ticket['number']}, not {number}.",
                code="not_last_ticket",
            )
        return await self.rate(site, last, rating, idem=idem)

    async def position(self, site: Site, ticket: dict[str, Any]) -> int | None:
        if ticket["status"] != domain.WAITING:
            return None
        rank = await self.redis.zrank(keys.queue(site.id, ticket["service"]), ticket["id"])
        return None if rank is None else int(rank) + 1

    async def service_load(self, site: Site, service_id: str) -> Load:
        """What a service's wait estimates are made from (server/estimate.py): the
        counters serving it, the queue lengths and latest service times (s) of their
        services. One round trip."""
        serving = [c for c in site.counters if service_id in c.services]
        related = sorted({s for c in serving for s in c.services} | {service_id})
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(keys.counters(site.id), [c.id for c in serving] or [""])
        pipe.hmget(keys.service_times(site.id), related)
        for s in related:
            pipe.zcard(keys.queue(site.id, s))
        states, times, *sizes = await pipe.execute()
        return service_load_of(
            site,
            service_id,
            {c.id: raw for c, raw in zip(serving, states, strict=False)},
            dict(zip(related, (int(n) for n in sizes), strict=True)),
            dict(zip(related, times, strict=True)),
            int(self.clock().timestamp() * 1000),
        )

    # -- counters -----------------------------------------------------------------

    async def next(
        self, site: Site, counter_id: str, *, actor: str, idem: Idem | None
    ) -> dict[str, Any] | None:
        counter = _counter(site, counter_id)
        result = await self.run(
            "next",
            site,
            idem,
            (
                [
                    keys.recent(site.id),
                    keys.service_times(site.id),
                    *(keys.queue(site.id, s) for s in counter.services),
                ],
                [counter.id, counter.name, actor, *counter.services],
            ),
        )
        return result["ticket"]  # type: ignore[no-any-return]

    async def call(
        self, site: Site, counter_id: str, ticket_id: str, *, actor: str, idem: Idem | None
    ) -> dict[str, Any]:
        counter = _counter(site, counter_id)

        def run(ticket: dict[str, Any]) -> Awaitable[Any]:
            service = ticket["service"]
            if service not in counter.services:
                raise Conflict(
                    f"{counter.name} does not serve this ticket's service.", code="wrong_service"
                )
            return self.run(
                "call",
                site,
                idem,
                (
                    [
                        keys.recent(site.id),
                        keys.service_times(site.id),
                        keys.queue(site.id, service),
                    ],
                    [counter.id, counter.name, actor, ticket_id, service],
                ),
            )

        return await self._on_ticket(site, ticket_id, idem, run)

    async def recall(self, site: Site, counter_id: str, *, idem: Idem | None) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        result = await self.run(
            "recall", site, idem, ([keys.recent(site.id)], [counter.id, counter.name])
        )
        return dict(result["ticket"])

    async def start(self, site: Site, counter_id: str, *, idem: Idem | None) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        result = await self.run("start", site, idem, ((), [counter.id, counter.name]))
        return dict(result["ticket"])

    async def finish(self, site: Site, counter_id: str, *, idem: Idem | None) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        result = await self.run(
            "finish",
            site,
            idem,
            ([keys.service_times(site.id)], [counter.id, counter.name]),
        )
        return dict(result["ticket"])

    async def no_show(self, site: Site, counter_id: str, *, idem: Idem | None) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        result = await self.run("no_show", site, idem, ((), [counter.id, counter.name]))
        return dict(result["ticket"])

    async def transfer(
        self, site: Site, counter_id: str, service_id: str, *, idem: Idem | None
    ) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        service = _service(site, service_id)
        result = await self.run(
            "transfer",
            site,
            idem,
            (
                [keys.queue(site.id, service.id)],
                [counter.id, counter.name, service.id, service.agency],
            ),
        )
        return dict(result["ticket"])

    async def undo(self, site: Site, counter_id: str, *, idem: Idem | None) -> dict[str, Any]:
        """Revert the counter's last next, no-show or transfer (lua/undo.lua) within
        domain.UNDO_WINDOW_S: {"ticket": what the counter holds after it, or None,
        "undone": the action}; 409 `undo_expired` when too late or anything changed."""
        counter = _counter(site, counter_id)
        for _ in range(3):
            # The services whose queues the action changed are in its undo record; the
            # script checks them against the keys given ("moved": read again).
            raw = await self.redis.hget(keys.undo(site.id), counter.id)
            undo = json.loads(raw) if raw else None
            queues = undo.get("queues") if isinstance(undo, dict) else None
            services = [s for s in queues or [] if isinstance(s, str)]
            try:
                result = await self.run(
                    "undo",
                    site,
                    idem,
                    (
                        [
                            keys.recent(site.id),
                            keys.service_times(site.id),
                            *(keys.queue(site.id, s) for s in services),
                        ],
                        [
                            counter.id,
                            counter.name,
                            str(domain.UNDO_WINDOW_S * 1000),
                            *services,
                        ],
                    ),
                )
            except Conflict as exc:
                if exc.code == "moved":
                    continue
                raise
            return {"ticket": result["ticket"], "undone": result["undone"]}
        raise Conflict("The counter is changing; try again.", code="busy")

    async def counter_action(
        self, site: Site, counter_id: str, action: str, *, idem: Idem | None
    ) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        allowed, new_status, event = domain.COUNTER_ACTIONS[action]
        result = await self.run(
            "counter_status",
            site,
            idem,
            ((), [counter.id, counter.name, action, ",".join(sorted(allowed)), new_status, event]),
        )
        return dict(result["counter"])

    async def _held(self, site: Site, ticket_id: str | None) -> dict[str, Any] | None:
        if not ticket_id:
            return None
        raw = await self.redis.hget(keys.tickets(site.id), ticket_id)
        return json.loads(raw) if raw else None

    async def counter_state(self, site: Site, counter_id: str) -> dict[str, Any]:
        counter = _counter(site, counter_id)
        raw = await self.redis.hget(keys.counters(site.id), counter.id)
        data = json.loads(raw) if raw else {"status": domain.OPEN, "ticket": None}
        return {
            "id": counter.id,
            "name": counter.name,
            "status": data["status"],
            "ticket": await self._held(site, data.get("ticket")),
        }

    async def counter_today(self, site: Site, counter_id: str) -> dict[str, Any]:
        """The counter's figures of today so far (the officer console shows them)."""
        counter = _counter(site, counter_id)
        day = self._today(site, self.clock())
        served, no_show, moved, svc_ms = await self.rollups.fields_now(
            site.id,
            day,
            "c",
            [f"{counter.id}|{m}" for m in ("served", "no_show", "transferred_out", "svc_ms")],
        )
        n = served + moved  # segments with a service time
        return {
            "day": day,
            "served": served,
            "no_show": no_show,
            "avg_service_s": round(svc_ms / n / 1000) if n else None,
        }

    async def floor(self, site: Site, per_queue: int = 50) -> dict[str, Any]:
        """What the supervisor's monitor shows: every counter's stored record (status,
        since, officer, held ticket) and the first tickets of every non-empty queue."""
        now = self.clock()
        await self.rollover(site, now=now)
        services = [s.id for s in site.services]
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.seq(site.id))
        pipe.hgetall(keys.counters(site.id))
        for s in services:
            pipe.zrange(keys.queue(site.id, s), 0, per_queue - 1)
            pipe.zcard(keys.queue(site.id, s))
        seq, counters, *queues = await pipe.execute()
        records = {k.decode(): json.loads(v) for k, v in counters.items()}
        wanted = {r["ticket"] for r in records.values() if r.get("ticket")}
        heads: dict[str, tuple[list[str], int]] = {}
        for i, s in enumerate(services):
            ids, size = [m.decode() for m in queues[2 * i]], int(queues[2 * i + 1])
            if size:
                heads[s] = (ids, size)
                wanted.update(ids)
        order = sorted(wanted)
        raws = await self.redis.hmget(keys.tickets(site.id), order) if order else []
        tickets = {i: json.loads(r) for i, r in zip(order, raws, strict=True) if r}
        return {
            "seq": int(seq or 0),
            "counters": records,
            "queues": {
                s: ([tickets[i] for i in ids if i in tickets], size)
                for s, (ids, size) in heads.items()
            },
            "tickets": tickets,
        }

    async def waiting_for(
        self, site: Site, counter_id: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Waiting tickets of a counter's services in the order `next` would call them."""
        counter = _counter(site, counter_id)
        await self.rollover(site)
        pipe = self.redis.pipeline(transaction=False)
        for s in counter.services:
            pipe.zrange(keys.queue(site.id, s), 0, limit - 1, withscores=True)
        heads: list[tuple[float, str]] = []
        for rows in await pipe.execute():
            heads.extend((score, member.decode()) for member, score in rows)
        ids = [member for _, member in sorted(heads)[:limit]]
        if not ids:
            return []
        raws = await self.redis.hmget(keys.tickets(site.id), ids)
        return [json.loads(raw) for raw in raws if raw]

    # -- site ---------------------------------------------------------------------

    async def announce(self, site: Site, text: str, *, idem: Idem | None) -> int:
        result = await self.run("announce", site, idem, ((), [text]))
        return int(result["seq"])

    async def state(self, site: Site) -> dict[str, Any]:
        """The snapshot of spec section 2 (`/state`), with the seq it matches."""
        now = self.clock()
        await self.rollover(site, now=now)  # after midnight, show the new day at once
        today = self._today(site, now)
        k, a = self._common(site, None, now, today)
        services = [s.id for s in site.services]
        k.extend([keys.recent(site.id), keys.issued(site.id, today)])
        k.append(keys.booking_taken(site.id, today))
        k.extend(keys.queue(site.id, s) for s in services)
        a.extend(services)
        raw = await self._eval("state", k, a)
        tickets = raw["tickets"] or {}
        counters = raw["counters"] or {}
        issued = raw["issued"] or {}
        booked = raw["booked"] or {}  # today's bookings not checked in: not for walk-ins
        out_counters = []
        for c in site.counters:
            data = counters.get(c.id) or {"status": domain.OPEN, "ticket": None}
            held = data.get("ticket")
            out_counters.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "status": data["status"],
                    "ticket": tickets.get(held) if held else None,
                }
            )
        recent = raw["recent"] or []
        return {
            "seq": raw["seq"],
            "counters": out_counters,
            "recent_calls": [tickets[i] for i in recent if i in tickets],
            "waiting": {s: int((raw["waiting"] or {}).get(s, 0)) for s in services},
            "quota_left": {
                s.id: max(0, s.daily_quota - int(issued.get(s.id, 0)) - int(booked.get(s.id, 0)))
                for s in site.services
                if s.daily_quota is not None
            },
        }

    # -- rate limits --------------------------------------------------------------

    async def hit(
        self, site_id: str, kind: str, ident: str, limit: int, window_s: int = 60
    ) -> bool:
        """Count one request; False once more than `limit` came in this window."""
        window = int(time.time() // window_s)
        key = keys.rate_limit(site_id, kind, ident, window)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window_s * 2)
        count, _ = await pipe.execute()
        return int(count) <= limit


def _idem_answer(stored: bytes, idem: Idem) -> dict[str, Any]:
    """The first answer stored under an Idempotency-Key, or the refusal of a reuse."""
    body, _, answer = stored.decode().partition("|")
    if body != idem.body:
        return {
            "err": "idempotency_key_reused",
            "message": "This Idempotency-Key was used with another request body.",
        }
    result: dict[str, Any] = json.loads(answer)
    return result


def _checked(result: dict[str, Any]) -> dict[str, Any]:
    """A script's answer, or its refusal raised as the domain exception."""
    err = result.get("err")
    if err:
        raise ERRORS.get(err, Conflict)(str(result.get("message", err)), code=err)
    return result


def _service(site: Site, service_id: object) -> Any:
    service = site.service_by_id.get(service_id) if isinstance(service_id, str) else None
    if service is None:
        raise NotFound(f"Unknown service {service_id!r} at {site.id}.")
    return service


def _counter(site: Site, counter_id: str) -> Any:
    counter = site.counter_by_id.get(counter_id)
    if counter is None:
        raise NotFound(f"Unknown counter {counter_id!r} at {site.id}.")
    return counter
