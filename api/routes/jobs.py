"""``/api/v1/jobs/{id}``: state, progress and result of background work; retry a failed job."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReaderDep, RunnerDep, SessionDep, WriterDep
from api.errors import PROBLEM_RESPONSES, problem_doc
from api.routes.schemas import JobRead, job_read
from synth.errors import NotFoundError
from synth.services.jobs import JobInfo, get_job, retry_job
from synth.services.keys import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["jobs"], responses=PROBLEM_RESPONSES)


def _own(job: JobInfo, principal: Principal) -> JobInfo:
    """A job is visible to the key that started it and to admin keys; others get 404."""
    if principal.is_admin or (principal.key_id is not None and job.api_key_id == principal.key_id):
        return job
    raise NotFoundError(f"job {job.id} not found")


@router.get("/jobs/{job_id}", operation_id="get_job", response_model=JobRead)
def read_job(session: SessionDep, principal: ReaderDep, job_id: str) -> JobRead:
    """A job's state (queued, running, succeeded, failed), progress, result or error."""
    return job_read(_own(get_job(session, job_id), principal))


@router.post(
    "/jobs/{job_id}/retry",
    operation_id="retry_job",
    status_code=202,
    response_model=JobRead,
    responses={409: problem_doc("Only a failed job can be retried")},
)
def post_retry(
    session: SessionDep, runner: RunnerDep, principal: WriterDep, job_id: str
) -> JobRead:
    """Queue a failed job again (for example one interrupted by a restart)."""
    _own(get_job(session, job_id), principal)
    job = retry_job(session, job_id)
    session.commit()
    runner.submit(job.id)
    return job_read(job)
