"""The PostgreSQL job queue: jobs run by any number of ``synth worker`` processes.

The job records, their states and the status API are those of :mod:`synth.services.jobs`;
only the hand-over differs. :class:`ProcrastinateJobRunner` defers a procrastinate task that
carries the job id (a queueing lock keyed by that id stops the same job being queued twice),
and a worker process runs the task with the same :func:`~synth.services.jobs.run_job` the
embedded runner calls. procrastinate keeps its tables in their own PostgreSQL schema,
``procrastinate``, so Alembic, which owns ours in ``public``, never sees them;
:func:`apply_queue_schema` creates them (``synth init``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import Engine as DbEngine
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from models import Job
from synth.engine import Engine
from synth.errors import ConfigError, StoreError
from synth.services.jobs import JobHandler, JobState, run_job

__all__ = [
    "QUEUE",
    "QUEUE_SCHEMA",
    "TASK_NAME",
    "ProcrastinateJobRunner",
    "apply_queue_schema",
    "queue_schema_exists",
    "queued_job_ids",
]

logger = logging.getLogger(__name__)

#: The procrastinate queue synth's jobs go to.
QUEUE = "synth"
#: The procrastinate task that runs one job record.
TASK_NAME = "synth.run_job"
#: The PostgreSQL schema that holds procrastinate's tables and functions.
QUEUE_SCHEMA = "procrastinate"


def _require_postgresql(db: DbEngine) -> None:
    if db.dialect.name != "postgresql":
        raise ConfigError(
            "the procrastinate job queue needs PostgreSQL (SYNTH_DATABASE_URL="
            "postgresql+psycopg://…); on SQLite use SYNTH_JOBS__BACKEND=thread"
        )


def queue_schema_exists(db: DbEngine) -> bool:
    """True when procrastinate's tables are in the database."""
    _require_postgresql(db)
    with db.connect() as connection:
        found = connection.scalar(text(f"SELECT to_regclass('{QUEUE_SCHEMA}.procrastinate_jobs')"))
    return found is not None


def apply_queue_schema(db: DbEngine) -> bool:
    """Create procrastinate's schema unless it is there; return True when it was created.

    Raises:
        ConfigError: The store is not PostgreSQL.
    """
    if queue_schema_exists(db):
        return False
    sql = SchemaManager.get_schema()
    with db.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
        connection.exec_driver_sql(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
        connection.exec_driver_sql(sql.replace("%", "%%"))  # no parameters: escape the %s
    logger.info("job queue schema created", extra={"schema": QUEUE_SCHEMA})
    return True


def queued_job_ids(session: Session) -> list[str]:
    """Ids of the queued job records, oldest first (to hand to the queue again at start-up)."""
    query = select(Job.id).where(Job.state == JobState.QUEUED.value).order_by(Job.created_at)
    return list(session.scalars(query))


def _conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ProcrastinateJobRunner:
    """A :class:`~synth.services.jobs.JobRunner` on procrastinate's PostgreSQL queue.

    In an API process it only defers tasks (:meth:`submit`); ``synth worker`` processes
    call :meth:`run_worker` to take them. Two workers never run one job: procrastinate hands
    each queued task to one worker, and :func:`~synth.services.jobs.run_job` claims the record
    under a row lock.
    """

    def __init__(
        self, engine: Engine, handlers: Mapping[str, JobHandler], *, max_connections: int = 4
    ) -> None:
        _require_postgresql(engine.db)
        self._engine = engine
        self._handlers = dict(handlers)
        connector = procrastinate.PsycopgConnector(
            conninfo=_conninfo(engine.config.database_url),
            kwargs={"options": f"-c search_path={QUEUE_SCHEMA}"},
            min_size=1,
            max_size=max_connections,
        )
        self._app = procrastinate.App(connector=connector)
        self._task: Any = self._app.task(name=TASK_NAME, queue=QUEUE)(self._run)

    def _run(self, job_id: str) -> None:
        run_job(self._engine, job_id, self._handlers)

    def start(self) -> None:
        """Open the connection pool used to defer tasks.

        Raises:
            StoreError: procrastinate's schema is missing (run ``synth init``).
        """
        if not queue_schema_exists(self._engine.db):
            raise StoreError("the job queue's tables are missing: run `synth init`")
        self._app.open()

    def submit(self, job_id: str) -> None:
        """Queue the committed job ``job_id`` for a worker (once, however often submitted)."""
        try:
            self._task.configure(queueing_lock=job_id).defer(job_id=job_id)
        except AlreadyEnqueued:
            logger.info("job %s is already queued", job_id)

    def stop(self) -> None:
        """Close the connection pool (queued jobs stay queued for the workers)."""
        self._app.close()

    def run_worker(self, *, concurrency: int = 1, wait: bool = True) -> None:
        """Take and run queued jobs until stopped by a signal (or, without ``wait``, idle).

        ``concurrency`` jobs run at once, each in its own thread.
        """
        self._app.run_worker(
            queues=[QUEUE],
            concurrency=concurrency,
            wait=wait,
            name=f"synth-worker-{concurrency}",
        )
