"""FastAPI dependencies: the engine built in the lifespan, a session per request, the viewer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from synth.engine import Engine
from synth.search.query import Viewer

__all__ = ["EngineDep", "SessionDep", "ViewerDep", "get_engine", "get_session", "get_viewer"]


def get_engine(request: Request) -> Engine:
    """Return the engine the lifespan built."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """Yield one session per request."""
    with engine.sessions() as session:
        yield session


def get_viewer() -> Viewer:
    """Who is asking. Until API keys land (issue 6) every caller sees public entries only."""
    return Viewer.anonymous()


EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
