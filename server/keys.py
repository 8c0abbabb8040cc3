"""Every Redis key Loket uses, built in one place.

A site's keys carry the site id in a hash tag (`loket:{bogor}:...`), so all of one
site's keys live in one Redis Cluster slot and one Lua script may touch them together.
Accounts, tokens and sessions share the `{auth}` tag, so their multi-key transactions
stay in one slot too; the site list is a single key.
"""

from __future__ import annotations

PREFIX = "loket"

# -- global -------------------------------------------------------------------------


def sites() -> str:
    """Set of site ids."""
    return f"{PREFIX}:sites"


def user(username: str) -> str:
    """String: JSON account (role, site, counters, password hash)."""
    return f"{PREFIX}:{{auth}}:user:{username}"


def users() -> str:
    """Set of usernames."""
    return f"{PREFIX}:{{auth}}:users"


def token(digest: str) -> str:
    """String: JSON principal of a bearer token, keyed by the token's SHA-256."""
    return f"{PREFIX}:{{auth}}:token:{digest}"


def tokens() -> str:
    """Set of token digests (for listing and revocation)."""
    return f"{PREFIX}:{{auth}}:tokens"


def session(digest: str) -> str:
    """String with TTL: JSON principal of a login session, keyed by SHA-256."""
    return f"{PREFIX}:{{auth}}:session:{digest}"


# -- per site -----------------------------------------------------------------------


def _site(site: str) -> str:
    return f"{PREFIX}:{{{site}}}"


def config(site: str) -> str:
    """String: the site's configuration as JSON."""
    return f"{_site(site)}:config"


def seq(site: str) -> str:
    """Integer: seq of the site's last event."""
    return f"{_site(site)}:seq"


def events(site: str) -> str:
    """Stream: the site's event log; entry id `<seq>-0`, field `e` = event JSON."""
    return f"{_site(site)}:events"


def day(site: str) -> str:
    """String: the current service day, `YYYY-MM-DD` in the site's timezone."""
    return f"{_site(site)}:day"


def tickets(site: str) -> str:
    """Hash: ticket id -> ticket JSON."""
    return f"{_site(site)}:tickets"


def counters(site: str) -> str:
    """Hash: counter id -> `{"status", "ticket"}` JSON."""
    return f"{_site(site)}:counters"


def queue(site: str, service: str) -> str:
    """Sorted set: waiting ticket ids of one service, scored priority first then age."""
    return f"{_site(site)}:queue:{service}"


def numbers(site: str, day: str) -> str:
    """Hash: prefix -> last number issued that service day."""
    return f"{_site(site)}:numbers:{day}"


def issued(site: str, day: str) -> str:
    """Hash: service -> tickets issued that service day (quotas)."""
    return f"{_site(site)}:issued:{day}"


def day_tickets(site: str, day: str) -> str:
    """List: ids of the tickets issued that service day, in order (reports)."""
    return f"{_site(site)}:day_tickets:{day}"


def days(site: str) -> str:
    """Set: the service days that still have tickets stored (retention)."""
    return f"{_site(site)}:days"


def stats(site: str, day: str) -> str:
    """Hash: counters of the day, e.g. `served:counter:loket-5`, `service_ms:counter:...`."""
    return f"{_site(site)}:stats:{day}"


def recent(site: str) -> str:
    """List: ids of the last calls, newest first."""
    return f"{_site(site)}:recent"


def service_times(site: str) -> str:
    """Hash: service -> comma list of its latest service durations in seconds."""
    return f"{_site(site)}:service_times"


def ratings(site: str) -> str:
    """Hash: ticket id -> rating JSON (score, answers, comment, counter, officer, day)."""
    return f"{_site(site)}:ratings"


def idempotency(site: str, digest: str) -> str:
    """String with TTL: the first answer to a request with an Idempotency-Key."""
    return f"{_site(site)}:idem:{digest}"


def rate_limit(site: str, kind: str, ident: str, window: int) -> str:
    """Integer with TTL: requests of one client in one time window."""
    return f"{_site(site)}:rate:{kind}:{ident}:{window}"
