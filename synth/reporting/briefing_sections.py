"""The sections of a briefing beyond the theme summaries: each read through the viewer's eyes.

Learning from outside the scope's networks (a search restricted to the other networks), bright
spots with their measure charts, new and emerging themes, the progress of earlier actions, and
the appendix of sources.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Entry, Measure, Network, Organisation
from synth.charts import ChartPanel, chart_image
from synth.config import MeasureConfig
from synth.core.measure_analysis import AnalysisRules
from synth.core.signals import Verdict
from synth.core.theme_metrics import quarter_of
from synth.ports import SentenceSplitter
from synth.search.query import SearchHit, SearchQuery, Viewer
from synth.search.service import search_entries
from synth.services.actions import ActionFilters, ActionView, list_actions
from synth.services.entries import visible_clause
from synth.services.measures import analyse_measure, analysis_rules, bright_spots, series_of
from synth.services.summaries import CitedSentence, summarise_theme
from synth.services.themes import ThemeScope, ThemeView

if TYPE_CHECKING:
    from synth.reporting.briefing import BriefingScope, BriefingTools

__all__ = [
    "ActionProgress",
    "BrightSpotItem",
    "EmergingTheme",
    "MeasureChart",
    "Source",
    "ThemeQuote",
    "build_action_progress",
    "build_bright_spots",
    "build_emerging",
    "build_outside",
    "build_sources",
]

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class ThemeQuote:
    """A line under a theme's name: a cited sentence, or a question (``sentence`` None).

    A question that quotes an entry (its title or a few of its words) names it in ``entry_id``.
    """

    theme: str
    text: str
    sentence: CitedSentence | None
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class MeasureChart:
    """An improving measure and its run/control chart (SVG)."""

    slug: str
    name: str
    verdict: str
    svg: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class BrightSpotItem:
    """Where something worked: an entry (if the reader may see one) and the project's charts."""

    title: str
    organisation: str
    network: str
    reason: str
    entry_id: int | None
    project: str | None
    charts: tuple[MeasureChart, ...] = ()


@dataclass(frozen=True, slots=True)
class EmergingTheme:
    """A theme that is new in the period or first seen in recent quarters."""

    theme_id: int
    name: str
    theme_class: str
    entries: int
    networks: tuple[str, ...]
    first_seen: str | None
    is_new: bool
    quote: CitedSentence | None


@dataclass(frozen=True, slots=True)
class ActionProgress:
    """Actions agreed before the event, their states, and which are overdue on ``as_of``."""

    actions: tuple[ActionView, ...]
    counts: dict[str, int]
    overdue: tuple[ActionView, ...]
    theme_names: dict[int, str]
    as_of: dt.date


@dataclass(frozen=True, slots=True)
class Source:
    """An entry the briefing cites."""

    entry_id: int
    title: str
    kind: str
    organisation: str
    network: str
    occurred_on: dt.date | None


def _best_span(text: str, spans: Sequence[tuple[int, int]], words: set[str]) -> tuple[int, int]:
    """The sentence sharing most words with the query (at least 5 words long when possible)."""
    scored = []
    for start, end in spans:
        tokens = _WORD.findall(text[start:end].lower())
        scored.append((len(tokens) >= 5, sum(1 for t in set(tokens) if t in words), -start))
    best = max(range(len(spans)), key=lambda i: scored[i]) if spans else None
    return spans[best] if best is not None else (0, len(text))


def _quote_hit(hit: SearchHit, words: set[str], splitter: SentenceSplitter) -> CitedSentence:
    text = hit.passage.text
    start, end = _best_span(text, splitter.split([text])[0], words)
    raw = text[start:end]
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    return CitedSentence(
        text=text[start:end], entry_id=hit.entry_id, title=hit.title,
        organisation=hit.organisation, network=hit.network, occurred_on=hit.occurred_on,
        start=hit.passage.start + start, end=hit.passage.start + end,
    )  # fmt: skip


def build_outside(
    session: Session,
    tools: BriefingTools,
    viewer: Viewer,
    view: ThemeView,
    homes: Collection[str],
    k: int = 3,
) -> tuple[CitedSentence, ...]:
    """Similar learning from networks outside ``homes`` (nothing when the scope is everything)."""
    if tools.indexes is None or not homes:
        return ()
    others = tuple(sorted(set(session.scalars(select(Network.slug))) - set(homes)))
    if not others:
        return ()
    text = " ".join(dict.fromkeys([view.name.replace(",", " "), *view.key_phrases[:6]]))
    query = SearchQuery(text=text, k=k, networks=others, per_organisation=1)
    hits = search_entries(
        session, tools.indexes, tools.embedder, query, viewer=viewer, config=tools.search
    )
    words = set(_WORD.findall(text.lower()))
    return tuple(_quote_hit(hit, words, tools.splitter) for hit in hits)


def _charts(session: Session, project_id: int, rules: AnalysisRules) -> tuple[MeasureChart, ...]:
    query = (
        select(Measure)
        .where(Measure.project_id == project_id)
        .options(selectinload(Measure.observations), selectinload(Measure.annotations))
        .order_by(Measure.slug)
    )
    charts = []
    for measure in session.scalars(query):
        analysis = analyse_measure(measure, rules)
        if analysis.verdict is not Verdict.IMPROVEMENT:
            continue
        notes = tuple((a.on, a.text) for a in measure.annotations)
        panel = ChartPanel(series_of(measure), analysis, measure.name, measure.unit, notes)
        charts.append(
            MeasureChart(
                measure.slug, measure.name, analysis.verdict.value, chart_image(panel, "svg")
            )
        )
    return tuple(charts[:2])


def _in_scope(scope: BriefingScope, network: str, organisation: str, project: str) -> bool:
    return (
        (not scope.networks or network in scope.networks)
        and (not scope.organisations or organisation in scope.organisations)
        and (not scope.projects or project in scope.projects)
    )


def _visible_ids(session: Session, viewer: Viewer, ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(Entry.id).join(Network, Network.id == Entry.network_id)
    clause = visible_clause(viewer)
    query = query.where(Entry.id.in_(wanted), *([clause] if clause is not None else []))
    return sorted(session.scalars(query))


def _theme_spots(
    session: Session, views: Sequence[ThemeView], rules: AnalysisRules, projects: set[int]
) -> list[BrightSpotItem]:
    items = []
    for view in views:
        for spot in view.bright_spots[:2]:
            entry = session.get(Entry, spot.entry_id)
            project = entry.project if entry is not None else None
            charts: tuple[MeasureChart, ...] = ()
            if project is not None and project.id not in projects:
                charts = _charts(session, project.id, rules)
                projects.add(project.id)
            reason = f"{view.name}: {spot.reason}"
            slug = project.slug if project is not None else None
            items.append(
                BrightSpotItem(
                    spot.title, spot.organisation, spot.network, reason, spot.entry_id, slug, charts
                )
            )
    return items


def _measure_spots(
    session: Session, scope: BriefingScope, rules: AnalysisRules, projects: set[int]
) -> list[BrightSpotItem]:
    items = []
    for spot in bright_spots(session, rules):
        if spot.project_id in projects:
            continue
        if not _in_scope(scope, spot.network, spot.organisation, spot.project):
            continue
        seen = _visible_ids(session, scope.viewer, spot.entry_ids)
        reason = "measures improved: " + ", ".join(m.name for m in spot.improving)
        charts = _charts(session, spot.project_id, rules)
        entry_id = seen[-1] if seen else None
        items.append(
            BrightSpotItem(
                spot.project_name,
                spot.organisation,
                spot.network,
                reason,
                entry_id,
                spot.project,
                charts,
            )
        )
    return items


def build_bright_spots(
    session: Session,
    scope: BriefingScope,
    views: Sequence[ThemeView],
    config: MeasureConfig,
    limit: int = 6,
) -> tuple[BrightSpotItem, ...]:
    """Bright spots of the top themes, then projects in scope whose measures improved."""
    rules = analysis_rules(config)
    projects: set[int] = set()
    items = _theme_spots(session, views, rules, projects)
    items += _measure_spots(session, scope, rules, projects)
    return tuple(items[:limit])


def build_emerging(
    session: Session,
    scope: ThemeScope,
    tools: BriefingTools,
    views: Sequence[ThemeView],
    top: int,
    limit: int = 5,
) -> tuple[EmergingTheme, ...]:
    """Themes first seen in the period, or classed emerging; quoted when not already on top."""
    start = quarter_of(scope.since) if scope.since else None
    out = []
    for rank, view in enumerate(views):
        p = view.profile
        is_new = bool(start and p.first_seen and p.first_seen >= start)
        if not is_new and p.theme_class != "emerging":
            continue
        quote = None
        if rank >= top:
            summary = summarise_theme(session, view.theme_id, scope, tools.themes, tools.splitter)
            quote = summary.overview[0] if summary.overview else None
        out.append(
            EmergingTheme(
                view.theme_id,
                view.name,
                p.theme_class,
                p.entries,
                tuple(p.networks),
                p.first_seen,
                is_new,
                quote,
            )
        )
        if len(out) == limit:
            break
    return tuple(out)


def _action_in_scope(
    action: ActionView, scope: BriefingScope, homes: Collection[str], themes: Collection[int]
) -> bool:
    if not (scope.networks or scope.organisations or scope.projects):
        return True
    if action.network is None:
        return action.theme_id in themes
    return action.network in homes or (action.project or "") in scope.projects


def build_action_progress(
    session: Session, scope: BriefingScope, homes: Collection[str], names: dict[int, str]
) -> ActionProgress:
    """Actions agreed before the event (all, without an event date) and how they stand."""
    as_of = scope.event_date or dt.date.today()
    actions = tuple(
        a
        for a in list_actions(session, scope.viewer, ActionFilters())
        if _action_in_scope(a, scope, homes, names)
        and (scope.event_date is None or a.agreed_on is None or a.agreed_on < scope.event_date)
    )
    counts = Counter(a.status for a in actions)
    return ActionProgress(
        actions=actions,
        counts={s: counts[s] for s in ("open", "in_progress", "done", "dropped")},
        overdue=tuple(a for a in actions if a.is_overdue(as_of)),
        theme_names={a.theme_id: names.get(a.theme_id, f"Theme {a.theme_id}") for a in actions},
        as_of=as_of,
    )


def build_sources(session: Session, viewer: Viewer, ids: Collection[int]) -> tuple[Source, ...]:
    """The cited entries the viewer may see, by id."""
    if not ids:
        return ()
    query = (
        select(
            Entry.id, Entry.title, Entry.kind, Organisation.slug, Network.slug, Entry.occurred_on
        )
        .join(Network, Network.id == Entry.network_id)
        .join(Organisation, Organisation.id == Entry.organisation_id)
        .where(Entry.id.in_(sorted(ids)))
    )
    clause = visible_clause(viewer)
    if clause is not None:
        query = query.where(clause)
    return tuple(Source(*row) for row in session.execute(query.order_by(Entry.id)))
