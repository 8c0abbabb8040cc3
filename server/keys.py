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


def token_used() -> str:
    """Hash: token digest -> when it was last used (ISO 8601 UTC), written at most once a
    minute per token and process (auth.Authenticator)."""
    return f"{PREFIX}:{{auth}}:token_used"


def audit_global() -> str:
    """Stream: audit entries of changes that belong to no site (admin and evaluator
    accounts, tokens of every site); field `e` = entry JSON; trimmed by age (audit.py)."""
    return f"{PREFIX}:{{auth}}:audit"


def session(digest: str) -> str:
    """String with TTL: JSON principal of a login session, keyed by SHA-256."""
    return f"{PREFIX}:{{auth}}:session:{digest}"


def user_sessions(username: str) -> str:
    """Set with TTL: digests of one user's login sessions (ended together when the
    account changes or goes); lives as long as the user's newest session."""
    return f"{PREFIX}:{{auth}}:user_sessions:{username}"


def login_failures(username: str, window: int) -> str:
    """Integer with TTL: failed logins for one username in one time window."""
    return f"{PREFIX}:{{auth}}:login_failures:{username}:{window}"


def login_failures_from(address: str, window: int) -> str:
    """Integer with TTL: failed logins from one client address in one time window."""
    return f"{PREFIX}:{{auth}}:login_failures_from:{address}:{window}"


# -- per site -----------------------------------------------------------------------


def _site(site: str) -> str:
    return f"{PREFIX}:{{{site}}}"


def config(site: str) -> str:
    """String: the site's configuration as JSON."""
    return f"{_site(site)}:config"


def config_version(site: str) -> str:
    """Integer: the version of the site's configuration, bumped by every load
    (lua/config_load.lua); `If-Match` of the admin API compares with it."""
    return f"{_site(site)}:config_version"


def audit(site: str) -> str:
    """Stream: the site's audit log (who changed what); field `e` = entry JSON; trimmed
    by age to the retention (audit.py)."""
    return f"{_site(site)}:audit"


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


def undo(site: str) -> str:
    """Hash: counter id -> what its last next, no-show or transfer did (JSON, for
    lua/undo.lua); any other change of the counter deletes it. Kept apart from the
    counter record, which every action reads and writes. lua/_lib.lua builds the same
    name from the counters key."""
    return f"{counters(site)}:undo"


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


def services(site: str) -> str:
    """Hash: service id -> JSON `{"open", "w", "s"}` (open flag, target wait and target
    service minutes or null), written with the configuration; the scripts read it, so a
    closed service or a changed target takes effect in the same step as the change."""
    return f"{_site(site)}:services"


def rollups(site: str) -> str:
    """Prefix of the figures' rollup hashes (docs/measurement.md). The hash of one period
    (a service day `YYYY-MM-DD` or a month `YYYY-MM`) and one dimension (`s` site, `a`
    agency, `v` service, `c` counter, `o` officer, `h` hour, `b` booking session) is
    `<prefix><period>:<dim>`,
    fields `<unit id>|<metric>`; lua/_lib.lua builds the same names from this prefix."""
    return f"{_site(site)}:roll:"


def rollup(site: str, period: str, dim: str) -> str:
    """Hash: the figures of one period and dimension (see `rollups`)."""
    return f"{rollups(site)}{period}:{dim}"


def rollups_folded(site: str) -> str:
    """Set: the service days already added into their month's rollup hashes (fold.lua);
    lua/_lib.lua builds the same name from the prefix."""
    return f"{rollups(site)}folded"


def rollup_journal(site: str) -> str:
    """List: the figures the scripts added and the rollup hashes do not hold yet, one
    entry per script (`<n> <JSON [[day, {dim: unit}, {metric: n}], ...]>`, n unique from
    the counter `<this key>:n`); rollups.py `settle` moves them into the hashes.
    lua/_lib.lua builds the same names from the prefix."""
    return f"{rollups(site)}journal"


def rollup_archive(site: str, day: str, dim: str) -> str:
    """String: an old day's rollup hash of one dimension, compressed (zlib of its JSON);
    read together with the hash of the same name, which late figures may recreate."""
    return f"{rollups(site)}{day}:{dim}:z"


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


def epoch(site: str) -> str:
    """String: a random id of the site's event log, made when first read; a new one
    means the log (and its seqs) started over, so a client's `since` means nothing."""
    return f"{_site(site)}:epoch"


def fence(site: str) -> str:
    """String with TTL: written before a `WAIT` (Store.replicated, with
    --redis-wait-replicas) so that the WAIT covers everything the same connection read
    or wrote of the site before it; its value means nothing."""
    return f"{_site(site)}:fence"


# -- bookings (booking_store.py; lua/book.lua, check_in.lua, booking_*.lua) ------------


def bookings(site: str) -> str:
    """Hash: booking id (a secret) -> booking JSON (status, service, date, session, the
    NIK's keyed hash and last 4 digits, name, phone, ticket)."""
    return f"{_site(site)}:bookings"


def booking_codes(site: str) -> str:
    """Hash: booking code (what the QR code and the kiosk carry) -> booking id."""
    return f"{_site(site)}:booking_codes"


def booking_taken_prefix(site: str) -> str:
    """Prefix of the `booking_taken` hashes, the date appended (lua/booking_expire.lua
    builds a booking's from it)."""
    return f"{_site(site)}:booking_taken:"


def booking_taken(site: str, day: str) -> str:
    """Hash with an expiry: `<service>|<session>` and `<service>|*` -> bookings of one date
    made and not cancelled (the session quotas and the day's cap of book.lua);
    `<service>|booked` -> those still `booked` (not checked in, cancelled or expired), the
    places walk-ins may not take (issue.lua). Expires with the personal data of that
    date."""
    return f"{booking_taken_prefix(site)}{day}"


def booking_niks(site: str, day: str) -> str:
    """Hash with an expiry: `<service>|<NIK hash>` -> booking id of one date (one booking
    per NIK per service per day)."""
    return f"{_site(site)}:booking_niks:{day}"


def booking_ends(site: str) -> str:
    """Sorted set: ids of bookings still `booked`, scored by their session's end (epoch
    ms): they expire then."""
    return f"{_site(site)}:booking_ends"


def booking_purge(site: str) -> str:
    """Sorted set: booking ids scored by when their personal data is deleted (epoch ms)."""
    return f"{_site(site)}:booking_purge"


def installation_fingerprint() -> str:
    """String: a fingerprint of the installation's NIK key (HMAC of a fixed text), set
    once: a process with another key refuses bookings instead of hashing differently."""
    return f"{PREFIX}:{{bookings}}:nik_key_fingerprint"


# -- webhooks (webhooks.py); one hash tag, so their transactions stay in one slot -------


def webhooks() -> str:
    """Hash: webhook id -> JSON (url, events, site, secret, created_at, from seqs)."""
    return f"{PREFIX}:{{hooks}}:webhooks"


def webhook_queue() -> str:
    """Stream: deliveries ready to send (consumer group `senders`); field `d` = JSON
    (delivery id, webhook, event type, body, attempt, first try)."""
    return f"{PREFIX}:{{hooks}}:queue"


def webhook_retry() -> str:
    """Sorted set: deliveries waiting for their next attempt (JSON), scored by when
    (epoch ms); moved back into the queue when due (lua/webhook_due.lua)."""
    return f"{PREFIX}:{{hooks}}:retry"


def webhook_log(webhook: str) -> str:
    """List: the latest delivery attempts of a webhook, newest first (JSON)."""
    return f"{PREFIX}:{{hooks}}:log:{webhook}"


def webhook_cursor(site: str) -> str:
    """Integer: the seq up to which a site's events were turned into deliveries."""
    return f"{PREFIX}:{{hooks}}:cursor:{site}"


def webhook_near(site: str, day: str) -> str:
    """Set with an expiry: ticket ids whose ticket.near was sent (once per ticket)."""
    return f"{PREFIX}:{{hooks}}:near:{site}:{day}"
