"""Domain errors. Each carries a message a person can act on; shells map them to status codes."""

from __future__ import annotations

from typing import Any


class DatasError(Exception):
    """Base class: `message` says what is wrong and how to fix it."""

    code = "error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(DatasError):
    code = "not_found"


class Conflict(DatasError):
    code = "conflict"


class InvalidInput(DatasError):
    code = "invalid_input"


class Unauthorized(DatasError):
    code = "unauthorized"


class Forbidden(DatasError):
    code = "forbidden"


class TooLarge(DatasError):
    code = "body_too_large"


class TooManyRequests(DatasError):
    """Refused for now (throttled or busy); `retry_after_seconds` says when to try again."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds))
