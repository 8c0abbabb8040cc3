"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`.

Every request and answer schema is generated (msgspec) from the typed messages in
schemas.py — the same types that validate the requests — so the document cannot drift
from the code. This module only lists the paths: summary, roles, errors, parameters.
A test checks that it lists exactly the routes the server serves, and validates it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import measure, schemas

Schema = dict[str, Any] | type
REF = "#/components/schemas/{name}"
PATH_PARAMETER = re.compile(r"{(\w+)}")
OBJECT: dict[str, Any] = {"type": "object"}


class _Doc:
    """Collects the operations and the typed models they use."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.models: list[type] = [schemas.Error]

    def ref(self, schema: Schema) -> dict[str, Any]:
        if isinstance(schema, dict):
            return schema
        if schema not in self.models:
            self.models.append(schema)
        return {"$ref": REF.format(name=schema.__name__)}

    def op(
        self,
        method: str,
        path: str,
        summary: str,
        ok: Schema,
        *errors: int,
        body: Schema | None = None,
        status: int = 200,
        public: bool = False,
        query: tuple[dict[str, Any], ...] = (),
        headers: tuple[dict[str, Any], ...] = (),
        media: tuple[str, ...] = (),
    ) -> None:
        error = {"application/json": {"schema": self.ref(schemas.Error)}}
        op: dict[str, Any] = {
            "summary": summary,
            "parameters": [
                *(
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in PATH_PARAMETER.findall(path)
                ),
                *query,
                *headers,
                *([IDEMPOTENCY_KEY] if method in ("post", "put", "patch", "delete") else []),
            ],
            "responses": {
                str(status): {
                    "description": "ok",
                    "content": {
                        "application/json": {"schema": self.ref(ok)},
                        **{m: {"schema": {"type": "string"}} for m in media},
                    },
                },
                **{str(c): {"description": "error", "content": error} for c in errors},
            },
        }
        if body is not None:
            op["requestBody"] = {
                "required": body is not schemas.NoBody,
                "content": {"application/json": {"schema": self.ref(body)}},
            }
        if public:
            op["security"] = [{}, {"bearer": []}]
        self.paths.setdefault(path, {})[method] = op

    def components(self) -> dict[str, Any]:
        _, found = msgspec.json.schema_components(self.models, ref_template=REF)
        return dict(sorted(found.items()))


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


TEXT = {"type": "string"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "a repeat within ten minutes answers as the first (same body) or 422",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": TEXT,
    "description": "the version the change is based on (GET .../config answers it)",
}
PERIOD = (
    _query("from", {"type": "string", "format": "date"}),
    _query("to", {"type": "string", "format": "date"}),
)
FORMAT = _query("format", {"enum": ["json", "csv", "xlsx"]})
EXPORTS = (
    "text/csv; charset=utf-8",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
BY = _query("by", {"enum": list(measure.DIMENSIONS)})
TICKET_ACTIONS = ("next", "recall", "start", "finish", "no-show")
# The error statuses operations share
ACTING = (400, 401, 403, 404, 409, 422)  # a staff write the domain may refuse
WRITING = (400, 401, 403, 404, 422)  # a staff write of a record
BY_ID = (400, 404, 409, 422)  # a write by a secret id (ticket, booking)
READING = (401, 403, 404)  # a staff read
COUNTER_STATUS_ACTIONS = ("pause", "resume", "close", "open")


def _core(d: _Doc, site: str, counter: str) -> None:
    d.op("get", "/api/v1/sites", "List sites", OBJECT, public=True)
    d.op("get", site, "Site configuration (public part)", OBJECT, 401, 404, public=True)
    d.op("get", f"{site}/state", "Live state with its seq", OBJECT, 401, 404, public=True)
    d.op(
        "get",
        f"{site}/events",
        "Events after ?since=SEQ, a page of at most `limit`",
        OBJECT,
        400,
        401,
        404,
        429,
        public=True,
        query=(
            _query("since", {"type": "integer", "minimum": 0}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
        ),
    )
    d.op(
        "post",
        f"{site}/tickets",
        "Issue a ticket",
        schemas.PositionAnswer,
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        429,
        body=schemas.IssueTicket,
        status=201,
    )
    d.op(
        "get",
        f"{site}/tickets/{{ticket}}",
        "A ticket by its secret id",
        schemas.PositionAnswer,
        404,
        public=True,
    )
    d.op(
        "post",
        f"{site}/tickets/{{ticket}}/cancel",
        "Cancel a waiting ticket",
        schemas.TicketAnswer,
        *BY_ID,
        body=schemas.NoBody,
        public=True,
    )
    d.op(
        "post",
        f"{site}/tickets/{{ticket}}/rating",
        "Rate a finished ticket, once",
        schemas.TicketAnswer,
        *BY_ID,
        body=schemas.Rating,
        status=201,
        public=True,
    )
    d.op(
        "post",
        f"{site}/announcements",
        "Free text for the lobby screens",
        OBJECT,
        *WRITING,
        body=schemas.Announcement,
        status=201,
    )
    d.op("get", counter, "Counter state and today's figures", OBJECT, 401, 403, 404)
    d.op("get", f"{counter}/waiting", "Waiting tickets in call order", OBJECT, 401, 403, 404)
    for action in TICKET_ACTIONS:
        d.op(
            "post",
            f"{counter}/{action}",
            f"Counter {action}",
            schemas.TicketAnswer,
            *ACTING,
            body=schemas.NoBody,
        )
    d.op(
        "post",
        f"{counter}/transfer",
        "Transfer the held ticket",
        schemas.TicketAnswer,
        *ACTING,
        body=schemas.Transfer,
    )
    d.op(
        "post",
        f"{counter}/call",
        "Call a ticket out of turn",
        schemas.TicketAnswer,
        *ACTING,
        body=schemas.CallTicket,
    )
    d.op(
        "post",
        f"{counter}/undo",
        "Undo the counter's last next, no-show or transfer (within 10 s; 409 undo_expired)",
        OBJECT,
        *ACTING,
        body=schemas.NoBody,
    )
    d.op(
        "post",
        f"{counter}/rating",
        "Rate the ticket the counter finished last (its rating tablet)",
        schemas.TicketAnswer,
        *ACTING,
        body=schemas.CounterRating,
        status=201,
    )
    for action in COUNTER_STATUS_ACTIONS:
        d.op(
            "post",
            f"{counter}/{action}",
            f"Counter {action}",
            schemas.CounterAnswer,
            *ACTING,
            body=schemas.NoBody,
        )
    d.op(
        "post",
        "/api/v1/auth/login",
        "Log in",
        OBJECT,
        400,
        401,
        429,
        body=schemas.Login,
        public=True,
    )
    d.op("post", "/api/v1/auth/logout", "Log out", OBJECT, public=True)
    d.op("get", "/api/v1/auth/me", "Who am I", OBJECT, 401)


def _figures(d: _Doc, site: str) -> None:
    d.op(
        "get",
        f"{site}/reports",
        "Figures of a site by a cut (json, csv or xlsx): docs/measurement.md",
        schemas.Report,
        400,
        401,
        403,
        404,
        query=(*PERIOD, BY, FORMAT),
        media=EXPORTS,
    )
    d.op(
        "get",
        "/api/v1/evaluation",
        "Every site side by side on the same figures",
        schemas.Evaluation,
        400,
        401,
        403,
        query=(*PERIOD, FORMAT),
        media=EXPORTS,
    )
    d.op(
        "get", f"{site}/monitor", "The live floor: counters, queues, alerts", OBJECT, 401, 403, 404
    )
    d.op("get", f"{site}/ikm", "This month's IKM (public)", OBJECT, 401, 404, public=True)
    d.op("get", "/api/v1/survey", "The nine survey elements", OBJECT, public=True)


def _admin(d: _Doc, site: str) -> None:
    d.op(
        "get", f"{site}/config", "The configuration with its version", schemas.Config, 401, 403, 404
    )
    d.op(
        "put",
        f"{site}/config",
        "Replace the configuration (If-Match: version)",
        schemas.Config,
        400,
        401,
        403,
        404,
        412,
        413,
        422,
        428,
        body=schemas.Config,
        headers=(IF_MATCH,),
    )
    d.op(
        "post",
        "/api/v1/sites",
        "Create a site",
        schemas.Config,
        400,
        401,
        403,
        409,
        413,
        422,
        body=schemas.Config,
        status=201,
    )
    d.op(
        "patch",
        f"{site}/services/{{service}}",
        "Open or close a service",
        OBJECT,
        *WRITING,
        body=schemas.ServiceOpen,
    )
    d.op("get", "/api/v1/users", "Accounts", schemas.Users, 401, 403)
    d.op(
        "post",
        "/api/v1/users",
        "Create an account",
        schemas.UserAnswer,
        400,
        401,
        403,
        409,
        422,
        body=schemas.NewUser,
        status=201,
    )
    d.op(
        "patch",
        "/api/v1/users/{name}",
        "Change an account (ends its sessions)",
        schemas.UserAnswer,
        *WRITING,
        body=schemas.UserChange,
    )
    d.op(
        "delete",
        "/api/v1/users/{name}",
        "Remove an account (ends its sessions)",
        OBJECT,
        *READING,
    )
    d.op(
        "post",
        "/api/v1/users/{name}/password",
        "Reset a password (ends its sessions)",
        schemas.UserAnswer,
        *WRITING,
        body=schemas.Password,
    )
    d.op(
        "get",
        "/api/v1/tokens",
        "Device and script tokens",
        schemas.Tokens,
        401,
        403,
        query=(_query("site", TEXT),),
    )
    d.op(
        "post",
        "/api/v1/tokens",
        "Create a token (shown only in this answer)",
        schemas.Token,
        400,
        401,
        403,
        422,
        body=schemas.NewToken,
        status=201,
    )
    d.op(
        "delete",
        "/api/v1/tokens/{id}",
        "Revoke a token (refused everywhere within 5 s)",
        OBJECT,
        *READING,
    )
    d.op(
        "get",
        "/api/v1/audit",
        "The audit log, newest first",
        schemas.Audit,
        400,
        401,
        403,
        404,
        query=(
            _query("site", TEXT),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
        ),
    )


def _bookings(d: _Doc, site: str) -> None:
    hook = "/api/v1/webhooks"
    d.op(
        "get",
        f"{site}/services/{{service}}/slots",
        "Booking sessions of a date, places left",
        OBJECT,
        400,
        404,
        409,
        public=True,
        query=(_query("date", TEXT, True),),
    )
    d.op(
        "post",
        f"{site}/bookings",
        "Book a session (one per NIK, service and day)",
        schemas.BookingAnswer,
        400,
        404,
        409,
        422,
        429,
        body=schemas.NewBooking,
        status=201,
        public=True,
    )
    d.op(
        "get",
        f"{site}/bookings/{{booking}}",
        "A booking by its secret id",
        schemas.BookingAnswer,
        404,
        public=True,
    )
    d.op(
        "post",
        f"{site}/bookings/{{booking}}/cancel",
        "Cancel a booking",
        schemas.BookingAnswer,
        *BY_ID,
        body=schemas.NoBody,
        public=True,
    )
    d.op(
        "post",
        f"{site}/bookings/{{code}}/check-in",
        "Check a booking in at the kiosk: it becomes a waiting ticket",
        OBJECT,
        *ACTING,
        body=schemas.NoBody,
        status=201,
    )
    d.op(
        "post",
        f"{site}/phone-tickets",
        "A ticket from a visitor's phone (remote_ticket)",
        schemas.PositionAnswer,
        400,
        403,
        404,
        409,
        422,
        429,
        body=schemas.PhoneTicket,
        status=201,
        public=True,
    )
    d.op(
        "post",
        hook,
        "Add a webhook; its secret is shown once",
        schemas.WebhookCreated,
        *WRITING,
        body=schemas.NewWebhook,
        status=201,
    )
    d.op("get", hook, "List webhooks", OBJECT, 401, 403)
    d.op("delete", f"{hook}/{{webhook}}", "Remove a webhook", OBJECT, 401, 403, 404)
    d.op(
        "get",
        f"{hook}/{{webhook}}/deliveries",
        "A webhook's latest delivery attempts",
        OBJECT,
        *READING,
    )


def document() -> dict[str, Any]:
    site = "/api/v1/sites/{site}"
    d = _Doc()
    _core(d, site, f"{site}/counters/{{counter}}")
    _figures(d, site)
    _admin(d, site)
    _bookings(d, site)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Loket API",
            "version": "1",
            "description": "Counter call-display system for public service malls (docs/api.md)",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": d.paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": d.components(),
        },
    }


async def endpoint(request: Request) -> Response:
    return JSONResponse(document())
