"""Connecting to the store: the client for a URL (Redis, Cluster, Sentinel) and the
errors a lost or failing store raises. With store.py, eventlog.py and accounts.py, the
only modules that import redis."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

from .errors import LoketError

# What a lost or failing store raises, for callers that must not import redis.
STORE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
# ... and with the domain's own refusals (an unknown site, an unavailable store).
FAILURES: tuple[type[BaseException], ...] = (*STORE_ERRORS, LoketError)


def connect(url: str, *, cluster: bool = False) -> Any:
    """A client for `redis://`, `rediss://`, `unix://` (optionally a Redis Cluster), or
    `redis+sentinel://host:port[,host:port...]/service[/db]` (Sentinel, high availability:
    the client follows the master the sentinels name)."""
    if url.startswith("redis+sentinel://"):
        parts = urlsplit(url)
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("redis+sentinel:// needs the service name: .../mymaster")
        nodes = []
        for node in parts.netloc.rpartition("@")[2].split(","):
            host, _, port = node.rpartition(":")
            nodes.append((host or node, int(port or 26379)))
        password = unquote(parts.password) if parts.password else None
        sentinel = Sentinel(nodes, password=password)
        return sentinel.master_for(
            path[0], db=int(path[1]) if len(path) > 1 else 0, password=password
        )
    if cluster:
        return RedisCluster.from_url(url)
    # A blocking pool waits for a free connection instead of failing when a crowd of
    # displays reconnects at once (redis-py's default pool raises past its maximum).
    pool = BlockingConnectionPool.from_url(
        url, max_connections=256, timeout=10, health_check_interval=30
    )
    return Redis.from_pool(pool)  # the client owns (and closes) its pool


async def disconnect(client: Any) -> None:
    """Close a client from `connect`, with the sentinel clients behind it, if any."""
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()
    await client.aclose()
