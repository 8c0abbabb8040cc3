"""Logging: one line per HTTP request (`loket.access`) and the app's own records, as
text for a terminal or as JSON lines for a log pipeline (`loket serve --log-format`).

An access line names the route by its template, never the raw path or query string
(ticket ids are secrets: they let their holder cancel), and never a header: no
Authorization, no cookies. Records logged while a request runs carry its request id.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

FORMATS = ("text", "json")
REQUEST_ID: ContextVar[str | None] = ContextVar("loket_request_id", default=None)
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "client")

access_log = logging.getLogger("loket.access")


def access(method: str, route: str, status: int, duration_s: float, client: Any = None) -> None:
    """The access line of one request (when `loket.access` logs INFO)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round(duration_s * 1000, 2)
    host = client[0] if client else None
    access_log.info(
        "%s %s %d %.1f ms %s",
        method,
        route,
        status,
        duration_ms,
        host or "-",
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client": host,
        },
    )


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, logger, message, request_id, the
    access fields for access lines, and exc (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [{rid}]" if rid else text


def config(fmt: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `loket serve` (uvicorn's `log_config`, so that
    each worker process applies it too): everything to stderr in `fmt`; Loket's records
    from INFO (the access lines), other libraries' from WARNING."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"loket": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "loket",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "loket": {"level": "INFO"},
            # uvicorn's own: through the root handler, in the same format
            "uvicorn": {"handlers": [], "level": "WARNING", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "WARNING", "propagate": True},
            # one access line per request is ours (route templates, no raw paths)
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
