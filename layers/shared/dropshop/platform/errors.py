"""Domain errors that carry their HTTP meaning, so handlers never decide status codes themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_body(self) -> dict[str, object]:
        """The one error shape every non-2xx answer of the API has (`field` is null when no one field is at fault)."""
        return {"error": self.code, "message": self.message, "field": self.field}


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


class ServiceUnavailable(DomainError):
    """A dependency refused for now (conflicts, throttles): the same request may pass shortly. The answer says
    when to come back (`Retry-After`); the request changed nothing."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


def invalid_request(problems: Sequence[Any]) -> dict[str, object]:
    """Validation problems (pydantic's, located from "body") shaped like our own errors: the first problem's
    field and message up front."""
    details = [{"field": _field(problem["loc"]), "message": problem["msg"]} for problem in problems]
    first = details[0] if details else {"field": None, "message": "invalid request"}
    return {"error": "invalid_request", "message": first["message"], "field": first["field"], "details": details}


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """("body", "lines", 0, "quantity") → "lines[0].quantity"; a whole-body problem is "body"; a header by its
    usual spelling, ("header", "idempotency-key") → "Idempotency-Key", as the other errors name headers."""
    if len(location) == 2 and location[0] == "header":
        return str(location[1]).title()
    parts = list(location[1:]) or list(location[:1])
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text
