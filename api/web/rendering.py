"""Templates (Jinja2, autoescaped), page responses, and the security headers of every page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.settings import Settings
from api.web.session import WebUser, save_session
from api.web.static_files import static_url
from api.web.svg import colour

__all__ = ["WEB_CSP", "is_web_path", "redirect", "render", "security_headers", "sign_in_url"]

#: The pages' content security policy: nothing inline, nothing from elsewhere.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_NOT_WEB = ("/api/", "/docs", "/redoc", "/openapi.json", "/health", "/ready", "/metrics")


def is_web_path(path: str) -> bool:
    """True for the UI's pages (everything but the API, its docs and the probes)."""
    return not path.startswith(_NOT_WEB)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = _format_date
    env.filters["label"] = lambda value: str(value).replace("_", " ")
    env.globals["colour"] = colour
    env.globals["static"] = static_url
    return env


def _format_date(value: dt.date | str | None) -> str:
    if value is None or value == "":
        return "undated"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return f"{day.day} {day:%b %Y}"


def render(
    request: Request,
    user: WebUser | None,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render ``template`` with the page context (caller, CSRF token, current path)."""
    settings: Settings = request.app.state.settings
    page = {
        "request": request,
        "user": user,
        "csrf": user.session.csrf if user else "",
        "path": request.url.path,
        "anonymous_allowed": settings.allow_anonymous_read,
        **context,
    }
    html = _environment().get_template(template).render(page)
    response = HTMLResponse(html, status_code=status)
    if user is not None and user.is_new:
        save_session(response, user.session, settings)
    return response


def redirect(url: str) -> RedirectResponse:
    """A 303 See Other to ``url`` (after a POST, or to sign in)."""
    return RedirectResponse(url, status_code=303)


def sign_in_url(request: Request) -> str:
    """The sign-in page, with the current page to come back to."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/sign-in?next={quote(target, safe='')}"


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Add the security headers: a strict CSP on pages, no sniffing or framing anywhere."""
    response = await call_next(request)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if is_web_path(request.url.path):
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", WEB_CSP)
        if response.media_type == "text/html" or "text/html" in headers.get("content-type", ""):
            headers.setdefault("Cache-Control", "no-store")
    return response
