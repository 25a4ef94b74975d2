"""Themes as a viewer sees them: profiles from visible passages only, ranked by score.

Every count, key phrase and name is computed from the passages the viewer may see (the same
visibility rule as search), so a theme built partly from hidden entries shows only its
visible part and never quotes — or names itself after — the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models import (
    Entry,
    Network,
    Organisation,
    OutcomeSentence,
    Passage,
    PassageTopic,
    Project,
    Theme,
)
from synth.config import ThemeConfig
from synth.core.signals import Verdict
from synth.core.theme_metrics import (
    ThemePassage,
    ThemeProfile,
    build_theme_profile,
    build_timeline,
    quarter_of,
)
from synth.errors import NotFoundError
from synth.search.query import Viewer
from synth.services.entries import visible_clause
from synth.services.measures import project_verdicts
from synth.services.topics import current_run
from synth.topics.pipeline import build_label

__all__ = ["BrightSpot", "ThemeScope", "ThemeView", "get_theme", "list_themes"]

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class ThemeScope:
    """Whose eyes, and which slice of the store: networks and a date range.

    ``organisations`` and ``projects`` narrow it further (a management meeting, a project board).
    """

    viewer: Viewer
    networks: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    organisations: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BrightSpot:
    """An entry with strong evidence that something worked, inside a theme."""

    entry_id: int
    title: str
    organisation: str
    network: str
    occurred_on: dt.date | None
    worked: int
    did_not_work: int
    reason: str


@dataclass(frozen=True, slots=True)
class ThemeView:
    """A theme's identity and its profile as one viewer sees it."""

    theme_id: int
    name: str
    key_phrases: tuple[str, ...]
    profile: ThemeProfile
    bright_spots: tuple[BrightSpot, ...] = field(default=())
    passage_ids: tuple[int, ...] = field(default=(), repr=False)
    timeline: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (CLI ``--json`` and the API)."""
        p = self.profile
        return {
            "id": self.theme_id, "name": self.name, "class": p.theme_class, "score": p.score,
            "key_phrases": list(self.key_phrases), "passages": p.passages, "entries": p.entries,
            "networks": p.networks, "organisations": p.organisations,
            "network_evenness": p.network_evenness, "quarters": p.quarters,
            "first_seen": p.first_seen, "last_seen": p.last_seen, "growth": p.growth,
            "worked": p.worked, "did_not_work": p.did_not_work,
            "project_verdicts": p.project_verdicts, "explanation": list(p.explanation),
            "bright_spots": [_spot_dict(s) for s in self.bright_spots],
            "timeline": self.timeline,
        }  # fmt: skip


def _spot_dict(spot: BrightSpot) -> dict[str, object]:
    return {
        "entry_id": spot.entry_id, "title": spot.title, "organisation": spot.organisation,
        "network": spot.network, "date": spot.occurred_on.isoformat() if spot.occurred_on else None,
        "worked": spot.worked, "did_not_work": spot.did_not_work, "reason": spot.reason,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Row:
    passage_id: int
    theme_id: int
    passage: ThemePassage
    title: str


def _scope_conditions(scope: ThemeScope) -> list[ColumnElement[bool]]:
    """SQL conditions on Entry/Network for what the scope covers and the viewer may see."""
    conditions = []
    clause = visible_clause(scope.viewer)
    if clause is not None:
        conditions.append(clause)
    if scope.networks:
        conditions.append(Network.slug.in_(scope.networks))
    if scope.organisations:
        orgs = select(Organisation.id).where(Organisation.slug.in_(scope.organisations))
        conditions.append(Entry.organisation_id.in_(orgs))
    if scope.projects:
        projects = select(Project.id).where(Project.slug.in_(scope.projects))
        conditions.append(Entry.project_id.in_(projects))
    if scope.since is not None:
        conditions.append(Entry.occurred_on >= scope.since)
    if scope.until is not None:
        conditions.append(Entry.occurred_on <= scope.until)
    return conditions


def _rows(session: Session, run_id: int, scope: ThemeScope, theme_id: int | None) -> list[_Row]:
    query = (
        select(
            PassageTopic.passage_id,
            PassageTopic.theme_id,
            Entry.id,
            Entry.title,
            Network.slug,
            Organisation.slug,
            Entry.project_id,
            Entry.occurred_on,
        )
        .join(Passage, Passage.id == PassageTopic.passage_id)
        .join(Entry, Entry.id == Passage.entry_id)
        .join(Network, Network.id == Entry.network_id)
        .join(Organisation, Organisation.id == Entry.organisation_id)
        .where(PassageTopic.run_id == run_id, PassageTopic.theme_id.is_not(None))
    )
    if theme_id is not None:
        query = query.where(PassageTopic.theme_id == theme_id)
    result = session.execute(
        query.where(*_scope_conditions(scope)).order_by(PassageTopic.passage_id)
    )
    return [
        _Row(pid, tid, ThemePassage(eid, net, org, proj, day), title)
        for pid, tid, eid, title, net, org, proj, day in result
        if tid is not None
    ]


def _outcomes(
    session: Session, run_id: int, scope: ThemeScope, theme_id: int | None
) -> dict[int, Counter[str]]:
    """Outcome label counts per visible entry, over passages that have a theme in this run."""
    query = (
        select(OutcomeSentence.entry_id, OutcomeSentence.label, func.count())
        .join(PassageTopic, PassageTopic.passage_id == OutcomeSentence.passage_id)
        .join(Entry, Entry.id == OutcomeSentence.entry_id)
        .join(Network, Network.id == Entry.network_id)
        .where(PassageTopic.run_id == run_id, PassageTopic.theme_id.is_not(None))
        .where(*_scope_conditions(scope))
        .group_by(OutcomeSentence.entry_id, OutcomeSentence.label)
    )
    if theme_id is not None:
        query = query.where(PassageTopic.theme_id == theme_id)
    per_entry: dict[int, Counter[str]] = defaultdict(Counter)
    for entry_id, label, n in session.execute(query):
        per_entry[entry_id][label] += n
    return per_entry


def _reference_quarter(session: Session, scope: ThemeScope) -> str | None:
    query = select(func.max(Entry.occurred_on)).join(Network, Network.id == Entry.network_id)
    newest = session.scalar(query.where(*_scope_conditions(scope)))
    return quarter_of(newest) if newest else None


def _visible_words(session: Session, passage_ids: Sequence[int]) -> set[str]:
    words: set[str] = set()
    for start in range(0, len(passage_ids), 2000):
        chunk = passage_ids[start : start + 2000]
        for text in session.scalars(select(Passage.text).where(Passage.id.in_(chunk))):
            words.update(_WORD.findall(text.lower()))
    return words


def _shown(phrase: str, words: set[str]) -> bool:
    return all(w in words or w.rstrip("s") in words for w in phrase.lower().split())


def _naming(
    session: Session, theme: Theme, rows: Sequence[_Row], hidden: bool
) -> tuple[str, tuple[str, ...]]:
    """Name and key phrases, restricted to words in visible passages when some are hidden."""
    phrases = tuple(theme.key_phrases)
    if not hidden:
        return theme.name, phrases
    words = _visible_words(session, [r.passage_id for r in rows])
    visible = tuple(p for p in phrases if _shown(p, words))
    name = theme.name if _shown(theme.name.replace(",", " "), words) else build_label(visible)
    return (name if visible or name == theme.name else f"Theme {theme.id}"), visible


def _bright_spots(
    rows: Sequence[_Row], outcomes: dict[int, Counter[str]], config: ThemeConfig
) -> tuple[BrightSpot, ...]:
    spots = {}
    for row in rows:
        counts = outcomes.get(row.passage.entry_id, Counter())
        worked, failed = counts["worked"], counts["did_not_work"]
        if worked >= config.bright_spot_min_worked and worked > failed:
            p = row.passage
            spots[p.entry_id] = BrightSpot(
                p.entry_id, row.title, p.organisation, p.network, p.occurred_on, worked, failed,
                f"{worked} sentence(s) say it worked, {failed} say it did not",
            )  # fmt: skip
    return tuple(sorted(spots.values(), key=lambda s: (-(s.worked - s.did_not_work), s.entry_id)))


def _totals(session: Session, run_id: int) -> dict[int, int]:
    rows = session.execute(
        select(PassageTopic.theme_id, func.count())
        .where(PassageTopic.run_id == run_id, PassageTopic.theme_id.is_not(None))
        .group_by(PassageTopic.theme_id)
    )
    return {int(t): int(n) for t, n in rows if t is not None}


def _project_verdicts(session: Session, rows: Sequence[_Row]) -> dict[int, tuple[str, str]]:
    """One verdict per project with measures: improvement wins, then deterioration, then none.

    Returns project id → (verdict, the measure names behind it).
    """
    ids = {r.passage.project_id for r in rows if r.passage.project_id is not None}
    out = {}
    for project_id, measures in project_verdicts(session, ids).items():
        for verdict in (Verdict.IMPROVEMENT, Verdict.DETERIORATION, Verdict.NO_SIGNAL):
            names = [m.name for m in measures if m.verdict is verdict]
            if names:
                out[project_id] = (verdict.value, ", ".join(names))
                break
    return out


def _measure_spots(rows: Sequence[_Row], verdicts: dict[int, tuple[str, str]]) -> list[BrightSpot]:
    """The newest visible entry of each project whose measures show improvement."""
    latest: dict[int, _Row] = {}
    for row in rows:
        pid = row.passage.project_id
        if pid is None or verdicts.get(pid, ("",))[0] != Verdict.IMPROVEMENT.value:
            continue
        day = row.passage.occurred_on or dt.date.min
        if pid not in latest or day > (latest[pid].passage.occurred_on or dt.date.min):
            latest[pid] = row
    return [
        BrightSpot(
            r.passage.entry_id,
            r.title,
            r.passage.organisation,
            r.passage.network,
            r.passage.occurred_on,
            0,
            0,
            f"measures improved: {verdicts[pid][1]}",
        )
        for pid, r in sorted(latest.items())
    ]


def _view(
    session: Session, theme: Theme, members: list[_Row], context: _Context, config: ThemeConfig
) -> ThemeView:
    entry_ids = {r.passage.entry_id for r in members}
    counts = sum((context.outcomes.get(e, Counter()) for e in entry_ids), Counter())
    verdicts = {pid: v for pid, (v, _) in context.verdicts.items()}
    profile = build_theme_profile(
        [r.passage for r in members], outcomes=counts, project_verdicts=verdicts,
        total_networks=context.networks, reference_quarter=context.reference, config=config,
    )  # fmt: skip
    hidden = len(members) < context.totals.get(theme.id, 0) or context.scoped
    name, phrases = _naming(session, theme, members, hidden)
    spots = _measure_spots(members, context.verdicts)
    seen = {s.entry_id for s in spots}
    spots += [s for s in _bright_spots(members, context.outcomes, config) if s.entry_id not in seen]
    return ThemeView(
        theme.id,
        name,
        phrases,
        profile,
        tuple(spots),
        tuple(r.passage_id for r in members),
        build_timeline([r.passage for r in members], context.period),
    )


@dataclass(frozen=True, slots=True)
class _Context:
    outcomes: dict[int, Counter[str]]
    verdicts: dict[int, tuple[str, str]]
    totals: dict[int, int]
    networks: int
    reference: str | None
    scoped: bool
    period: str


def _views(
    session: Session,
    scope: ThemeScope,
    config: ThemeConfig,
    theme_id: int | None,
    period: str = "quarter",
) -> list[ThemeView]:
    run = current_run(session)
    if run is None:
        return []
    rows = _rows(session, run.id, scope, theme_id)
    by_theme: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_theme[row.theme_id].append(row)
    context = _Context(
        outcomes=_outcomes(session, run.id, scope, theme_id),
        verdicts=_project_verdicts(session, rows),
        totals=_totals(session, run.id),
        networks=int(session.scalar(select(func.count()).select_from(Network)) or 0),
        reference=_reference_quarter(session, scope),
        scoped=bool(
            scope.networks or scope.organisations or scope.projects or scope.since or scope.until
        ),
        period=period,
    )
    themes = {t.id: t for t in session.scalars(select(Theme).where(Theme.id.in_(by_theme)))}
    views = [_view(session, themes[t], members, context, config) for t, members in by_theme.items()]
    return sorted(views, key=lambda v: (-v.profile.score, v.theme_id))


def list_themes(session: Session, scope: ThemeScope, config: ThemeConfig) -> list[ThemeView]:
    """Themes of the current run with at least one passage the viewer may see, best first."""
    return _views(session, scope, config, None)


def get_theme(
    session: Session,
    theme_id: int,
    scope: ThemeScope,
    config: ThemeConfig,
    *,
    period: str = "quarter",
) -> ThemeView:
    """One theme as the viewer sees it (timeline by ``quarter`` or ``month``).

    Hidden and unknown themes are the same 404.
    """
    views = _views(session, scope, config, theme_id, period)
    if not views:
        raise NotFoundError(f"theme {theme_id} not found")
    return views[0]
