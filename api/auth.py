"""Who is calling: bearer keys, anonymous reads, per-key rate limits and the body-size guard.

Keys travel only in the ``Authorization`` header and are never logged; a request without
one is anonymous, which reads ``public`` entries only and only when
``SYNTH_ALLOW_ANONYMOUS_READ`` is on.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLargeError, RateLimitedError, problem_response
from api.settings import Settings
from synth.engine import Engine
from synth.services.keys import AccessDeniedError, AuthenticationError, Principal, authenticate
from synth.services.keys import Scope as KeyScope

__all__ = ["BodySizeLimit", "RateLimiter", "get_principal", "require_scope"]

_bearer = HTTPBearer(auto_error=False, description="An API key from `synth keys create`.")


class RateLimiter:
    """Token buckets per caller: ``per_minute`` tokens a minute, bursts up to a minute's worth."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> None:
        """Spend one token of ``caller``'s bucket.

        Raises:
            RateLimitedError: The bucket is empty; its ``Retry-After`` says when a token is back.
        """
        if self._rate <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(caller, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                raise RateLimitedError(max(1, math.ceil((1.0 - tokens) / self._rate)))
            self._buckets[caller] = (tokens - 1.0, now)


def _state_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the request's bearer key, or admit an anonymous reader if allowed.

    Raises:
        AuthenticationError: No key (and anonymous reads are off), or a key that is not valid.
        RateLimitedError: The caller is over its rate limit.
    """
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    if credentials is None:
        if request.headers.get("authorization"):
            raise AuthenticationError("send the API key as 'Authorization: Bearer <key>'")
        if not settings.allow_anonymous_read:
            raise AuthenticationError(
                "this API needs a key: send 'Authorization: Bearer <key>' "
                "(create one with `synth keys create`)"
            )
        limiter.take(f"ip:{request.client.host if request.client else '-'}")
        return Principal.anonymous()
    with _state_engine(request).sessions() as session:
        principal = authenticate(session, credentials.credentials)
    limiter.take(f"key:{principal.key_id}")
    request.state.key_id = principal.key_id
    return principal


def require_scope(scope: KeyScope) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that admits principals whose scopes include ``scope`` (else 401/403)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.can(scope):
            if principal.key_id is None:
                raise AuthenticationError(f"this needs an API key with the {scope} scope")
            raise AccessDeniedError(f"this needs an API key with the {scope} scope")
        return principal

    dependency.__name__ = f"require_{scope.value}"
    return dependency


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` (by Content-Length, or as they stream)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length; a body without one is read (up to the limit) first."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body", False))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            413,
            code=PayloadTooLargeError.code,
            title=PayloadTooLargeError.title,
            detail=self._detail(),
        )
        await response(scope, receive, send)

    def _detail(self) -> str:
        return f"the request body is over the {self.max_bytes:,}-byte limit (SYNTH_MAX_BODY_BYTES)"


def _replay(messages: list[Message], upstream: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again, then defers to the server's own ``receive``.

    The body has been read already, so the server's next message is the client's disconnect
    when it really happens: answering ``http.disconnect`` at once would make streamed
    responses (files, ``StreamingResponse``) believe the client had gone and send nothing.
    """
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await upstream()

    return receive
