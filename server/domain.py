"""The rules of the queue, pure: no I/O, no Redis, no clock of its own.

The Lua scripts enforce these rules atomically in Redis; this module states them for
Python (validation, numbering, ordering, views) and is the reference the tests model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

SLUG: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
PREFIX: Final = re.compile(r"[A-Z]{1,2}")
TICKET_ID: Final = re.compile(r"[A-Za-z0-9_-]{22}")

WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED = (
    "waiting",
    "called",
    "serving",
    "done",
    "no_show",
    "cancelled",
)
STATUSES: Final = (WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED)
HELD: Final = frozenset({CALLED, SERVING})

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
COUNTER_STATUSES: Final = (OPEN, PAUSED, CLOSED)

# action -> (statuses it may start from, status it leads to); spec section 1.
# "call" from no_show is only for a latecomer of the same service day.
TRANSITIONS: Final[Mapping[str, tuple[frozenset[str], str]]] = {
    "call": (frozenset({WAITING, NO_SHOW}), CALLED),
    "recall": (frozenset({CALLED}), CALLED),
    "start": (frozenset({CALLED}), SERVING),
    "finish": (frozenset({CALLED, SERVING}), DONE),
    "no_show": (frozenset({CALLED}), NO_SHOW),
    "transfer": (frozenset({CALLED, SERVING}), WAITING),
    "cancel": (frozenset({WAITING}), CANCELLED),
}

# counter action -> (statuses it may start from, status it leads to, event type)
COUNTER_ACTIONS: Final[Mapping[str, tuple[frozenset[str], str, str]]] = {
    "pause": (frozenset({OPEN}), PAUSED, "counter.paused"),
    "resume": (frozenset({PAUSED}), OPEN, "counter.resumed"),
    "close": (frozenset({OPEN, PAUSED}), CLOSED, "counter.closed"),
    "open": (frozenset({CLOSED}), OPEN, "counter.opened"),
}

EVENT_TYPES: Final = (
    "ticket.issued",
    "ticket.called",
    "ticket.recalled",
    "ticket.started",
    "ticket.finished",
    "ticket.no_show",
    "ticket.transferred",
    "ticket.cancelled",
    "ticket.rated",
    "ticket.reverted",
    "counter.opened",
    "counter.paused",
    "counter.resumed",
    "counter.closed",
    "site.day_reset",
    "site.config_changed",
    "site.announcement",
)

# How long after a next, no-show or transfer the counter may undo it (lua/undo.lua): a
# mis-click is noticed at once; later, what happened stands.
UNDO_WINDOW_S: Final = 10

# Priority tickets sort before all others; then the oldest. "Oldest" is the issue order
# at the store (the seq of the ticket.issued event), which is issued_at order without
# ties or clock skew between processes; a transfer keeps it. lua/_lib.lua, queue_score.
PRIORITY_OFFSET: Final = 2**50


def queue_score(priority: bool, order: int) -> int:
    return order if priority else PRIORITY_OFFSET + order


def format_number(prefix: str, n: int) -> str:
    """`A` and 12 -> `A012`; past 999 the number simply grows (`A1000`)."""
    return f"{prefix}{n:03d}"


def service_day(now: datetime, timezone: str) -> str:
    """The service day of an instant: the date at the site, as `YYYY-MM-DD`."""
    return now.astimezone(ZoneInfo(timezone)).date().isoformat()


def local_iso(now: datetime, timezone: str) -> str:
    """An instant as ISO 8601 with the site's offset, to the second."""
    return now.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def is_slug(value: object) -> bool:
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def is_ticket_id(value: object) -> bool:
    return isinstance(value, str) and TICKET_ID.fullmatch(value) is not None


TICKET_FIELDS: Final = (
    "id",
    "number",
    "site",
    "service",
    "agency",
    "status",
    "priority",
    "issued_at",
    "called_at",
    "started_at",
    "finished_at",
    "counter",
    "recalls",
    "transfers",
    "rated",
)


def ticket_view(ticket: Mapping[str, Any], *, with_id: bool) -> dict[str, Any]:
    """The ticket as the API shows it: no internal `_` fields, `id` only for staff."""
    fields = TICKET_FIELDS if with_id else TICKET_FIELDS[1:]
    return {k: ticket.get(k) for k in fields}


def announcement(template: str, number: str, counter: str, service: str) -> str:
    return (
        template.replace("{number}", number)
        .replace("{counter}", counter)
        .replace("{service}", service)
    )


def optional_ticket_view(
    ticket: Mapping[str, Any] | None, *, with_id: bool
) -> dict[str, Any] | None:
    return None if ticket is None else ticket_view(ticket, with_id=with_id)


def event_view(event: Mapping[str, Any], *, with_id: bool) -> dict[str, Any]:
    """An event as clients see it: its ticket as `ticket_view` shows it."""
    if event.get("ticket"):
        return {**event, "ticket": ticket_view(event["ticket"], with_id=with_id)}
    return dict(event)


def state_view(state: Mapping[str, Any], *, with_id: bool) -> dict[str, Any]:
    """The `/state` answer (or snapshot) with its tickets as `ticket_view` shows them."""
    return {
        **state,
        "counters": [
            {**c, "ticket": optional_ticket_view(c["ticket"], with_id=with_id)}
            for c in state["counters"]
        ],
        "recent_calls": [optional_ticket_view(t, with_id=with_id) for t in state["recent_calls"]],
    }
