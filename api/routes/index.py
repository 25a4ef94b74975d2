"""``/api/v1/index/rebuild``: rebuild the search indexes from stored embeddings, as a job."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, RunnerDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from api.imports import REBUILD_JOB
from api.routes.schemas import JobRead, job_read
from synth.services.jobs import create_job

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["index"], responses=PROBLEM_RESPONSES)


@router.post(
    "/index/rebuild", operation_id="rebuild_index", status_code=202, response_model=JobRead
)
def post_rebuild(session: SessionDep, runner: RunnerDep, principal: AdminDep) -> JobRead:
    """Rebuild the dense and BM25 indexes in the background (admin keys only); never re-embeds."""
    job = create_job(session, kind=REBUILD_JOB, params={}, api_key_id=principal.key_id)
    session.commit()
    runner.submit(job.id)
    return job_read(job)
