"""FastAPI dependencies: the engine built in the lifespan, a session per request, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth import require_scope
from synth.engine import Engine
from synth.search.query import Viewer
from synth.services.jobs import JobRunner
from synth.services.keys import Principal, Scope

__all__ = [
    "AdminDep",
    "EngineDep",
    "ReaderDep",
    "RunnerDep",
    "SessionDep",
    "ViewerDep",
    "WriterDep",
    "get_engine",
    "get_runner",
    "get_session",
    "get_viewer",
]


async def get_engine(request: Request) -> Engine:
    """Return the engine the lifespan built (async: no thread-pool hop for a lookup)."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """Yield one session per request."""
    with engine.sessions() as session:
        yield session


async def get_runner(request: Request) -> JobRunner:
    """Return the job runner the lifespan started."""
    runner: JobRunner = request.app.state.job_runner
    return runner


ReaderDep = Annotated[Principal, Depends(require_scope(Scope.READ))]
WriterDep = Annotated[Principal, Depends(require_scope(Scope.WRITE))]
AdminDep = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]


async def get_viewer(principal: ReaderDep) -> Viewer:
    """Which entries the caller may see: from its API key, or public only when anonymous."""
    return principal.viewer


EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
