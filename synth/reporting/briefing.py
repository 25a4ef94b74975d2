"""Briefing packs for an event or a meeting: what the store knows about a scope, all cited.

A briefing is built for one viewer and a scope (networks, or organisations or projects) over a
period: the top themes with their cited summaries, what is and is not working, bright spots
with their measure charts, learning from outside the scope's networks, new and emerging themes,
questions for the event, the progress of actions agreed earlier, and the sources. Every quoted
sentence carries its entry; everything is read through the viewer's eyes, so a briefing never
quotes, names or counts an entry its reader may not see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Network, Organisation, Project
from synth.config import MeasureConfig, SearchConfig, ThemeConfig
from synth.engine import Engine
from synth.errors import SearchFilterError
from synth.ports import Embedder, ProgressReporter, SentenceSplitter
from synth.reporting.briefing_sections import (
    ActionProgress,
    BrightSpotItem,
    EmergingTheme,
    MeasureChart,
    Source,
    ThemeQuote,
    build_action_progress,
    build_bright_spots,
    build_emerging,
    build_outside,
    build_sources,
)
from synth.search.indexes import IndexSet
from synth.search.query import Viewer
from synth.services.summaries import CitedSentence, ThemeSummary, summarise_theme
from synth.services.themes import ThemeScope, ThemeView, list_themes

__all__ = [
    "ActionProgress",
    "Briefing",
    "BriefingScope",
    "BriefingScopeError",
    "BriefingTheme",
    "BriefingTools",
    "BrightSpotItem",
    "EmergingTheme",
    "MeasureChart",
    "Source",
    "ThemeQuote",
    "build_briefing",
]


class BriefingScopeError(SearchFilterError):
    """A briefing's scope names a network, organisation or project that does not exist."""

    code = "briefing.scope"
    title = "Invalid briefing scope"


@dataclass(frozen=True, slots=True)
class BriefingScope:
    """Who reads the briefing, what it covers (slugs; all empty: everything) and when."""

    viewer: Viewer
    networks: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    event_date: dt.date | None = None
    title: str | None = None

    def describe(self) -> str:
        """A one-line statement of the scope, for the cover."""
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("networks", self.networks),
                ("organisations", self.organisations),
                ("projects", self.projects),
            )
            if values
        ]
        period = f"{self.since or 'the start'} to {self.until or 'now'}"
        return f"{'; '.join(parts) or 'every network'}; entries from {period}"


@dataclass(frozen=True, slots=True)
class BriefingTools:
    """What a briefing reads besides the store: settings, the sentence splitter, the indexes.

    ``indexes`` of ``None`` leaves out "learning from outside your network".
    """

    themes: ThemeConfig
    search: SearchConfig
    measures: MeasureConfig
    splitter: SentenceSplitter
    embedder: Embedder
    indexes: IndexSet | None

    @classmethod
    def from_engine(cls, engine: Engine, *, with_indexes: bool = True) -> BriefingTools:
        """Take everything from a built engine (opens the search indexes when asked)."""
        return cls(
            themes=engine.config.themes,
            search=engine.config.search,
            measures=engine.config.measures,
            splitter=engine.splitter,
            embedder=engine.embedder,
            indexes=engine.open_indexes() if with_indexes else None,
        )


@dataclass(frozen=True, slots=True)
class BriefingTheme:
    """A top theme: its cited summary and similar learning from outside the scope."""

    summary: ThemeSummary
    outside: tuple[CitedSentence, ...]

    @property
    def view(self) -> ThemeView:
        """The theme as the reader sees it."""
        return self.summary.theme


@dataclass(frozen=True, slots=True)
class Briefing:
    """A briefing pack, ready to render as HTML, Markdown or PDF."""

    scope: BriefingScope
    title: str
    generated_on: dt.date
    home_networks: tuple[str, ...]
    themes: tuple[BriefingTheme, ...]
    working: tuple[ThemeQuote, ...]
    not_working: tuple[ThemeQuote, ...]
    bright_spots: tuple[BrightSpotItem, ...]
    emerging: tuple[EmergingTheme, ...]
    questions: tuple[ThemeQuote, ...]
    actions: ActionProgress
    sources: tuple[Source, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the API): quotes with their citations; charts as chart links."""
        return {
            "title": self.title,
            "scope": _scope_dict(self.scope),
            "generated_on": self.generated_on.isoformat(),
            "home_networks": list(self.home_networks),
            "themes": [
                {**t.summary.to_dict(), "outside": [s.to_dict() for s in t.outside]}
                for t in self.themes
            ],
            "working": [_quote_dict(q) for q in self.working],
            "not_working": [_quote_dict(q) for q in self.not_working],
            "bright_spots": [_spot_dict(s) for s in self.bright_spots],
            "emerging": [_emerging_dict(e) for e in self.emerging],
            "questions": [
                {"theme": q.theme, "text": q.text, "entry_id": q.entry_id} for q in self.questions
            ],
            "actions": {
                "as_of": self.actions.as_of.isoformat(),
                "counts": self.actions.counts,
                "items": [
                    {
                        **a.to_dict(),
                        "overdue": a in self.actions.overdue,
                        "theme": self.actions.theme_names[a.theme_id],
                    }
                    for a in self.actions.actions
                ],
            },
            "sources": [_source_dict(s) for s in self.sources],
        }

    def quotes(self) -> list[CitedSentence]:
        """Every quoted sentence in the briefing (each carries its citation)."""
        out = [s for t in self.themes for s in t.summary.overview]
        out += [s for t in self.themes for ss in t.summary.sections.values() for s in ss]
        out += [s for t in self.themes for s in t.outside]
        out += [q.sentence for q in (*self.working, *self.not_working) if q.sentence]
        out += [e.quote for e in self.emerging if e.quote]
        return out


def _check_slugs(session: Session, scope: BriefingScope) -> None:
    for model, slugs, what in (
        (Network, scope.networks, "network"),
        (Organisation, scope.organisations, "organisation"),
        (Project, scope.projects, "project"),
    ):
        if not slugs:
            continue
        found = set(session.scalars(select(model.slug).where(model.slug.in_(slugs))))
        missing = [s for s in slugs if s not in found]
        if missing:
            raise BriefingScopeError(f"unknown {what} '{missing[0]}'")


def home_networks(session: Session, scope: BriefingScope) -> tuple[str, ...]:
    """The networks the scope lives in: named, or those of its organisations and projects."""
    slugs = set(scope.networks)
    if scope.organisations:
        orgs = session.scalars(
            select(Organisation).where(Organisation.slug.in_(scope.organisations))
        )
        slugs |= {n.slug for org in orgs for n in org.networks}
    if scope.projects:
        projects = session.scalars(select(Project).where(Project.slug.in_(scope.projects)))
        slugs |= {p.network.slug for p in projects}
    return tuple(sorted(slugs))


def _theme_quotes(themes: tuple[BriefingTheme, ...], label: str, k: int) -> tuple[ThemeQuote, ...]:
    """The best ``k`` sentences under ``label`` across themes, taken in turn from each theme."""
    columns = [[(t.view.name, s) for s in t.summary.sections.get(label, ())] for t in themes]
    out: list[ThemeQuote] = []
    seen: set[int] = set()
    for depth in range(max((len(c) for c in columns), default=0)):
        for column in columns:
            if depth < len(column) and len(out) < k and column[depth][1].entry_id not in seen:
                seen.add(column[depth][1].entry_id)
                out.append(ThemeQuote(column[depth][0], column[depth][1].text, column[depth][1]))
    return tuple(out)


def _question_source(summary: ThemeSummary, question: str) -> int | None:
    """The entry a question quotes (a bright spot's title, or a sentence's first words)."""
    for spot in summary.theme.bright_spots:
        if f"“{spot.title}”" in question:
            return spot.entry_id
    for sentences in (summary.overview, *summary.sections.values()):
        for sentence in sentences:
            if f"“{' '.join(sentence.text.split()[:8])}" in question:
                return sentence.entry_id
    return None


def _questions(
    themes: tuple[BriefingTheme, ...], actions: ActionProgress
) -> tuple[ThemeQuote, ...]:
    out = [
        ThemeQuote(t.view.name, q, None, _question_source(t.summary, q))
        for t in themes
        for q in t.summary.questions
    ]
    for action in actions.overdue[:3]:
        theme = actions.theme_names.get(action.theme_id, f"Theme {action.theme_id}")
        text = f"Overdue since {action.due_on}: {action.what}. What is in the way?"
        out.append(ThemeQuote(theme, text, None))
    return tuple(out)


class _Steps:
    """Progress over the sections (a no-op without a reporter)."""

    def __init__(self, progress: ProgressReporter | None, total: int) -> None:
        self._progress = progress
        if progress is not None:
            progress.start(total, "Building the briefing")

    def done(self) -> None:
        if self._progress is not None:
            self._progress.advance()


def build_briefing(
    session: Session,
    tools: BriefingTools,
    scope: BriefingScope,
    *,
    top: int = 5,
    progress: ProgressReporter | None = None,
) -> Briefing:
    """Build the briefing pack for ``scope`` as ``scope.viewer`` may see it.

    Raises:
        BriefingScopeError: The scope names a network, organisation or project that does not
            exist.
    """
    _check_slugs(session, scope)
    theme_scope = ThemeScope(
        viewer=scope.viewer, networks=scope.networks, since=scope.since, until=scope.until,
        organisations=scope.organisations, projects=scope.projects,
    )  # fmt: skip
    views = list_themes(session, theme_scope, tools.themes)
    homes = home_networks(session, scope)
    steps = _Steps(progress, len(views[:top]) + 5)
    themes = []
    for view in views[:top]:
        summary = summarise_theme(session, view.theme_id, theme_scope, tools.themes, tools.splitter)
        outside = build_outside(session, tools, scope.viewer, view, homes)
        themes.append(BriefingTheme(summary, outside))
        steps.done()
    chosen = tuple(themes)
    spots = build_bright_spots(session, scope, [t.view for t in chosen], tools.measures)
    steps.done()
    emerging = build_emerging(session, theme_scope, tools, views, top)
    steps.done()
    names = {v.theme_id: v.name for v in views}
    actions = build_action_progress(session, scope, homes, names)
    steps.done()
    briefing = Briefing(
        scope=scope, title=scope.title or _title(scope), generated_on=dt.date.today(),
        home_networks=homes, themes=chosen, working=_theme_quotes(chosen, "worked", 6),
        not_working=_theme_quotes(chosen, "did_not_work", 6), bright_spots=spots,
        emerging=emerging, questions=_questions(chosen, actions), actions=actions,
    )  # fmt: skip
    steps.done()
    result = _with_sources(session, briefing)
    steps.done()
    return result


def _with_sources(session: Session, briefing: Briefing) -> Briefing:
    ids = {q.entry_id for q in briefing.quotes()}
    ids |= {s.entry_id for s in briefing.bright_spots if s.entry_id is not None}
    return replace(briefing, sources=build_sources(session, briefing.scope.viewer, ids))


def _title(scope: BriefingScope) -> str:
    who = ", ".join(scope.networks or scope.organisations or scope.projects) or "all networks"
    when = f" — event on {scope.event_date.isoformat()}" if scope.event_date else ""
    return f"Briefing for {who}{when}"


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _scope_dict(scope: BriefingScope) -> dict[str, object]:
    return {
        "networks": list(scope.networks), "organisations": list(scope.organisations),
        "projects": list(scope.projects), "since": _iso(scope.since), "until": _iso(scope.until),
        "event_date": _iso(scope.event_date),
    }  # fmt: skip


def _quote_dict(quote: ThemeQuote) -> dict[str, object]:
    return {"theme": quote.theme, **(quote.sentence.to_dict() if quote.sentence else {})}


def _spot_dict(spot: BrightSpotItem) -> dict[str, object]:
    return {
        "title": spot.title, "organisation": spot.organisation, "network": spot.network,
        "reason": spot.reason, "entry_id": spot.entry_id, "project": spot.project,
        "charts": [
            {"measure": c.slug, "name": c.name, "verdict": c.verdict,
             "chart": f"/api/v1/measures/{c.slug}/chart.svg"}
            for c in spot.charts
        ],
    }  # fmt: skip


def _emerging_dict(item: EmergingTheme) -> dict[str, object]:
    return {
        "theme_id": item.theme_id, "name": item.name, "class": item.theme_class,
        "entries": item.entries, "networks": list(item.networks), "first_seen": item.first_seen,
        "new": item.is_new, "quote": item.quote.to_dict() if item.quote else None,
    }  # fmt: skip


def _source_dict(source: Source) -> dict[str, object]:
    return {
        "entry_id": source.entry_id, "title": source.title, "kind": source.kind,
        "organisation": source.organisation, "network": source.network,
        "date": _iso(source.occurred_on),
    }  # fmt: skip
