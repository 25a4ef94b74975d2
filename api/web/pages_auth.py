"""Sign in with an API key (kept as a signed cookie session) and sign out."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.auth import RateLimiter
from api.settings import Settings
from api.web.rendering import redirect, render
from api.web.session import (
    COOKIE,
    CsrfError,
    WebSession,
    WebUser,
    load_session,
    save_session,
)
from synth.engine import Engine
from synth.services.keys import AuthenticationError, Principal, authenticate

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme) may be returned to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _visitor(request: Request) -> WebUser:
    settings: Settings = request.app.state.settings
    stored = load_session(request, settings)
    session = WebSession(csrf=stored.csrf) if stored else WebSession.fresh()
    return WebUser(Principal.anonymous(), session, is_new=True)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, next: Annotated[str, Query(max_length=2000)] = "/"
) -> HTMLResponse:
    """The sign-in form."""
    user = _visitor(request)
    return render(request, user, "sign_in.html", {"next": safe_next(next), "error": None})


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=500)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the key; on success start a session and go back to ``next``."""
    settings: Settings = request.app.state.settings
    stored = load_session(request, settings)
    if stored is None or not hmac.compare_digest(csrf_token, stored.csrf):
        raise CsrfError("the sign-in form has expired; reload the page and try again")
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.take(f"ip:{request.client.host if request.client else '-'}")
    engine: Engine = request.app.state.engine
    try:
        with engine.sessions() as session:
            principal = authenticate(session, key.strip())
    except AuthenticationError:
        user = WebUser(Principal.anonymous(), stored, is_new=False)
        context = {"next": safe_next(next), "error": "That key is not valid. Check it and retry."}
        return render(request, user, "sign_in.html", context, status=401)
    prefix = key.strip().removeprefix("synth_").partition("_")[0]
    assert principal.key_id is not None
    response = redirect(safe_next(next))
    save_session(response, stored.signed_in(principal.key_id, prefix), settings)
    return response


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session."""
    settings: Settings = request.app.state.settings
    stored = load_session(request, settings)
    if stored is None or not hmac.compare_digest(csrf_token, stored.csrf):
        raise CsrfError("the form has expired; reload the page and try again")
    response = redirect("/sign-in")
    response.delete_cookie(COOKIE, path="/")
    return response
