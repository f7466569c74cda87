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
