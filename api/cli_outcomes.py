"""``synth outcomes classify`` and ``synth eval outcomes``: sentence outcome labels."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from api.cli_search import eval_app
from api.progress import RichProgress
from corpus import iter_records, iter_source_files
from corpus.demo_data import DEMO_DIR
from synth.core.outcome_cues import OutcomeLabel
from synth.errors import IngestError
from synth.services.ingest import validate_records
from synth.services.outcome_evaluation import (
    evaluate_outcomes,
    labelled_texts,
    load_outcome_truth,
)
from synth.services.outcomes import classify_stored_passages
from synth.store import check_schema

__all__ = ["eval_outcomes", "outcomes_app", "outcomes_classify"]

outcomes_app = typer.Typer(
    help="Label sentences as worked, did not work, barrier, enabler or next step.",
    no_args_is_help=True,
)
app.add_typer(outcomes_app, name="outcomes")


@outcomes_app.command("classify")
@synth_command
def outcomes_classify(
    ctx: typer.Context,
    relabel_all: Annotated[
        bool, typer.Option("--all", help="Relabel every entry, not only unlabelled ones.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Label the sentences of stored passages (entries ingested before labels existed)."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with RichProgress(stderr) as progress, engine.sessions.begin() as session:
        report = classify_stored_passages(
            session, engine.outcome_classifier, only_missing=not relabel_all, progress=progress
        )
    if as_json:
        emit(report.to_dict())
        return
    stderr.print(f"labelled {report.sentences} sentences in {report.entries} entries")
    for label, count in report.to_dict()["labels"].items():  # type: ignore[attr-defined]
        stderr.print(f"  {label}: {count}")


@eval_app.command("outcomes")
@synth_command
def eval_outcomes(
    ctx: typer.Context,
    dataset: Annotated[
        Path | None,
        typer.Option(help="A folder with entries/ and ground_truth/ (default: the demo corpus)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Precision, recall and F1 per label of the cues, prototypes and hybrid methods."""
    folder = dataset or DEMO_DIR
    engine = state_of(ctx).engine()
    truth = load_outcome_truth(folder / "ground_truth")
    files = list(iter_source_files([folder / "entries"]))
    records, problems = validate_records(
        itertools.chain.from_iterable(iter_records(f) for f in files)
    )
    if problems:
        raise IngestError(
            f"{len(problems)} invalid record(s) in {folder / 'entries'}",
            problems=tuple(p.describe() for p in problems),
        )
    texts = labelled_texts(records, truth)
    result = evaluate_outcomes(
        texts, embedder=engine.embedder, splitter=engine.splitter, config=engine.config.outcomes
    ).to_dict()
    if as_json:
        emit(result)
        return
    for method in ("cues", "prototypes", "hybrid"):
        scores = result[method]
        assert isinstance(scores, dict)
        stderr.print(f"[bold]{method}[/bold]")
        for label in [*(label.value for label in OutcomeLabel), "macro"]:
            s = scores[label]
            stderr.print(
                f"  {label:>13}: P {s['precision']:.3f}  R {s['recall']:.3f}  "
                f"F1 {s['f1']:.3f}  n {s['support']}"
            )
    stderr.print(f"{result['sentences']} sentences, {result['labelled']} labelled")
