"""Errors on pages become HTML pages (or a redirect to sign in); the API keeps problem+json."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import STATUS_BY_ERROR
from api.web.rendering import is_web_path, redirect, render, sign_in_url
from api.web.session import CsrfError, SignInRequiredError
from synth.errors import SynthError
from synth.services.keys import AuthenticationError

__all__ = ["install_page_errors", "wants_page"]

logger = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _status(exc: Exception) -> int:
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _message(exc: Exception, status: int) -> str:
    if isinstance(exc, SynthError) and status < 500:
        return exc.message
    if isinstance(exc, RequestValidationError):
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return "Some values are not valid: " + ", ".join(fields)
    if status == 404:
        return "There is no such page, or you may not see it."
    return "Something went wrong. Please try again."


def error_page(request: Request, exc: Exception) -> Response:
    """The HTML answer to ``exc`` on a page."""
    status = _status(exc)
    response = render(
        request,
        None,
        "error.html",
        {"status": status, "title": HTTPStatus(status).phrase, "message": _message(exc, status)},
        status=status,
    )
    headers: dict[str, str] = getattr(exc, "headers", None) or {}
    for name, value in headers.items():
        response.headers[name] = value
    return response


def wants_page(request: Request) -> bool:
    """True when the error should be an HTML page: raised by a page, or a browser asked.

    An address that matched no route is a page error only for a client that accepts HTML, so
    API clients still get problem+json for a mistyped path.
    """
    if not is_web_path(request.url.path):
        return False
    if request.scope.get("route") is not None:
        return True
    return "text/html" in request.headers.get("accept", "")


def _wrap(api_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if not wants_page(request):
            return await api_handler(request, exc)
        if isinstance(exc, AuthenticationError):
            return redirect(sign_in_url(request))
        if _status(exc) >= 500:
            logger.exception("page failed", extra={"path": request.url.path}, exc_info=exc)
        return error_page(request, exc)

    return handler


async def _sign_in(request: Request, _: Exception) -> Response:
    return redirect(sign_in_url(request))


async def _csrf(request: Request, exc: Exception) -> Response:
    return render(
        request,
        None,
        "error.html",
        {"status": 403, "title": "Form expired", "message": str(exc)},
        status=403,
    )


def install_page_errors(app: FastAPI) -> None:
    """Wrap the API's handlers so that page requests get HTML (call after the API's)."""
    for exc_class in (SynthError, StarletteHTTPException, RequestValidationError, Exception):
        api_handler = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, _wrap(api_handler))  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequiredError, _sign_in)
    app.add_exception_handler(CsrfError, _csrf)
