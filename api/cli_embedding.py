"""``synth reembed``: give stored passages vectors from the configured embedder."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from api.progress import RichProgress
from synth.services.reembedding import reembed_passages
from synth.store import check_schema

__all__ = ["reembed"]


@app.command()
@synth_command
def reembed(
    ctx: typer.Context,
    batch_size: Annotated[int, typer.Option(min=1, max=4096, help="Passages per commit.")] = 256,
    as_json: JsonOption = False,
) -> None:
    """Re-embed passages stored under another model or backend, then rebuild the indexes.

    Run it after changing SYNTH_EMBEDDING_BACKEND or SYNTH_EMBEDDING_MODEL on a store.
    """
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with RichProgress(stderr) as progress:
        report = reembed_passages(engine, batch_size=batch_size, progress=progress)
    if as_json:
        emit(report.to_dict())
    else:
        stderr.print(
            f"re-embedded {report.passages} passages with {report.model} "
            f"({report.encoded} encoded, {report.cache_hits} from the cache)"
        )
