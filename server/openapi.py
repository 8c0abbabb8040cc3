"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
                        **{
                            count: {"type": "integer"}
                            for count in (
                                "issued",
                                "called",
                                "served",
                                "no_show",
                                "cancelled",
                                "expired",
                                "transferred_out",
                                "recalls",
                                "unstarted",
                            )
                        },
                        **{d: {"type": "object"} for d in ("wait_s", "walk_s", "service_s")},
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
