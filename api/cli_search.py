"""``synth search``, ``synth index rebuild|check`` and ``synth eval retrieval``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from synth.search.query import SearchQuery, Viewer
from synth.search.service import parse_date, search_entries
from synth.store import check_schema

__all__ = ["index_app"]

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
