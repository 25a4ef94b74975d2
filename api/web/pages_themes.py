"""The themes page (cards ranked by score) and a theme's page (cited summary, spread, entries)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import EngineDep, SessionDep
from api.web.pages_actions import actions_context
from api.web.pages_search import directory
from api.web.rendering import render
from api.web.session import UserDep
from api.web.svg import quarter_range, sparkline, stacked_bars
from models import Entry, Network, Organisation, Passage
from synth.core.theme_metrics import quarter_of
from synth.errors import SearchFilterError
from synth.search.query import Viewer
from synth.search.service import parse_date
from synth.services.summaries import SECTIONS, summarise_theme
from synth.services.themes import ThemeScope, list_themes

__all__ = ["router", "theme_entries"]

router = APIRouter(include_in_schema=False)
SECTION_TITLES = {
    "worked": "What is working",
    "did_not_work": "What is not working",
    "barrier": "Barriers",
    "enabler": "Enablers",
    "next_step": "Next steps people plan",
}


@dataclass(frozen=True, slots=True)
class ThemeEntry:
    """An entry with passages in a theme."""

    entry_id: int
    title: str
    network: str
    organisation: str
    occurred_on: dt.date | None


def theme_entries(session: Session, passage_ids: tuple[int, ...]) -> list[ThemeEntry]:
    """The entries behind a theme's (visible) passages, newest first."""
    if not passage_ids:
        return []
    query = (
        select(Entry.id, Entry.title, Network.name, Organisation.name, Entry.occurred_on)
        .join(Passage, Passage.entry_id == Entry.id)
        .join(Network, Network.id == Entry.network_id)
        .join(Organisation, Organisation.id == Entry.organisation_id)
        .where(Passage.id.in_(passage_ids))
        .distinct()
    )
    rows = [ThemeEntry(*row) for row in session.execute(query)]
    return sorted(rows, key=lambda e: (e.occurred_on or dt.date.min, e.entry_id), reverse=True)


def _by_network(entries: list[ThemeEntry]) -> tuple[dict[str, dict[str, int]], list[str]]:
    series: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        if entry.occurred_on is not None:
            series[entry.network][quarter_of(entry.occurred_on)] += 1
    quarters = quarter_range([q for counts in series.values() for q in counts])
    return {n: dict(series[n]) for n in sorted(series)}, quarters


def _scope(viewer: Viewer, network: str, since: str, until: str) -> ThemeScope:
    return ThemeScope(
        viewer=viewer,
        networks=(network,) if network else (),
        since=parse_date(since, "From"),
        until=parse_date(until, "To"),
    )


Text = Annotated[str, Query(max_length=100)]


@router.get("/themes", response_class=HTMLResponse)
def themes_page(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    user: UserDep,
    network: Text = "",
    since: Text = "",
    until: Text = "",
) -> HTMLResponse:
    """Theme cards ranked by score, with class, spread and a trend sparkline."""
    error, views = None, []
    try:
        scope = _scope(user.principal.viewer, network, since, until)
        views = list_themes(session, scope, engine.config.themes)
    except SearchFilterError as exc:
        error = exc.message
    cards = [(v, sparkline(v.profile.quarters)) for v in views]
    form = {"network": network, "since": since, "until": until}
    context = {"cards": cards, "form": form, "error": error, **directory(session)}
    return render(request, user, "themes.html", context)


@router.get("/themes/{theme_id}", response_class=HTMLResponse)
def theme_page(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    user: UserDep,
    theme_id: int,
    network: Text = "",
    since: Text = "",
    until: Text = "",
) -> HTMLResponse:
    """A theme: cited summary, what works and not, bright spots, spread over time, entries."""
    scope = _scope(user.principal.viewer, network, since, until)
    summary = summarise_theme(
        session, max(0, min(theme_id, 2**62)), scope, engine.config.themes, engine.splitter
    )
    entries = theme_entries(session, summary.theme.passage_ids)
    series, quarters = _by_network(entries)
    chart = stacked_bars(
        series, quarters, title=f"Entries per quarter by network: {summary.theme.name}"
    )
    context: dict[str, Any] = {
        "summary": summary,
        "view": summary.theme,
        "sections": [(SECTION_TITLES[s], summary.sections[s]) for s in SECTIONS],
        "entries": entries,
        "series": series,
        "quarters": quarters,
        "chart": chart,
        "form": {"network": network, "since": since, "until": until},
        **actions_context(session, user, summary.theme.theme_id),
    }
    return render(request, user, "theme.html", context)
