"""Errors the domain raises, and their translation to JSON at the HTTP edge."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.moderation import NotReadyError
from service.spool import SpoolUnavailable
from service.storage import (
    AlreadyExists,
    DatabaseUnavailable,
    InvalidSetting,
    InvalidValue,
    NotFound,
    StorageError,
)

_STORAGE_STATUS = {
    NotFound: (404, "not_found"),
    AlreadyExists: (409, "already_exists"),
    InvalidValue: (422, "invalid_value"),
    InvalidSetting: (422, "invalid_setting"),
    DatabaseUnavailable: (503, "database_unavailable"),
}


class ServiceError(Exception):
    """Base of errors that map to one HTTP status with a stable short code."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class TooLarge(ServiceError):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


def error_body(
    code: str, message: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": code, "message": message, "details": details or []}


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p != "body"]
    return ".".join(parts) or "body"


def _validation_detail(error: Any) -> dict[str, str]:
    if error.get("type") == "json_invalid":  # the position is not a field
        reason = str((error.get("ctx") or {}).get("error", ""))
        return {"field": "body", "message": f"malformed JSON: {reason}".rstrip(": ")}
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return {"field": _field_path(tuple(error.get("loc", ()))), "message": message}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotReadyError)
    async def _not_ready(request: Request, exc: NotReadyError) -> JSONResponse:
        return JSONResponse(error_body("not_ready", str(exc)), status_code=503)

    @app.exception_handler(StorageError)
    async def _storage(request: Request, exc: StorageError) -> JSONResponse:
        status, code = _STORAGE_STATUS.get(type(exc), (500, "storage_error"))
        headers = {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(error_body(code, str(exc)), status_code=status, headers=headers)

    @app.exception_handler(SpoolUnavailable)
    async def _not_durable(request: Request, exc: SpoolUnavailable) -> JSONResponse:
        message = f"not stored: the database is unavailable and so is the local spool ({exc})"
        return JSONResponse(
            error_body("not_durable", message), status_code=503, headers={"Retry-After": "30"}
        )

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [_validation_detail(e) for e in exc.errors()]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(
            error_body("invalid_request", summary or "invalid request", details), status_code=422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback is logged by the server; the client gets JSON and an id to quote.
        request_id = getattr(request.state, "request_id", "-")
        return JSONResponse(
            error_body("internal_error", f"internal error; quote request id {request_id}"),
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
