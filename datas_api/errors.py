"""Every error is JSON: {"error": code, "message": what to fix, "details": [...]}."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from datas_api.body_limit import BodyTooLarge, too_large_body
from datas_core import errors
from datas_core.storage import ObjectMissing, StorageError

log = logging.getLogger("datas.api")

STATUS = {
    errors.TooLarge: 413,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.TooManyRequests: 429,
}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": code, "message": message, "details": details or []}


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "request"


# Values under these names are never echoed back (they end up in logs and screenshots).
SECRET_NAMES = ("password", "secret", "token", "key")


def _may_echo(err: dict[str, Any]) -> bool:
    loc = [str(p).lower() for p in err.get("loc", ())]
    if any(s in part for part in loc for s in SECRET_NAMES):
        return False
    # A whole object (a model-level error) may hold a password: never echo containers.
    return not isinstance(err.get("input"), (dict, list))


def describe_validation(errs: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for err in errs:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "syntax error")
            details.append({"loc": "body", "message": f"the body is not valid JSON: {reason}"})
            continue
        loc = _loc(tuple(err.get("loc", ())))
        msg = err.get("msg", "invalid")
        if err.get("type") == "missing":
            msg = "this field is required"
        elif "input" in err and err.get("type") != "extra_forbidden" and _may_echo(err):
            msg = f"{msg} (got {err['input']!r})"[:300]
        elif err.get("type") == "extra_forbidden":
            msg = "unknown field; check the spelling against /openapi.json"
        details.append({"loc": loc, "message": msg})
    shown = "; ".join(f"{d['loc']}: {d['message']}" for d in details[:10])
    more = f" (and {len(details) - 10} more)" if len(details) > 10 else ""
    return f"invalid request: {shown}{more}", details


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DatasError)
    async def _domain(_: Request, exc: errors.DatasError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, errors.TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = describe_validation(list(exc.errors()))
        return JSONResponse(error_body("invalid_input", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, BodyTooLarge):
            return JSONResponse(too_large_body(exc.__cause__.limit), status_code=413)
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; the API is described at /openapi.json and /docs"
        elif exc.status_code == 405:
            message = "this endpoint does not accept that HTTP method; see /openapi.json"
        return JSONResponse(
            error_body(f"http_{exc.status_code}", message), status_code=exc.status_code
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            error_body(
                "conflict",
                "the request conflicts with stored data (a concurrent write of the same "
                "record?); nothing was changed, retry it",
            ),
            status_code=409,
        )

    @app.exception_handler(ObjectMissing)
    async def _object_missing(_: Request, exc: ObjectMissing) -> JSONResponse:
        return JSONResponse(error_body("not_found", str(exc)), status_code=404)

    @app.exception_handler(StorageError)
    async def _storage_down(_: Request, exc: StorageError) -> JSONResponse:
        # The message names what to fix (bucket, credentials, endpoint); nothing was recorded.
        return JSONResponse(
            error_body("storage_unavailable", f"{exc}; nothing was stored, retry later"),
            status_code=503,
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        # Input rules (datas_core.schemas.common) should have refused it: log to find the gap.
        log.warning("the database refused a value: %s", exc.orig)
        return JSONResponse(
            error_body(
                "invalid_input",
                "a value in the request cannot be stored (out of range or not valid text); "
                "nothing was changed",
            ),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.error(
            "unexpected error %s on %s %s",
            incident,
            request.method,
            request.url.path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return JSONResponse(
            error_body(
                "internal_error",
                f"the server failed on this request (incident {incident}); nothing was changed "
                "that was not already confirmed. Retry later, or report the incident id",
            ),
            status_code=500,
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(
            error_body("database_unavailable", "the database is busy or unreachable; retry"),
            status_code=503,
            headers={"Retry-After": "5"},
        )
