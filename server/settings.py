"""Runtime settings: from the command line and the environment, in one dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .store import Clock, utc_now

DEFAULT_DATA_DIR = Path("loket-data")


@dataclass
class Settings:
    redis_url: str
    admin_token: str
    data_dir: Path = DEFAULT_DATA_DIR
    redis_cluster: bool = False
    clock: Clock = field(default=utc_now)
    max_body_bytes: int = 64 * 1024
    session_ttl_s: int = 12 * 3600
    credential_cache_s: float = 5.0
    idempotency_ttl_s: int = 600
    event_log_len: int = 20_000
    ticket_retention_days: int = 35  # tickets of older service days are forgotten
    ws_queue_len: int = 256  # events buffered per websocket before it is dropped
    ws_heartbeat_s: float = 15.0  # a heartbeat frame to every websocket this often
    login_rate_per_minute: int = 20  # failed logins per client address
    public_events_per_minute: int = 120  # public reads of /events per client address
    # Connection limits (guard.py): a request's headers must arrive within this time,
    # and one client address holds at most this many connections (trusted proxies exempt)
    header_timeout_s: float = 10.0
    max_connections_per_client: int = 200
    ws_max_frame_bytes: int = 4096  # a bigger frame from a client closes its socket (1009)
    # Confirm each change on this many replicas (WAIT) before answering it, waiting at
    # most the timeout (503 past it): docs/scaling.md, "When a shard fails over"
    redis_wait_replicas: int = field(
        default_factory=lambda: int(os.environ.get("LOKET_REDIS_WAIT_REPLICAS") or 0)
    )
    redis_wait_timeout_ms: int = field(
        default_factory=lambda: int(os.environ.get("LOKET_REDIS_WAIT_TIMEOUT_MS") or 1000)
    )
    store_ping_timeout_s: float = 1.0  # /readyz answers 503 past this
    store_restart_check_s: float = 0.5  # how often `loket serve` checks its embedded store
    # the garbage collector's thresholds for this process (None: Python's defaults)
    gc_threshold: tuple[int, int, int] | None = (20_000, 50, 20)
    # bookings and webhooks (docs/bookings.md, docs/notifications.md)
    # (read from the environment by every process, however `loket serve` starts it)
    nik_key: str = field(default_factory=lambda: os.environ.get("LOKET_NIK_KEY", ""))
    booking_check_s: float = 30.0  # how often ended sessions' bookings are expired
    # the first retry of a webhook delivery after this, doubling each time
    webhook_backoff_s: float = field(
        default_factory=lambda: float(os.environ.get("LOKET_WEBHOOK_BACKOFF_S") or 10.0)
    )
    webhook_backoff_max_s: float = 3600.0  # ... up to this between two attempts
    webhook_give_up_s: float = 24 * 3600.0  # a delivery is retried this long
    webhook_claim_idle_s: float = 60.0  # a delivery held this long by a dead process is taken
    webhook_timeout_s: float = 10.0  # one attempt's HTTP timeout

    @classmethod
    def from_env(cls) -> Settings:
        """What `loket serve` hands each worker process through the environment."""
        url = os.environ.get("LOKET_REDIS_URL")
        token = os.environ.get("LOKET_ADMIN_TOKEN")
        if not url or not token:
            raise RuntimeError("LOKET_REDIS_URL and LOKET_ADMIN_TOKEN must be set")
        return cls(
            redis_url=url,
            admin_token=token,
            data_dir=Path(os.environ.get("LOKET_DATA_DIR", str(DEFAULT_DATA_DIR))),
            redis_cluster=os.environ.get("LOKET_REDIS_CLUSTER", "") == "1",
        )
