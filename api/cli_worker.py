"""``synth worker``: a process that takes jobs from the PostgreSQL queue and runs them."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli_common import app, state_of, stderr, synth_command
from synth.errors import StoreError
from synth.store import check_schema

__all__ = ["worker"]


@app.command()
@synth_command
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs this process runs at once (threads).")
    ] = 1,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop once the queue is empty (for scripts).")
    ] = False,
) -> None:
    """Run queued jobs (bulk imports, index rebuilds, topic refits) from the PostgreSQL queue.

    Start as many as you like, on any machine that reaches the store; each job runs once.
    """
    from api.imports import build_handlers
    from synth.services.job_queue import ProcrastinateJobRunner, queue_schema_exists

    engine = state_of(ctx).engine()
    check_schema(engine.db)
    if not queue_schema_exists(engine.db):
        raise StoreError("the job queue's tables are missing: run `synth init`")
    runner = ProcrastinateJobRunner(engine, build_handlers(), max_connections=concurrency + 2)
    stderr.print(f"worker taking jobs, {concurrency} at a time")
    runner.run_worker(concurrency=concurrency, wait=not until_idle)
