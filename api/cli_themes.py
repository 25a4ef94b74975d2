"""``synth topics fit|runs`` and ``synth themes list|show|summary``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from api.progress import RichProgress
from models import TopicRun
from synth.reporting import render_summary_markdown
from synth.search.query import Viewer
from synth.search.service import parse_date
from synth.services.summaries import summarise_theme
from synth.services.themes import ThemeScope, get_theme, list_themes
from synth.services.topics import assign_new_passages, fit_topic_run, refit_suggested
from synth.store import check_schema

__all__ = ["themes_app", "topics_app"]

topics_app = typer.Typer(help="Fit and inspect the topic model.", no_args_is_help=True)
themes_app = typer.Typer(help="Themes: what recurs, where, and what works.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(themes_app, name="themes")

Networks = Annotated[list[str] | None, typer.Option("--network", help="Only these networks.")]
Since = Annotated[str | None, typer.Option(help="From date, YYYY-MM-DD.")]
Until = Annotated[str | None, typer.Option(help="To date, YYYY-MM-DD.")]


def _scope(network: list[str] | None, since: str | None, until: str | None) -> ThemeScope:
    """The local operator's scope: every entry, narrowed by the options."""
    return ThemeScope(
        viewer=Viewer.operator(),
        networks=tuple(network or ()),
        since=parse_date(since, "--since"),
        until=parse_date(until, "--until"),
    )


@topics_app.command("fit")
@synth_command
def topics_fit(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Refit the topic model on every stored passage (themes keep their ids)."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with RichProgress(stderr) as progress:
        report = fit_topic_run(
            engine.sessions, engine.embedder, engine.config.topics, engine.data_dir, progress
        )
    if as_json:
        emit(report.to_dict())
        return
    stderr.print(
        f"run {report.run_id}: {report.topics} topics from {report.passages} passages in "
        f"{report.seconds:.1f}s; unassigned {report.outlier_share:.1%} "
        f"(before outlier reduction {report.outlier_share_before_reduction:.1%}); themes kept "
        f"{report.themes_kept}, new {report.themes_new}, archived {report.themes_archived}"
    )


@topics_app.command("runs")
@synth_command
def topics_runs(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List topic runs, newest first, and whether a refit is suggested."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        runs = session.scalars(select(TopicRun).order_by(TopicRun.id.desc())).all()
        suggested, share = refit_suggested(session, engine.config.topics)
        rows = [
            {
                "id": r.id,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                "corpus_size": r.corpus_size,
                "metrics": r.metrics,
                "error": r.error,
            }
            for r in runs
        ]
    if as_json:
        emit({"runs": rows, "refit_suggested": suggested, "new_outlier_share": share})
        return
    table = Table("run", "status", "created", "passages", "topics", "unassigned")
    for r in rows:
        metrics = r["metrics"] if isinstance(r["metrics"], dict) else {}
        table.add_row(
            str(r["id"]), str(r["status"]), str(r["created_at"])[:16], str(r["corpus_size"]),
            str(metrics.get("topics", "")), str(metrics.get("outlier_share", "")),
        )  # fmt: skip
    Console().print(table)
    if suggested:
        stderr.print(f"{share:.0%} of new passages have no topic: run `synth topics fit`")


def _catch_up(ctx: typer.Context) -> None:
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session, session.begin():
        assign_new_passages(session, engine.config.topics)


@themes_app.command("list")
@synth_command
def themes_list(
    ctx: typer.Context,
    network: Networks = None,
    since: Since = None,
    until: Until = None,
    as_json: JsonOption = False,
) -> None:
    """Themes ranked by score, with class, spread and evidence."""
    _catch_up(ctx)
    engine = state_of(ctx).engine()
    with engine.sessions() as session:
        views = list_themes(session, _scope(network, since, until), engine.config.themes)
    if as_json:
        emit({"themes": [v.to_dict() for v in views]})
        return
    if not views:
        stderr.print("no themes yet: run `synth topics fit`")
        return
    table = Table("id", "theme", "class", "score", "networks", "orgs", "entries", "worked/not")
    for v in views:
        p = v.profile
        table.add_row(
            str(v.theme_id), v.name, p.theme_class, f"{p.score:.0f}", str(len(p.networks)),
            str(len(p.organisations)), str(p.entries), f"{p.worked}/{p.did_not_work}",
        )  # fmt: skip
    Console().print(table)


@themes_app.command("show")
@synth_command
def themes_show(ctx: typer.Context, theme_id: int, as_json: JsonOption = False) -> None:
    """One theme: its profile, explanation and bright spots."""
    _catch_up(ctx)
    engine = state_of(ctx).engine()
    with engine.sessions() as session:
        view = get_theme(session, theme_id, _scope(None, None, None), engine.config.themes)
    data = view.to_dict()
    if as_json:
        emit(data)
        return
    console = Console()
    console.print(f"[bold]{view.name}[/] (theme {view.theme_id}, {view.profile.theme_class})")
    for line in view.profile.explanation:
        console.print(f"  {line}")
    console.print(f"  key phrases: {', '.join(view.key_phrases)}")
    for spot in view.bright_spots:
        console.print(f"  bright spot: {spot.title} ({spot.organisation}) — {spot.reason}")


@themes_app.command("summary")
@synth_command
def themes_summary(
    ctx: typer.Context,
    theme_id: int,
    network: Networks = None,
    since: Since = None,
    until: Until = None,
    fmt: Annotated[str, typer.Option("--format", help="json or md.")] = "json",
) -> None:
    """A cited, extractive summary of a theme, for an event or a meeting."""
    if fmt not in ("json", "md"):
        raise typer.BadParameter("--format must be json or md")
    _catch_up(ctx)
    engine = state_of(ctx).engine()
    with engine.sessions() as session:
        summary = summarise_theme(
            session, theme_id, _scope(network, since, until), engine.config.themes,
            engine.splitter,
        )  # fmt: skip
    if fmt == "md":
        typer.echo(render_summary_markdown(summary), nl=False)
    else:
        emit(summary.to_dict())
