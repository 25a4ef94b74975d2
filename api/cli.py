"""The ``synth`` command line: thin commands over the same service functions as the API."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api import (
    cli_backup,  # noqa: F401  (registers `synth export` and `synth import`)
    cli_brief,  # noqa: F401  (registers `synth brief`)
    cli_embedding,  # noqa: F401  (registers `synth reembed`)
    cli_eval_topics,  # noqa: F401  (registers `synth eval topics`)
    cli_keys,  # noqa: F401  (registers `synth keys create|list|revoke`)
    cli_measures,  # noqa: F401  (registers `synth measures ...`)
    cli_outcomes,  # noqa: F401  (registers `synth outcomes classify`, `synth eval outcomes`)
    cli_search,  # noqa: F401  (registers the search, index and eval commands)
    cli_themes,  # noqa: F401  (registers `synth topics ...` and `synth themes ...`)
    cli_worker,  # noqa: F401  (registers `synth worker`)
)
from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from api.progress import RichProgress
from api.settings import Settings
from corpus import iter_records, iter_source_files
from corpus.demo_data import demo_entry_files, load_demo_registry
from corpus.measures import DEMO_MEASURES, read_measures
from synth.engine import Engine
from synth.errors import ConfigError
from synth.services.directory import load_directory
from synth.services.ingest import IngestReport, ingest_records
from synth.services.jobs import ThreadJobRunner, recover_jobs
from synth.services.measures import import_measures
from synth.services.stats import compute_stats
from synth.store import check_schema, migrate
from synth.types import EntryRecord, RecordProblem

__all__ = ["app", "main"]


@app.command()
@synth_command
def init(ctx: typer.Context) -> None:
    """Create or upgrade the store's schema, and on PostgreSQL the job queue's (idempotent)."""
    from synth.services.job_queue import apply_queue_schema  # procrastinate: PostgreSQL only

    db = state_of(ctx).engine().db
    revision = migrate(db)
    if db.dialect.name == "postgresql" and apply_queue_schema(db):
        stderr.print("job queue tables created (schema `procrastinate`)")
    stderr.print(f"store ready at schema revision {revision}")


def _column_map(columns: list[str]) -> dict[str, str]:
    mapping = {}
    for item in columns:
        source, sep, target = item.partition("=")
        if not sep:
            raise ConfigError(f"--column '{item}' must look like 'Source column=field'")
        mapping[source.strip()] = target.strip()
    return mapping


def _read_all(
    paths: list[Path], *, fmt: str | None, defaults: Mapping[str, object], columns: dict[str, str]
) -> Iterator[EntryRecord | RecordProblem]:
    files = list(iter_source_files(paths))
    if not files:
        raise ConfigError(f"no source files found in {', '.join(map(str, paths))}")
    return itertools.chain.from_iterable(
        iter_records(f, fmt=fmt, defaults=defaults, column_map=columns or None) for f in files
    )


def _print_report(report: IngestReport, *, as_json: bool) -> None:
    if as_json:
        emit(report.to_dict())
        return
    table = Table(title="Ingest", show_header=False)
    for key, value in report.to_dict().items():
        if key == "entry_ids":
            continue
        shown = len(value) if isinstance(value, list) and key != "redactions" else value
        table.add_row(key.replace("_", " "), str(shown))
    stderr.print(table)
    for line in [*report.skipped_invalid, *report.duplicates][:50]:
        stderr.print(f"  {line}", markup=False)


@app.command()
@synth_command
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to read.")],
    network: Annotated[
        str | None, typer.Option(help="Network slug for records without one.")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Organisation slug for records without one.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Entry kind for records without one.")] = None,
    visibility: Annotated[
        str | None, typer.Option(help="private, network or public, for records without one.")
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="Project slug for records without one.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force a format (jsonl, csv…).")
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="Map a CSV column: 'Team=organisation' (repeatable).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Store valid records, report invalid ones.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read, validate, redact, chunk, embed and store entries from files."""
    defaults = {
        key: value
        for key, value in {
            "network": network,
            "organisation": organisation,
            "kind": kind,
            "visibility": visibility,
            "project": project,
        }.items()
        if value
    }
    items = _read_all(paths, fmt=fmt, defaults=defaults, columns=_column_map(column or []))
    engine = state_of(ctx).engine()
    migrate(engine.db)
    with RichProgress(stderr) as progress:
        report = ingest_records(engine, items, skip_invalid=skip_invalid, progress=progress)
    _print_report(report, as_json=as_json)


@app.command()
@synth_command
def demo(
    ctx: typer.Context,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the store already has entries.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load the bundled demo corpus (idempotent: a second run changes nothing)."""
    engine = state_of(ctx).engine()
    migrate(engine.db)
    with engine.sessions() as session:
        if if_empty and compute_stats(session).entries:
            stderr.print("store already has entries; demo not loaded")
            if as_json:
                emit(IngestReport().to_dict())
            return
    registry = load_demo_registry()
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=registry.networks,
            organisations=registry.organisations,
            projects=registry.projects,
            memberships=registry.memberships,
        )
    items = itertools.chain.from_iterable(iter_records(f) for f in demo_entry_files())
    with RichProgress(stderr) as progress:
        report = ingest_records(engine, items, progress=progress)
    measures = read_measures(DEMO_MEASURES)
    with engine.sessions.begin() as session:
        loaded = import_measures(session, measures.records, measures.problems)
    stderr.print(f"demo measures: {len(loaded.measure_ids)} series, {loaded.observations} points")
    _print_report(report, as_json=as_json)


@app.command()
@synth_command
def stats(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show what the store holds."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        result = compute_stats(session)
    if as_json:
        emit(result.to_dict())
        return
    table = Table(title="synth store", show_header=False)
    for key, value in result.to_dict().items():
        table.add_row(key.replace("_", " "), str(value))
    Console().print(table)


#: Seconds a ``synth serve --workers`` process may take to answer its supervisor.
WORKER_HEALTHCHECK_S = 120


@app.command()
@synth_command
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default SYNTH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SYNTH_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port; each loads its own model and indexes "
            "and follows the store's change feed.",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = state_of(ctx).settings
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
        )
        return
    # Each worker process builds its own app from the same SYNTH_* environment. With the
    # embedded job runner, this parent recovers interrupted and queued jobs once (workers
    # do not, so none fails another's running job) and runs the queued ones itself.
    runner = _recover_jobs_once(settings, state_of(ctx).engine())
    try:
        uvicorn.run(
            "api.app:create_worker_app",
            factory=True,
            workers=workers,
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            # A worker answers the supervisor's ping only once it has imported the app; on a
            # busy 2-core machine that takes well over uvicorn's default 5 s, and a worker
            # not answering in time is killed and started again (for ever).
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        if runner is not None:
            runner.stop()


def _recover_jobs_once(settings: Settings, engine: Engine) -> ThreadJobRunner | None:
    """Fail jobs a dead server left running and start a runner for the queued ones.

    Only for the embedded (thread) runner; the procrastinate queue needs no recovery.
    """
    from api.imports import build_handlers

    if settings.jobs.resolve(engine.db.dialect.name) != "thread":
        return None
    check_schema(engine.db)
    runner = ThreadJobRunner(engine, build_handlers())
    with engine.sessions.begin() as session:
        queued = recover_jobs(session)
    runner.start()
    for job_id in queued:
        runner.submit(job_id)
    return runner


def main() -> None:
    """Entry point of the ``synth`` console script."""
    app()
