"""The web UI's signed cookie session: who signed in, and the CSRF token of their forms.

The cookie holds the key's id and prefix (never the token) and a random CSRF token, signed
with ``SYNTH_SESSION_SECRET`` and dated, so it expires after ``SYNTH_SESSION_MAX_AGE_HOURS``.
Every request looks the key up again, so a revoked key signs its sessions out at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from api.auth import RateLimiter
from api.settings import Settings
from models import ApiKey
from synth.engine import Engine
from synth.services.keys import Principal, Scope

__all__ = [
    "COOKIE",
    "CsrfError",
    "SignInRequiredError",
    "UserDep",
    "WebSession",
    "WebUser",
    "WriterUserDep",
    "check_csrf",
    "current_user",
    "principal_for_key",
    "save_session",
]

COOKIE = "synth_session"
_SALT = "synth.web.session.v1"


class SignInRequiredError(Exception):
    """The page needs a signed-in key (or one with more scope); answered with a redirect."""

    def __init__(self, scope: Scope = Scope.READ) -> None:
        super().__init__(f"sign in with a key that has the {scope} scope")
        self.scope = scope


class CsrfError(Exception):
    """A form came back without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """What the cookie holds: the signed-in key (id and prefix) and the CSRF token."""

    csrf: str
    key_id: int | None = None
    key_prefix: str | None = None

    @classmethod
    def fresh(cls) -> WebSession:
        """A new anonymous session with its own CSRF token."""
        return cls(csrf=secrets.token_urlsafe(32))

    def signed_in(self, key_id: int, prefix: str) -> WebSession:
        """The session after signing in: a new CSRF token too, so an old one cannot be reused."""
        return replace(WebSession.fresh(), key_id=key_id, key_prefix=prefix)


@dataclass(frozen=True, slots=True)
class WebUser:
    """The caller of a page: their principal and session (``is_new``: the cookie must be set)."""

    principal: Principal
    session: WebSession
    is_new: bool = False

    @property
    def signed_in(self) -> bool:
        """True when a key signed in (not an anonymous reader)."""
        return self.principal.key_id is not None


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt=_SALT)


def load_session(request: Request, settings: Settings) -> WebSession | None:
    """The request's session, or None when there is no cookie or it is forged or expired."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(settings).loads(raw, max_age=settings.session_max_age_hours * 3600)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    key_id, prefix = data.get("k"), data.get("p")
    if not isinstance(key_id, int) or not isinstance(prefix, str):
        return WebSession(csrf=data["c"])
    return WebSession(csrf=data["c"], key_id=key_id, key_prefix=prefix)


def save_session(response: Response, session: WebSession, settings: Settings) -> None:
    """Set the signed session cookie on ``response`` (HttpOnly, SameSite=Lax, Secure in prod)."""
    data: dict[str, object] = {"c": session.csrf}
    if session.key_id is not None:
        data.update(k=session.key_id, p=session.key_prefix)
    response.set_cookie(
        COOKIE,
        _serializer(settings).dumps(data),
        max_age=settings.session_max_age_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.env == "prod",
        path="/",
    )


def principal_for_key(engine: Engine, key_id: int, prefix: str) -> Principal | None:
    """The principal of a live key with this id and prefix (None: unknown or revoked)."""
    with engine.sessions() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.prefix == prefix))
        if key is None or key.revoked_at is not None:
            return None
        return Principal(
            key_id=key.id,
            name=key.name,
            scopes=frozenset(Scope(s) for s in key.scopes),
            networks=frozenset(key.networks),
            organisation=key.organisation,
        )


def current_user(request: Request) -> WebUser:
    """The page's caller: the signed-in key, else an anonymous reader when that is allowed.

    Raises:
        SignInRequiredError: Nobody signed in and anonymous reads are off.
        RateLimitedError: The caller is over the API's rate limit (the same buckets).
    """
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    stored = load_session(request, settings)
    session = stored or WebSession.fresh()
    if session.key_id is not None and session.key_prefix is not None:
        principal = principal_for_key(request.app.state.engine, session.key_id, session.key_prefix)
        if principal is not None:
            limiter.take(f"key:{principal.key_id}")
            request.state.key_id = principal.key_id
            return WebUser(principal, session, is_new=stored is None)
        session = WebSession.fresh()
        stored = None
    if not settings.allow_anonymous_read:
        raise SignInRequiredError()
    limiter.take(f"ip:{request.client.host if request.client else '-'}")
    return WebUser(Principal.anonymous(), session, is_new=stored is None)


def check_csrf(user: WebUser, token: str | None) -> None:
    """Compare a form's token with the session's in constant time.

    Raises:
        CsrfError: The token is missing or differs.
    """
    if not token or not hmac.compare_digest(token, user.session.csrf):
        raise CsrfError("the form has expired or did not come from this site; reload and retry")


def _writer(user: Annotated[WebUser, Depends(current_user)]) -> WebUser:
    if not user.signed_in or not user.principal.can(Scope.WRITE):
        raise SignInRequiredError(Scope.WRITE)
    return user


#: The caller of a reading page (signed in, or anonymous when allowed).
UserDep = Annotated[WebUser, Depends(current_user)]
#: The caller of a page that stores something: a key with the write scope.
WriterUserDep = Annotated[WebUser, Depends(_writer)]
