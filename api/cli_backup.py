"""``synth export`` and ``synth import``: back up the store as JSON Lines, restore it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from synth.services.backup import BackupReport, export_store, import_store
from synth.store import check_schema

__all__ = ["export", "import_backup"]

FolderArgument = Annotated[Path, typer.Argument(help="The backup folder.")]


def _print(report: BackupReport, verb: str, *, as_json: bool) -> None:
    if as_json:
        emit(report.to_dict())
        return
    stderr.print(
        f"{verb} {sum(report.tables.values()):,} rows of {len(report.tables)} tables "
        f"({report.folder}, schema {report.schema_revision}) in {report.seconds} s"
    )


@app.command("export")
@synth_command
def export(ctx: typer.Context, folder: FolderArgument, as_json: JsonOption = False) -> None:
    """Back up the whole store into a new FOLDER: one JSONL file per table and a manifest."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    _print(export_store(engine.db, folder), "exported", as_json=as_json)


@app.command("import")
@synth_command
def import_backup(
    ctx: typer.Context,
    folder: FolderArgument,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete everything in the store first.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a `synth export` FOLDER into an empty store, in one transaction.

    The search indexes are rebuilt from the restored embeddings when the store is next
    opened (or now, with `synth index rebuild`); nothing is re-embedded.
    """
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    _print(import_store(engine.db, folder, replace=replace), "imported", as_json=as_json)
