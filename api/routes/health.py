"""Liveness and readiness probes at the root."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import problem_response
from synth.store import check_schema

__all__ = ["router"]

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    """Probe answer."""

    status: str


@router.get("/health", operation_id="get_health", response_model=HealthRead)
def get_health() -> HealthRead:
    """Answer at once while the process is alive."""
    return HealthRead(status="ok")


@router.get(
    "/ready",
    operation_id="get_ready",
    response_model=HealthRead,
    responses={503: {"description": "Store or indexes not loaded"}},
)
def get_ready(request: Request) -> HealthRead | JSONResponse:
    """Answer 200 only when the store is reachable, migrated and the indexes are loaded."""
    engine = request.app.state.engine
    try:
        check_schema(engine.db)
        if not request.app.state.ready:
            engine.open_indexes()
    except Exception:
        request.app.state.ready = False
    else:
        request.app.state.ready = True
    if not request.app.state.ready:
        return problem_response(
            request,
            503,
            code="store.unavailable",
            detail="The store is not ready: run `synth init`.",
        )
    return HealthRead(status="ready")
