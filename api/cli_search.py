"""``synth search``, ``synth index rebuild|check`` and ``synth eval retrieval``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from api.progress import RichProgress
from corpus.beir import BeirDataset, load_beir
from synth.config import RedactionConfig
from synth.engine import build_engine
from synth.search.query import SearchQuery, Viewer
from synth.search.service import parse_date, search_entries
from synth.services.evaluation import evaluate_retrieval
from synth.services.ingest import ingest_records
from synth.store import check_schema, migrate
from synth.types import EntryKind, EntryRecord, SourceRef, Visibility

__all__ = ["eval_app", "index_app"]

index_app = typer.Typer(help="Build and check the search indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")

Many = Annotated[list[str] | None, typer.Option()]


@app.command()
@synth_command
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you are about to try, in your own words.")],
    k: Annotated[int, typer.Option("-k", "--limit", min=1, max=100, help="Results.")] = 10,
    network: Many = None,
    organisation: Many = None,
    project: Many = None,
    kind: Many = None,
    tag: Many = None,
    since: Annotated[str | None, typer.Option(help="From date, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="To date, YYYY-MM-DD.")] = None,
    exclude_network: Annotated[
        str | None, typer.Option(help="Only results from outside this network.")
    ] = None,
    exclude_organisation: Annotated[
        str | None, typer.Option(help="Only results from outside this organisation.")
    ] = None,
    per_organisation: Annotated[
        int | None, typer.Option(help="At most this many results per organisation (0: no cap).")
    ] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_json: JsonOption = False,
) -> None:
    """Who else has tried this? Hybrid search across every network."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    if mode not in ("hybrid", "dense", "bm25"):
        raise typer.BadParameter("mode must be hybrid, dense or bm25")
    request = SearchQuery(
        text=query,
        k=k,
        networks=tuple(network or ()),
        organisations=tuple(organisation or ()),
        projects=tuple(project or ()),
        kinds=tuple(kind or ()),
        tags=tuple(tag or ()),
        date_from=parse_date(since, "--since"),
        date_to=parse_date(until, "--until"),
        exclude_network=exclude_network,
        exclude_organisation=exclude_organisation,
        per_organisation=per_organisation,
        mode=mode,  # type: ignore[arg-type]
    )
    indexes = engine.open_indexes()
    with engine.sessions() as session:
        hits = search_entries(
            session,
            indexes,
            engine.embedder,
            request,
            viewer=Viewer.operator(),
            config=engine.config.search,
        )
    if as_json:
        emit({"query": query, "results": [h.to_dict() for h in hits]})
        return
    console = Console()
    for rank, hit in enumerate(hits, 1):
        console.print(
            f"[bold]{rank}. {hit.title}[/bold]  ({hit.kind}, {hit.organisation_name}, "
            f"{hit.network_name}, {hit.occurred_on or 'undated'})  entry {hit.entry_id}",
            highlight=False,
        )
        console.print("   " + hit.passage.highlighted("[yellow]", "[/yellow]"), highlight=False)
    if not hits:
        stderr.print("no results")


@index_app.command("rebuild")
@synth_command
def index_rebuild(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Rebuild the dense and BM25 indexes from stored embeddings (never re-embeds)."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        index_set = engine.search_indexes.rebuild(session)
    manifest = index_set.manifest
    result = {"passages": manifest.passage_count, "model": manifest.model, "dim": manifest.dim}
    if as_json:
        emit(result)
    else:
        stderr.print(f"indexed {manifest.passage_count} passages with {manifest.model}")


@index_app.command("check")
@synth_command
def index_check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Report drift between the store and the indexes; exit 0 only when there is none."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        report = engine.search_indexes.check_saved(session)
    if as_json:
        emit(report.to_dict())
    else:
        for key, value in report.to_dict().items():
            stderr.print(f"{key}: {value}")
    if not report.ok:
        raise typer.Exit(1)


eval_app = typer.Typer(help="Measure quality on public evaluation sets.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _beir_records(dataset: BeirDataset, source: Path) -> list[EntryRecord]:
    return [
        EntryRecord(
            kind=EntryKind.EVALUATION,
            title=doc.title or doc.doc_id,
            body=doc.text or doc.title or doc.doc_id,
            network="evaluation",
            organisation="evaluation-corpus",
            visibility=Visibility.PUBLIC,
            source=SourceRef(file=str(source), external_id=doc.doc_id),
        )
        for doc in dataset.documents
    ]


@eval_app.command("retrieval")
@synth_command
def eval_retrieval(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Option(help="A BEIR-format folder (corpus, queries, qrels).")],
    split: Annotated[str, typer.Option(help="Which qrels split to score.")] = "test",
    as_json: JsonOption = False,
) -> None:
    """nDCG@10, Recall@100 and MRR@10 of BM25, dense and hybrid search on a BEIR dataset.

    The corpus is ingested (redaction off) into a throw-away store under the data folder,
    which keeps its embedding cache: a second run re-embeds nothing.
    """
    data = load_beir(dataset, split=split)
    settings = state_of(ctx).settings
    key = hashlib.sha256(str(dataset.resolve()).encode()).hexdigest()[:10]
    folder = settings.data_dir / "eval" / f"{dataset.name}-{key}"
    config = settings.engine_config().model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'store.db'}",
            "data_dir": str(folder),
            "redaction": RedactionConfig(enabled=False),
        }
    )
    engine = build_engine(config)
    try:
        migrate(engine.db)
        with RichProgress(stderr) as progress:
            report = ingest_records(engine, _beir_records(data, dataset), progress=progress)
            queries = [(q.query_id, q.text) for q in data.queries]
            scores = evaluate_retrieval(engine, queries, data.qrels, progress=progress)
    finally:
        engine.close()
    result: dict[str, object] = {m: s.to_dict() for m, s in scores.items()}
    result["dataset"] = {
        "name": dataset.name,
        "split": split,
        "documents": len(data.documents),
        "queries": len(data.queries),
        "embedded_now": report.embedded,
    }
    if as_json:
        emit(result)
        return
    for mode, values in scores.items():
        stderr.print(f"{mode:>7}: " + "  ".join(f"{k} {v}" for k, v in values.to_dict().items()))
