"""``synth brief``: a briefing pack for an event or a meeting, as HTML, Markdown or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import app, state_of, stderr, synth_command
from api.progress import RichProgress
from synth.errors import ConfigError
from synth.reporting import (
    BriefingScope,
    BriefingTools,
    build_briefing,
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)
from synth.search.query import Viewer
from synth.search.service import parse_date
from synth.store import check_schema

__all__ = ["brief"]

Many = Annotated[list[str] | None, typer.Option()]
FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".pdf": "pdf"}


def _format(fmt: str | None, out: Path) -> str:
    chosen = fmt or FORMATS.get(out.suffix.lower())
    if chosen not in ("html", "md", "pdf"):
        given = fmt or out.suffix or "no suffix"
        raise ConfigError(f"--format must be html, md or pdf (or --out ending so), not '{given}'")
    return chosen


def _viewer(networks: list[str] | None, organisations: list[str] | None) -> Viewer:
    if not networks and not organisations:
        return Viewer.operator()
    return Viewer(networks=frozenset(networks or ()), organisations=frozenset(organisations or ()))


@app.command()
@synth_command
def brief(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.html, .md or .pdf).")],
    network: Many = None,
    organisation: Many = None,
    project: Many = None,
    since: Annotated[str | None, typer.Option(help="Entries from, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Entries to, YYYY-MM-DD.")] = None,
    event_date: Annotated[str | None, typer.Option(help="The event's date, YYYY-MM-DD.")] = None,
    title: Annotated[str | None, typer.Option(help="Title on the cover.")] = None,
    top: Annotated[int, typer.Option(min=1, max=20, help="Top themes to summarise.")] = 5,
    fmt: Annotated[str | None, typer.Option("--format", help="html, md or pdf.")] = None,
    for_network: Annotated[
        list[str] | None,
        typer.Option(help="Build as a reader of these networks (default: every entry)."),
    ] = None,
    for_organisation: Annotated[
        list[str] | None, typer.Option(help="…and of these organisations' private entries.")
    ] = None,
) -> None:
    """Build a briefing pack: top themes, what works, bright spots, actions, sources."""
    kind = _format(fmt, out)
    scope = BriefingScope(
        viewer=_viewer(for_network, for_organisation),
        networks=tuple(network or ()),
        organisations=tuple(organisation or ()),
        projects=tuple(project or ()),
        since=parse_date(since, "--since"),
        until=parse_date(until, "--until"),
        event_date=parse_date(event_date, "--event-date"),
        title=title,
    )
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with RichProgress(stderr) as progress, engine.sessions() as session:
        tools = BriefingTools.from_engine(engine)
        briefing = build_briefing(session, tools, scope, top=top, progress=progress)
        progress.start(1, f"Writing {kind.upper()}")
        if kind == "pdf":
            out.write_bytes(render_briefing_pdf(briefing))
        else:
            render = render_briefing_html if kind == "html" else render_briefing_markdown
            out.write_text(render(briefing), encoding="utf-8")
        progress.advance()
    stderr.print(
        f"briefing written to {out}: {len(briefing.themes)} themes, "
        f"{len(briefing.sources)} sources, {len(briefing.actions.actions)} earlier actions"
    )
