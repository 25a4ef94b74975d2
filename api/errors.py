"""One error shape for the API: RFC 9457 ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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
from synth.reporting.pdf import PdfRenderError
from synth.services.actions import ActionInvalidError
from synth.services.entries import DuplicateEntryError, EntryIdTakenError
from synth.services.jobs import JobStateError
from synth.services.keys import AccessDeniedError, AuthenticationError

__all__ = [
    "PROBLEM_RESPONSES",
    "STATUS_BY_ERROR",
    "BodyInvalidError",
    "PayloadTooLargeError",
    "Problem",
    "RateLimitedError",
    "UnsupportedMediaTypeError",
    "install_error_handlers",
    "problem_doc",
    "problem_response",
]


class RateLimitedError(SynthError):
    """The key has used its requests for now; ``Retry-After`` says when to try again."""

    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"this key is over its rate limit; retry after {retry_after_s} s")
        self.headers = {"Retry-After": str(retry_after_s)}


class PayloadTooLargeError(SynthError):
    """The request body is over ``SYNTH_MAX_BODY_BYTES``."""

    code = "request.too_large"
    title = "Request body too large"


class UnsupportedMediaTypeError(SynthError):
    """The body's content type or the uploaded file's format is not one this route reads."""

    code = "request.unsupported_media_type"
    title = "Unsupported media type"


class BodyInvalidError(SynthError):
    """A record in the body is invalid; ``errors`` lists each field path and why."""

    code = "request.invalid"
    title = "Invalid request"

    def __init__(self, message: str, errors: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.errors = errors


class Problem(BaseModel):
    """An RFC 9457 problem: every error response of this API has this shape."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str


logger = logging.getLogger(__name__)

#: The one mapping from engine errors to HTTP statuses.
STATUS_BY_ERROR: dict[type[SynthError], int] = {
    AuthenticationError: 401,
    AccessDeniedError: 403,
    DuplicateEntryError: 409,
    EntryIdTakenError: 409,
    JobStateError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    BodyInvalidError: 422,
    ActionInvalidError: 422,
    PdfRenderError: 503,
    RateLimitedError: 429,
    IngestError: 422,
    NotFoundError: 404,
    SearchFilterError: 422,
    StoreError: 503,
    ModelNotFoundError: 503,
    ConfigError: 500,
}

PROBLEM_JSON = "application/problem+json"


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response object for a problem+json answer."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


#: The error answers every ``/api/v1`` route may give, for the OpenAPI document.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_doc("No API key, or one that is unknown or revoked"),
    403: problem_doc("The key lacks the scope or rights for this"),
    404: problem_doc("Not found (or not visible to this key)"),
    422: problem_doc("Invalid request; `errors` lists field paths"),
    429: problem_doc("Rate limit exceeded; see Retry-After"),
}


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
    extra: dict[str, object] | None = None
    if isinstance(exc, IngestError):
        extra = {"problems": list(exc.problems)}
    elif isinstance(exc, BodyInvalidError):
        extra = {"errors": exc.errors}
    status = _status_for(exc)
    response = problem_response(
        request, status, code=exc.code, title=exc.title, detail=exc.message, extra=extra
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="synth"'
    for name, value in getattr(exc, "headers", {}).items():
        response.headers[name] = value
    return response


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: PayloadTooLargeError.code,
        415: UnsupportedMediaTypeError.code,
    }.get(exc.status_code, "http_error")
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
