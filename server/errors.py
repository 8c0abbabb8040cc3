"""Domain exceptions: raised anywhere, translated to HTTP errors or websocket close
codes only at the edge (api.py, realtime.py)."""

from __future__ import annotations

from typing import Any


class LoketError(Exception):
    """Base class. `status` is the HTTP status the edge answers with; `details` are
    extra fields of the error object (e.g. `next_open` of a closed service)."""

    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code


class BadRequest(LoketError):
    status = 400
    code = "bad_request"


class InvalidField(BadRequest):
    """A field has the wrong type or shape; `field` names it."""

    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Unauthorized(LoketError):
    status = 401
    code = "unauthorized"


class Forbidden(LoketError):
    status = 403
    code = "forbidden"


class NotFound(LoketError):
    status = 404
    code = "not_found"


class Conflict(LoketError):
    """Illegal transition, paused counter, closed service, quota reached, ..."""

    status = 409
    code = "conflict"


class PreconditionFailed(LoketError):
    """`If-Match` names a version that is no longer the stored one."""

    status = 412
    code = "stale_version"


class PreconditionRequired(LoketError):
    """A replace without `If-Match`: it could overwrite someone else's change."""

    status = 428
    code = "if_match_required"


class PayloadTooLarge(LoketError):
    status = 413
    code = "payload_too_large"


class Unprocessable(LoketError):
    """Well-formed but unacceptable values (e.g. a score of 7)."""

    status = 422
    code = "unprocessable"


class RateLimited(LoketError):
    status = 429
    code = "rate_limited"


class StorageUnavailable(LoketError):
    status = 503
    code = "storage_unavailable"


class ConfigError(LoketError):
    """A site configuration file is invalid; the message names file, entry and field."""

    status = 422
    code = "invalid_config"
