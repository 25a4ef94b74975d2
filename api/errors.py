"""One error shape for the API: RFC 9457 ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from synth.errors import (
    ConfigError,
    IngestError,
    ModelNotFoundError,
    NotFoundError,
    SearchFilterError,
    StoreError,
    SynthError,
)

__all__ = ["STATUS_BY_ERROR", "install_error_handlers", "problem_response"]

logger = logging.getLogger(__name__)

#: The one mapping from engine errors to HTTP statuses.
STATUS_BY_ERROR: dict[type[SynthError], int] = {
    IngestError: 422,
    NotFoundError: 404,
    SearchFilterError: 422,
    StoreError: 503,
    ModelNotFoundError: 503,
    ConfigError: 500,
}

PROBLEM_JSON = "application/problem+json"


def problem_response(
    request: Request,
    status: int,
    *,
    code: str,
    detail: str,
    title: str | None = None,
    extra: dict[str, object] | None = None,
) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, object] = {
        "type": f"https://synth.invalid/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _status_for(exc: SynthError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


async def _synth_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SynthError)
    extra: dict[str, object] | None = (
        {"problems": list(exc.problems)} if isinstance(exc, IngestError) else None
    )
    return problem_response(
        request, _status_for(exc), code=exc.code, title=exc.title, detail=exc.message, extra=extra
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = problem_response(request, exc.status_code, code=code, detail=str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    return problem_response(
        request,
        422,
        code="request.invalid",
        detail="The request is not valid; see `errors` for each field.",
        extra={"errors": errors},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return problem_response(
        request, 500, code="internal", detail="An unexpected error occurred; it has been logged."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    app.add_exception_handler(SynthError, _synth_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
