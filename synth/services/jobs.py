"""Background jobs: records in the store, run by a small in-process runner.

A job is created (``queued``) in the caller's transaction, handed to a :class:`JobRunner`
once committed, and moves to ``running`` then ``succeeded`` or ``failed``; progress and
errors are written to its record as it goes. The records survive a restart: at start-up
:func:`recover_jobs` marks jobs left ``running`` by a dead process as failed (they can be
retried) and returns the ``queued`` ones to submit again. The runner sits behind the
:class:`JobRunner` protocol so a database-backed queue can replace the thread without
changing the callers.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Job
from synth.engine import Engine
from synth.errors import IngestError, NotFoundError, SynthError

__all__ = [
    "JobHandler",
    "JobInfo",
    "JobProgress",
    "JobRunner",
    "JobState",
    "JobStateError",
    "ThreadJobRunner",
    "create_job",
    "get_job",
    "recover_jobs",
    "retry_job",
    "run_job",
]

logger = logging.getLogger(__name__)


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobStateError(SynthError):
    """The job is not in a state that allows this (only failed jobs can be retried)."""

    code = "job.state"
    title = "Job state conflict"


#: Does a job's work: given the engine, its params and a progress reporter, returns its result.
JobHandler = Callable[[Engine, Mapping[str, Any], "JobProgress"], dict[str, Any]]


class JobRunner(Protocol):
    """Runs submitted jobs in the background."""

    def start(self) -> None:
        """Begin taking jobs."""

    def submit(self, job_id: str) -> None:
        """Run the committed, queued job ``job_id`` when a worker is free."""

    def stop(self) -> None:
        """Stop after the job in hand (queued jobs stay queued in the store)."""


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job record as reported by the API."""

    id: str
    kind: str
    state: JobState
    done: int
    total: int
    message: str | None
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    api_key_id: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def _info(job: Job) -> JobInfo:
    return JobInfo(
        id=job.id,
        kind=job.kind,
        state=JobState(job.state),
        done=job.progress_done,
        total=job.progress_total,
        message=job.message,
        error=job.error,
        result=job.result,
        attempts=job.attempts,
        api_key_id=job.api_key_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_job(
    session: Session, *, kind: str, params: Mapping[str, Any], api_key_id: int | None
) -> JobInfo:
    """Add a queued job in the caller's transaction (submit it to a runner after commit)."""
    job = Job(
        id=uuid.uuid4().hex,
        kind=kind,
        state=JobState.QUEUED.value,
        progress_done=0,
        progress_total=0,
        params=dict(params),
        attempts=0,
        api_key_id=api_key_id,
    )
    session.add(job)
    session.flush()
    return _info(job)


def get_job(session: Session, job_id: str) -> JobInfo:
    """Return the job ``job_id``.

    Raises:
        NotFoundError: No such job.
    """
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    return _info(job)


def retry_job(session: Session, job_id: str) -> JobInfo:
    """Put a failed job back in the queue (submit it to a runner after commit).

    Raises:
        NotFoundError: No such job.
        JobStateError: The job has not failed.
    """
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    if job.state != JobState.FAILED:
        raise JobStateError(f"job {job_id} is {job.state}; only a failed job can be retried")
    job.state = JobState.QUEUED.value
    job.error = None
    job.message = "queued for retry"
    job.finished_at = None
    session.flush()
    return _info(job)


def recover_jobs(session: Session) -> list[str]:
    """Fail jobs a dead process left running; return the ids of queued jobs to submit again."""
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING.value)):
        job.state = JobState.FAILED.value
        job.error = "the process stopped while this job was running; retry it"
        job.finished_at = _now()
        logger.warning("job %s was interrupted; marked failed", job.id)
    queued = list(
        session.scalars(
            select(Job.id).where(Job.state == JobState.QUEUED.value).order_by(Job.created_at)
        )
    )
    session.flush()
    return queued


class JobProgress:
    """A :class:`~synth.ports.ProgressReporter` that writes a job's progress to its record."""

    def __init__(self, engine: Engine, job_id: str, *, interval_s: float = 0.5) -> None:
        self._engine = engine
        self._job_id = job_id
        self._interval = interval_s
        self._done = 0
        self._total = 0
        self._message = ""
        self._written = 0.0

    def start(self, total: int, description: str) -> None:
        """Begin a phase of ``total`` units."""
        self._done, self._total, self._message = 0, total, description
        self._write()

    def advance(self, units: int = 1) -> None:
        """Record ``units`` more done (written at most every ``interval_s``)."""
        self._done += units
        if time.monotonic() - self._written >= self._interval or self._done >= self._total:
            self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        with self._engine.sessions.begin() as session:
            job = session.get(Job, self._job_id)
            if job is not None:
                job.progress_done = self._done
                job.progress_total = self._total
                job.message = self._message[:500]


def _describe_failure(exc: Exception) -> str:
    if isinstance(exc, IngestError):
        return "\n".join([exc.message, *exc.problems[:50]])
    if isinstance(exc, SynthError):
        return exc.message
    return "an unexpected error stopped the job; it has been logged"


def _claim(engine: Engine, job_id: str) -> Job | None:
    with engine.sessions.begin() as session:
        job = session.get(Job, job_id, with_for_update=True)  # one claimant per job
        if job is None or job.state != JobState.QUEUED:
            return None
        job.state = JobState.RUNNING.value
        job.started_at = _now()
        job.attempts += 1
        session.flush()
        session.expunge(job)
        return job


def _finish(engine: Engine, job_id: str, **values: Any) -> None:
    with engine.sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is not None:
            for name, value in values.items():
                setattr(job, name, value)
            job.finished_at = _now()


def run_job(engine: Engine, job_id: str, handlers: Mapping[str, JobHandler]) -> None:
    """Run one queued job to the end, recording success or failure (never raises)."""
    job = _claim(engine, job_id)
    if job is None:
        return
    handler = handlers.get(job.kind)
    try:
        if handler is None:
            raise JobStateError(f"no handler for job kind '{job.kind}' in this process")
        result = handler(engine, job.params, JobProgress(engine, job_id))
    except Exception as exc:
        if not isinstance(exc, SynthError):
            logger.exception("job %s failed", job_id, extra={"job": job_id, "kind": job.kind})
        _finish(engine, job_id, state=JobState.FAILED.value, error=_describe_failure(exc))
        return
    _finish(engine, job_id, state=JobState.SUCCEEDED.value, result=result, message="done")
    logger.info("job finished", extra={"job": job_id, "kind": job.kind})


class ThreadJobRunner:
    """The embedded runner: one worker thread taking job ids from an in-memory queue."""

    def __init__(self, engine: Engine, handlers: Mapping[str, JobHandler]) -> None:
        self._engine = engine
        self._handlers = dict(handlers)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._work, name="synth-jobs", daemon=True)
            self._thread.start()

    def submit(self, job_id: str) -> None:
        """Queue ``job_id`` for the worker."""
        self._queue.put(job_id)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let the job in hand finish, then stop the worker."""
        if self._thread is not None:
            self._stopping.set()
            self._queue.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None and not self._stopping.is_set():
            run_job(self._engine, job_id, self._handlers)
