"""The API's typed messages: request bodies (validated on the way in by `parse`) and
answers, as msgspec Structs. The OpenAPI document (openapi.py) is generated from these
same types, so what the document says and what the server checks cannot drift apart.

Types check shape only; rules stay in the domain (a score from 1 to 4, a slug, a
service that exists...), which answers 422 or 404 with its own message.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

import msgspec
from msgspec import Struct

from . import measure
from .errors import BadRequest, InvalidField

T = TypeVar("T", bound=Struct)


class Body(Struct, forbid_unknown_fields=True):
    """A request body: unknown fields are refused."""


# -- request bodies ---------------------------------------------------------------------


class NoBody(Body):
    pass


class IssueTicket(Body):
    service: str
    priority: bool = False


class Announcement(Body):
    text: str


class Transfer(Body):
    service: str


class CallTicket(Body):
    ticket: str


class Rating(Body):
    score: int
    answers: dict[str, int] | None = None
    comment: str | None = None


class CounterRating(Body):
    """A rating through the counter's rating tablet: of its last ticket, `number`."""

    score: int
    number: str
    answers: dict[str, int] | None = None
    comment: str | None = None


class Login(Body):
    username: str
    password: str


class ServiceOpen(Body):
    open: bool


class NewUser(Body):
    name: str
    password: str
    role: str
    site: str | None = None
    counters: list[str] | None = None


class UserChange(Body):
    role: str | None = None
    site: str | None = None
    counters: list[str] | None = None


class Password(Body):
    password: str


class NewToken(Body):
    role: str
    name: str
    site: str | None = None
    counters: list[str] | None = None


class NewBooking(Body):
    service: str
    date: str
    session: str
    nik: str
    name: str
    phone: str | None = None


class PhoneTicket(Body):
    service: str


class NewWebhook(Body):
    url: str
    events: list[str]
    site: str | None = None


# -- answers ----------------------------------------------------------------------------


class CounterRef(Struct):
    id: str
    name: str


class Ticket(Struct):
    """A ticket as the API shows it; `id` (a secret) only to staff of its site."""

    number: str
    site: str
    service: str
    agency: str
    status: Literal["waiting", "called", "serving", "done", "no_show", "cancelled"]
    priority: bool
    issued_at: str
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    counter: CounterRef | None
    recalls: int
    transfers: int
    rated: bool
    id: str | msgspec.UnsetType = msgspec.UNSET


class TicketAnswer(Struct):
    ticket: Ticket | None


class PositionAnswer(Struct):
    ticket: Ticket
    position: int | None
    estimated_wait_s: int | None
    estimated_wait_range_s: list[int] | None = None


class CounterState(Struct):
    id: str
    name: str
    status: Literal["open", "paused", "closed"]
    ticket: Ticket | None


class CounterAnswer(Struct):
    counter: CounterState


class ErrorDetail(Struct):
    code: str
    message: str


class Error(Struct):
    error: ErrorDetail


class Duration(Struct):
    mean: float | None
    p50: float | None
    p90: float | None


class Sla(Struct):
    target_wait_min: int | None
    met: int
    n: int
    pct: float | None


class SlaService(Struct):
    target_service_min: int | None
    met: int
    n: int
    pct: float | None


class RatingFigure(Struct):
    n: int
    mean: float | None


class Ikm(Struct):
    n: int
    nrr: dict[str, float | None]
    score: float | None
    category: Literal["A", "B", "C", "D"] | None


# One report row (docs/measurement.md): its counts are measure.COUNTS, whatever they are.
Row = msgspec.defstruct(
    "Row",
    [
        ("key", str),
        ("name", str),
        *((count, int) for count in measure.COUNTS),
        *((duration, Duration) for duration in measure.DURATIONS),
        ("sla", Sla),
        ("sla_service", SlaService),
        ("rating", RatingFigure),
        ("ikm", Ikm),
    ],
)
SiteRow = msgspec.defstruct(
    "SiteRow",
    [
        ("counters", int),
        ("counter_hours_open", float),
        ("served_per_counter_hour", float | None),
    ],
    bases=(Row,),
)


class Report(Struct, rename={"first": "from", "last": "to"}):
    site: str
    first: str
    last: str
    by: str
    rows: list[Row]  # type: ignore[valid-type]
    total: Row  # type: ignore[valid-type]


class Evaluation(Struct, rename={"first": "from", "last": "to"}):
    first: str
    last: str
    sites: list[SiteRow]  # type: ignore[valid-type]


class Config(Struct):
    """The whole site configuration in the TOML schema (docs/configuration.md)."""

    site: dict[str, Any]
    agencies: list[dict[str, Any]]
    services: list[dict[str, Any]]
    counters: list[dict[str, Any]]
    displays: list[dict[str, Any]] = []
    version: int | msgspec.UnsetType = msgspec.UNSET


class User(Struct):
    name: str
    role: str
    site: str | None
    counters: list[str]


class UserAnswer(Struct):
    user: User


class Users(Struct):
    users: list[User]


class Token(Struct):
    id: str
    name: str
    role: str
    site: str | None
    created_at: str | None = None
    last_used_at: str | None = None
    token: str | msgspec.UnsetType = msgspec.UNSET  # only in the answer to its creation


class Tokens(Struct):
    tokens: list[Token]


class AuditEntry(Struct):
    at: str
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class Audit(Struct):
    entries: list[AuditEntry]
    site: str | None = None


class Booking(Struct):
    """A booking as its holder sees it; the NIK masked (`**** **** **** 1234`)."""

    id: str
    code: str
    service: str
    date: str
    session: str
    status: Literal["booked", "checked_in", "cancelled", "expired"]
    nik: str | None = None


class BookingAnswer(Struct):
    booking: Booking


class WebhookCreated(Struct):
    id: str
    secret: str


Document = dict[str, Any]  # an answer documented only as an object


# -- parsing ----------------------------------------------------------------------------

_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r"^(.*) - at `\$\.?([^`]*)`$")


def decode(raw: bytes, model: type[T]) -> T:
    """A request body as `model`: 400 `malformed_json` if it is not JSON (or not text),
    400 `invalid_field` naming the field when its shape is wrong."""
    try:
        return msgspec.json.decode(raw.strip() or b"{}", type=model)
    except msgspec.ValidationError as exc:
        raise _invalid(str(exc)) from None
    except msgspec.DecodeError:
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from None


def _invalid(text: str) -> BadRequest:
    if match := _UNKNOWN.search(text):
        return InvalidField(match[1], "unknown field")
    if match := _MISSING.search(text):
        return InvalidField(match[1], "is required")
    if match := _AT.match(text):
        field = match[2].replace("[...]", "") or "body"
        return InvalidField(field, match[1].replace("`", "").lower().replace("expected", "must be"))
    if "Expected `object`" in text:
        return BadRequest("The body must be a JSON object.", code="malformed_json")
    return InvalidField("body", text)


def as_dict(value: Struct) -> dict[str, Any]:
    """A decoded body as a dict of the fields it has (absent optional fields left out)."""
    return {k: v for k, v in msgspec.structs.asdict(value).items() if v is not None}
