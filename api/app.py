"""The FastAPI application factory; the engine is built once in the lifespan."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from api.errors import install_error_handlers
from api.routes import health, search
from api.settings import Settings, get_settings
from synth import __version__
from synth.engine import build_engine
from synth.store import check_schema

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API application for ``settings`` (the environment's when omitted)."""
    settings = settings or get_settings()
    if settings.hf_hub_offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings.engine_config())
        app.state.engine = engine
        app.state.ready = False
        try:
            check_schema(engine.db)
            engine.open_indexes()
            app.state.ready = True
        except Exception:
            logger.exception("store or indexes not ready at start-up")
        yield
        engine.close()

    app = FastAPI(
        title="synth",
        version=__version__,
        summary="Knowledge synthesis for learning systems in health and care improvement.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    app.include_router(health.router)
    app.include_router(search.router)
    return app
