"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import measure

ERROR = {"$ref": "#/components/schemas/Error"}
TICKET = {"$ref": "#/components/schemas/Ticket"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for c in codes
    }


def _op(
    summary: str,
    ok: dict[str, Any],
    *errors: int,
    body: dict[str, Any] | None = None,
    status: int = 200,
    secured: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(status): {"description": "ok", "content": {"application/json": {"schema": ok}}},
            **_errors(*errors),
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if not secured:
        op["security"] = []
    return op


def _obj(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": False,
    }


TICKET_ANSWER = _obj({"ticket": {"oneOf": [TICKET, {"type": "null"}]}}, ("ticket",))
POSITION_ANSWER = _obj(
    {
        "ticket": TICKET,
        "position": {"type": ["integer", "null"]},
        "estimated_wait_s": {"type": ["integer", "null"]},
        "estimated_wait_range_s": {
            "oneOf": [
                {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                {"type": "null"},
            ]
        },
    }
)
COUNTER_ANSWER = _obj({"counter": {"$ref": "#/components/schemas/Counter"}})
IDEM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
}


RATING = _obj(
    {
        "score": {"type": "integer", "minimum": 1, "maximum": 4},
        "answers": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 4},
        },
        "comment": {"type": "string", "maxLength": 500},
    },
    ("score",),
)
PERIOD = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
    for name in ("from", "to")
]
BY = {
    "name": "by",
    "in": "query",
    "required": False,
    "schema": {"enum": ["site", "agency", "service", "counter", "officer", "day", "hour"]},
}
FORMAT = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"enum": ["json", "csv", "xlsx"]},
}
REPORT = _obj(
    {
        "site": {"type": "string"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "by": {"type": "string"},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
        "total": {"$ref": "#/components/schemas/Row"},
    }
)
EVALUATION = _obj(
    {
        "from": {"type": "string"},
        "to": {"type": "string"},
        "sites": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
    }
)
PATH_PARAMETER = re.compile(r"{(\w+)}")


CONFIG = {
    "type": "object",
    "description": "The whole site configuration in the TOML schema (docs/configuration.md)"
    " with its `version`",
    "properties": {
        "site": {"type": "object"},
        "agencies": {"type": "array", "items": {"type": "object"}},
        "services": {"type": "array", "items": {"type": "object"}},
        "counters": {"type": "array", "items": {"type": "object"}},
        "displays": {"type": "array", "items": {"type": "object"}},
        "version": {"type": "integer"},
    },
    "required": ["site", "agencies", "services", "counters"],
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "the version the change is based on (GET .../config answers it)",
}
USER = _obj(
    {
        "name": {"type": "string"},
        "role": {"type": "string"},
        "site": {"type": ["string", "null"]},
        "counters": {"type": "array", "items": {"type": "string"}},
    }
)
TOKEN = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string"},
        "site": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"]},
        "last_used_at": {"type": ["string", "null"]},
        "token": {"type": "string", "description": "only in the answer to its creation"},
    },
}
AUDIT = _obj(
    {
        "site": {"type": ["string", "null"]},
        "entries": {
            "type": "array",
            "items": _obj(
                {
                    "at": {"type": "string"},
                    "actor": {"type": "string"},
                    "action": {"type": "string"},
                    "target": {"type": "string"},
                    "detail": {"type": "object"},
                }
            ),
        },
    }
)


def _admin_paths(site: str) -> dict[str, Any]:
    """Administration (server/admin.py)."""
    account = {"type": ["string", "null"]}
    user_body = _obj(
        {
            "name": {"type": "string"},
            "password": {"type": "string", "minLength": 8},
            "role": {"type": "string"},
            "site": account,
            "counters": {"type": "array", "items": {"type": "string"}},
        },
        ("name", "password", "role"),
    )
    password = _obj({"password": {"type": "string", "minLength": 8}}, ("password",))
    return {
        f"{site}/config": {
            "get": _op("The whole configuration with its version", CONFIG, 401, 403, 404),
            "put": {
                **_op(
                    "Replace the configuration (If-Match: version)",
                    CONFIG,
                    400,
                    401,
                    403,
                    404,
                    412,
                    413,
                    422,
                    428,
                    body=CONFIG,
                ),
                "parameters": [IF_MATCH],
            },
        },
        "/api/v1/sites": {
            "get": _op("List sites", {"type": "object"}, secured=False),
            "post": _op(
                "Create a site", CONFIG, 400, 401, 403, 409, 413, 422, body=CONFIG, status=201
            ),
        },
        f"{site}/services/{{service}}": {
            "patch": _op(
                "Open or close a service",
                _obj({"service": {"type": "object"}, "version": {"type": "integer"}}),
                400,
                401,
                403,
                404,
                body=_obj({"open": {"type": "boolean"}}, ("open",)),
            )
        },
        "/api/v1/users": {
            "get": _op("Accounts", _obj({"users": {"type": "array", "items": USER}}), 401, 403),
            "post": _op(
                "Create an account",
                _obj({"user": USER}),
                400,
                401,
                403,
                409,
                422,
                body=user_body,
                status=201,
            ),
        },
        "/api/v1/users/{name}": {
            "patch": _op(
                "Change an account's role, site or counters (ends its sessions)",
                _obj({"user": USER}),
                400,
                401,
                403,
                404,
                422,
                body=_obj(
                    {
                        "role": {"type": "string"},
                        "site": account,
                        "counters": {"type": "array", "items": {"type": "string"}},
                    }
                ),
            ),
            "delete": _op(
                "Remove an account (ends its sessions)",
                _obj({"removed": {"type": "string"}}),
                401,
                403,
                404,
            ),
        },
        "/api/v1/users/{name}/password": {
            "post": _op(
                "Reset a password (ends its sessions)",
                _obj({"user": USER}),
                400,
                401,
                403,
                404,
                body=password,
            )
        },
        "/api/v1/tokens": {
            "get": {
                **_op(
                    "Device and script tokens",
                    _obj({"tokens": {"type": "array", "items": TOKEN}}),
                    401,
                    403,
                ),
                "parameters": [
                    {"name": "site", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
            },
            "post": _op(
                "Create a token (shown only in this answer)",
                TOKEN,
                400,
                401,
                403,
                422,
                body=_obj(
                    {
                        "role": {"type": "string"},
                        "site": account,
                        "name": {"type": "string"},
                        "counters": {"type": "array", "items": {"type": "string"}},
                    },
                    ("role", "name"),
                ),
                status=201,
            ),
        },
        "/api/v1/tokens/{id}": {
            "delete": _op(
                "Revoke a token (refused everywhere within 5 s)",
                _obj({"revoked": TOKEN}),
                401,
                403,
                404,
            )
        },
        "/api/v1/audit": {
            "get": {
                **_op("The audit log, newest first", AUDIT, 400, 401, 403, 404),
                "parameters": [
                    {
                        "name": "site",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
            }
        },
    }


BOOKING = {
    "type": "object",
    "description": "A booking as its holder sees it (docs/bookings.md); the NIK masked",
    "properties": {
        **{
            k: {"type": "string"}
            for k in ("id", "code", "site", "service", "agency", "date", "session")
        },
        "status": {"enum": ["booked", "checked_in", "cancelled", "expired"]},
        "nik": {"type": ["string", "null"], "examples": ["**** **** **** 1234"]},
    },
}
BOOKING_ANSWER = _obj({"booking": BOOKING}, ("booking",))


def _booking_paths(site: str) -> dict[str, Any]:
    """Bookings, phone tickets (server/bookings.py) and webhooks (server/webhooks.py)."""
    text = {"type": "string"}
    hook = "/api/v1/webhooks"
    return {
        f"{site}/services/{{service}}/slots": {
            "get": {
                **_op(
                    "Booking sessions of a date and their places left",
                    _obj({"date": text, "sessions": {"type": "array"}}),
                    400,
                    404,
                    409,
                    secured=False,
                ),
                "parameters": [{"name": "date", "in": "query", "required": True, "schema": text}],
            }
        },
        f"{site}/bookings": {
            "post": _op(
                "Book a session (one per NIK, service and day)",
                BOOKING_ANSWER,
                400,
                404,
                409,
                429,
                body=_obj(
                    {k: text for k in ("service", "date", "session", "nik", "name", "phone")},
                    ("service", "date", "session", "nik", "name"),
                ),
                status=201,
                secured=False,
            )
        },
        f"{site}/bookings/{{booking}}": {
            "get": _op("A booking by its secret id", BOOKING_ANSWER, 404, secured=False)
        },
        f"{site}/bookings/{{booking}}/cancel": {
            "post": _op("Cancel a booking", BOOKING_ANSWER, 404, 409, secured=False)
        },
        f"{site}/bookings/{{code}}/check-in": {
            "post": _op(
                "Check a booking in at the kiosk: it becomes a waiting ticket",
                {"type": "object"},
                401,
                403,
                404,
                409,
                status=201,
            )
        },
        f"{site}/phone-tickets": {
            "post": _op(
                "A ticket from a visitor's phone (services with remote_ticket)",
                POSITION_ANSWER,
                400,
                403,
                404,
                409,
                429,
                body=_obj({"service": text}, ("service",)),
                status=201,
                secured=False,
            )
        },
        hook: {
            "post": _op(
                "Add a webhook; its secret is shown once",
                _obj({"id": text, "secret": text}),
                400,
                401,
                403,
                404,
                body=_obj(
                    {
                        "url": text,
                        "events": {"type": "array", "items": text},
                        "site": {"type": ["string", "null"]},
                    },
                    ("url", "events"),
                ),
                status=201,
            ),
            "get": _op("List webhooks", {"type": "object"}, 401, 403),
        },
        f"{hook}/{{webhook}}": {
            "delete": _op("Remove a webhook", {"type": "object"}, 401, 403, 404)
        },
        f"{hook}/{{webhook}}/deliveries": {
            "get": _op("A webhook's latest delivery attempts", {"type": "object"}, 401, 403, 404)
        },
    }


def document() -> dict[str, Any]:
    site = "/api/v1/sites/{site}"
    counter = f"{site}/counters/{{counter}}"
    paths: dict[str, Any] = {
        "/api/v1/sites": {"get": _op("List sites", {"type": "object"}, secured=False)},
        site: {"get": _op("Site configuration (public part)", {"type": "object"}, 401, 404)},
        f"{site}/state": {"get": _op("Live state with its seq", {"type": "object"}, 401, 404)},
        f"{site}/events": {"get": _op("Events after ?since=SEQ", {"type": "object"}, 400, 404)},
        f"{site}/tickets": {
            "post": _op(
                "Issue a ticket",
                POSITION_ANSWER,
                400,
                401,
                403,
                404,
                409,
                413,
                429,
                body=_obj(
                    {"service": {"type": "string"}, "priority": {"type": "boolean"}}, ("service",)
                ),
                status=201,
            )
        },
        f"{site}/tickets/{{ticket}}": {
            "get": _op("A ticket by its secret id", POSITION_ANSWER, 404, secured=False)
        },
        f"{site}/tickets/{{ticket}}/cancel": {
            "post": _op("Cancel a waiting ticket", TICKET_ANSWER, 404, 409, secured=False)
        },
        f"{site}/tickets/{{ticket}}/rating": {
            "post": _op(
                "Rate a finished ticket, once",
                TICKET_ANSWER,
                400,
                404,
                409,
                422,
                body=RATING,
                status=201,
                secured=False,
            )
        },
        f"{site}/announcements": {
            "post": _op(
                "Free text for the lobby screens",
                {"type": "object"},
                400,
                401,
                403,
                404,
                body=_obj({"text": {"type": "string"}}, ("text",)),
                status=201,
            )
        },
        counter: {
            "get": _op("Counter state and today's figures", {"type": "object"}, 401, 403, 404)
        },
        f"{counter}/waiting": {
            "get": _op("Waiting tickets in call order", {"type": "object"}, 401, 403, 404)
        },
        "/api/v1/auth/login": {
            "post": _op(
                "Log in",
                {"type": "object"},
                400,
                401,
                429,
                body=_obj(
                    {"username": {"type": "string"}, "password": {"type": "string"}},
                    ("username", "password"),
                ),
                secured=False,
            )
        },
        "/api/v1/auth/logout": {"post": _op("Log out", {"type": "object"})},
        "/api/v1/auth/me": {"get": _op("Who am I", {"type": "object"}, 401)},
        f"{site}/reports": {
            "get": {
                **_op("Figures of a site by a cut (json, csv or xlsx)", REPORT, 400, 401, 403, 404),
                "parameters": [*PERIOD, BY, FORMAT],
            }
        },
        "/api/v1/evaluation": {
            "get": {
                **_op("Every site side by side on the same figures", EVALUATION, 400, 401, 403),
                "parameters": [*PERIOD, FORMAT],
            }
        },
        f"{site}/monitor": {
            "get": _op("The live floor: counters, queues, alerts", {"type": "object"}, 401, 403)
        },
        f"{site}/ikm": {"get": _op("This month's IKM (public)", {"type": "object"}, 404)},
        "/api/v1/survey": {
            "get": _op("The nine survey elements", {"type": "object"}, secured=False)
        },
        f"{counter}/rating": {
            "post": _op(
                "Rate the ticket the counter finished last (its rating tablet)",
                TICKET_ANSWER,
                400,
                401,
                403,
                404,
                409,
                422,
                body=RATING,
                status=201,
            )
        },
    }
    paths.update(_admin_paths(site))
    paths.update(_booking_paths(site))
    for action in ("next", "recall", "start", "finish", "no-show"):
        paths[f"{counter}/{action}"] = {
            "post": _op(f"Counter {action}", TICKET_ANSWER, 401, 403, 404, 409)
        }
    paths[f"{counter}/transfer"] = {
        "post": _op(
            "Transfer the held ticket",
            TICKET_ANSWER,
            400,
            401,
            403,
            404,
            409,
            422,
            body=_obj({"service": {"type": "string"}}, ("service",)),
        )
    }
    paths[f"{counter}/undo"] = {
        "post": _op(
            "Undo the counter's last next, no-show or transfer (within 10 s; 409 undo_expired)",
            _obj(
                {
                    "ticket": {"oneOf": [TICKET, {"type": "null"}]},
                    "undone": {"enum": ["next", "no_show", "transfer"]},
                },
                ("ticket", "undone"),
            ),
            401,
            403,
            404,
            409,
        )
    }
    paths[f"{counter}/call"] = {
        "post": _op(
            "Call a ticket out of turn",
            TICKET_ANSWER,
            400,
            401,
            403,
            404,
            409,
            body=_obj({"ticket": {"type": "string"}}, ("ticket",)),
        )
    }
    for action in ("pause", "resume", "close", "open"):
        paths[f"{counter}/{action}"] = {
            "post": _op(f"Counter {action}", COUNTER_ANSWER, 401, 403, 404, 409)
        }
    for path, path_item in paths.items():
        in_path = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in PATH_PARAMETER.findall(path)
        ]
        for method, op in path_item.items():
            extra = [IDEM] if method == "post" else []
            op["parameters"] = [*in_path, *op.get("parameters", []), *extra]
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loket API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _obj(
                    {
                        "error": _obj(
                            {"code": {"type": "string"}, "message": {"type": "string"}},
                            ("code", "message"),
                        )
                    },
                    ("error",),
                ),
                "Ticket": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "number": {"type": "string"},
                        "site": {"type": "string"},
                        "service": {"type": "string"},
                        "agency": {"type": "string"},
                        "status": {
                            "enum": ["waiting", "called", "serving", "done", "no_show", "cancelled"]
                        },
                        "priority": {"type": "boolean"},
                        "issued_at": {"type": "string"},
                        "called_at": nullable_time,
                        "started_at": nullable_time,
                        "finished_at": nullable_time,
                        "counter": {
                            "oneOf": [
                                _obj({"id": {"type": "string"}, "name": {"type": "string"}}),
                                {"type": "null"},
                            ]
                        },
                        "recalls": {"type": "integer"},
                        "transfers": {"type": "integer"},
                        "rated": {"type": "boolean"},
                    },
                },
                "Row": {
                    "type": "object",
                    "description": "The figures of one unit over a period (docs/measurement.md)",
                    "properties": {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        **{count: {"type": "integer"} for count in measure.COUNTS},
                        **{d: {"type": "object"} for d in measure.DURATIONS},
                        **{f: {"type": "object"} for f in ("sla", "sla_service", "rating", "ikm")},
                    },
                },
                "Counter": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "status": {"enum": ["open", "paused", "closed"]},
                        "ticket": {"oneOf": [TICKET, {"type": "null"}]},
                    },
                },
            },
        },
    }


async def endpoint(request: Request) -> Response:
    return JSONResponse(document())
