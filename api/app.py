"""The FastAPI application factory; the engine is built once in the lifespan."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import BodySizeLimit, RateLimiter
from api.errors import Problem, install_error_handlers
from api.imports import build_handlers
from api.routes import (
    actions,
    briefings,
    entries,
    health,
    index,
    jobs,
    measures,
    metrics,
    networks,
    organisations,
    projects,
    search,
    themes,
)
from api.settings import Settings, get_settings
from api.web import install_web
from synth import __version__
from synth.engine import Engine, build_engine
from synth.search.follower import IndexFollower
from synth.services.jobs import JobRunner, ThreadJobRunner, recover_jobs
from synth.store import check_schema

__all__ = ["create_app", "create_worker_app"]

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, recover_jobs: bool = True) -> FastAPI:
    """Build the API application for ``settings`` (the environment's when omitted).

    ``recover_jobs=False`` (the processes of ``synth serve --workers N``): the embedded job
    runner leaves interrupted and queued jobs to the parent process, which recovers them
    once, so one worker never marks another's running job failed.
    """
    settings = settings or get_settings()
    if settings.hf_hub_offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings.engine_config())
        app.state.engine = engine
        app.state.ready = False
        runner = _build_runner(settings, engine)
        app.state.job_runner = runner
        follower = IndexFollower(engine.indexes_for_search, settings.index.refresh_seconds)
        try:
            check_schema(engine.db)
            _start_jobs(engine, runner, recover=recover_jobs)
            engine.open_indexes()
            follower.start()
            app.state.ready = True
        except Exception:
            logger.exception("store or indexes not ready at start-up")
        yield
        follower.stop()
        runner.stop()
        engine.close()

    app = FastAPI(
        title="synth",
        version=__version__,
        summary="Knowledge synthesis for learning systems in health and care improvement.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.metrics = metrics.HttpMetrics(lambda: app.state.engine)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(app.state.metrics.middleware)
    app.add_middleware(RequestId)

    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(search.router)
    for resource in (networks, organisations, projects, entries, jobs, index, measures, themes):
        app.include_router(resource.router)
    app.include_router(actions.router)
    app.include_router(briefings.router)
    install_web(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class RequestId:
    """ASGI middleware: echo the caller's ``x-request-id``, or give the response a new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the header to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_worker_app() -> FastAPI:
    """The app of one ``synth serve --workers N`` process: logging as the CLI sets it up."""
    from api.logging_config import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level="WARNING")
    return create_app(settings, recover_jobs=False)


def _build_runner(settings: Settings, engine: Engine) -> JobRunner:
    """The job runner ``SYNTH_JOBS__BACKEND`` names (``auto``: by the store's dialect)."""
    if settings.jobs.resolve(engine.db.dialect.name) == "procrastinate":
        from synth.services.job_queue import ProcrastinateJobRunner

        return ProcrastinateJobRunner(engine, build_handlers())
    return ThreadJobRunner(engine, build_handlers())


def _start_jobs(engine: Engine, runner: JobRunner, *, recover: bool = True) -> None:
    """Start the runner and resubmit queued jobs.

    The embedded runner first fails jobs a dead process left running; on the shared queue
    a job shown running may be in another process's hands, so it is left alone there.
    Without ``recover`` the embedded runner only starts (a parent process recovers).
    """
    if isinstance(runner, ThreadJobRunner) and not recover:
        runner.start()
        return
    with engine.sessions.begin() as session:
        if isinstance(runner, ThreadJobRunner):
            queued = recover_jobs(session)
        else:
            from synth.services.job_queue import queued_job_ids

            queued = queued_job_ids(session)
    runner.start()
    for job_id in queued:
        runner.submit(job_id)


def _openapi(app: FastAPI) -> dict[str, object]:
    """The OpenAPI document, with the problem+json schema every error response refers to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        app.openapi_schema = schema
    return app.openapi_schema
