"""What the entry page shows: the entry, its themes, similar learning and the project's measures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Entry, PassageTopic
from synth.config import ThemeConfig
from synth.engine import Engine
from synth.errors import NotFoundError
from synth.search.service import similar_entries
from synth.services.entries import read_entry
from synth.services.keys import Principal
from synth.services.measures import analyse_measure, analysis_rules, list_measures
from synth.services.themes import ThemeScope, get_theme
from synth.services.topics import current_run
from synth.types import STRUCTURED_FIELDS, EntryKind

__all__ = ["entry_context", "entry_themes", "field_heading"]

_HEADINGS = {
    "what": "What?",
    "so_what": "So what?",
    "now_what": "Now what?",
    "plan": "Plan",
    "prediction": "Prediction",
    "do": "Do",
    "study": "Study",
    "act": "Act",
}


def field_heading(name: str) -> str:
    """The heading a structured field is shown under."""
    return _HEADINGS.get(name, name.replace("_", " ").capitalize())


def _sections(entry: Entry) -> list[tuple[str | None, list[str]]]:
    """The body as (heading, paragraphs): structured fields in order, else plain paragraphs."""
    fields = entry.fields or {}
    kinds = {k.value: k for k in EntryKind}
    order = STRUCTURED_FIELDS.get(kinds[entry.kind], ()) if entry.kind in kinds else ()
    names = [n for n in order if fields.get(n)] + [n for n in fields if n not in order]
    if names:
        return [(field_heading(n), _paragraphs(str(fields[n]))) for n in names]
    return [(None, _paragraphs(entry.body))]


def _paragraphs(text: str) -> list[str]:
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n")]
    return [p for p in parts if p]


def entry_themes(
    session: Session, principal: Principal, entry: Entry, config: ThemeConfig
) -> list[tuple[int, str]]:
    """The themes of the entry's passages (current run), named as this viewer sees them."""
    run = current_run(session)
    if run is None or not entry.passages:
        return []
    theme_ids = session.scalars(
        select(PassageTopic.theme_id)
        .where(
            PassageTopic.run_id == run.id,
            PassageTopic.passage_id.in_([p.id for p in entry.passages]),
            PassageTopic.theme_id.is_not(None),
        )
        .distinct()
    )
    scope = ThemeScope(viewer=principal.viewer)
    out = []
    for theme_id in sorted(t for t in theme_ids if t is not None):
        try:
            view = get_theme(session, theme_id, scope, config)
        except NotFoundError:
            continue
        out.append((view.theme_id, view.name))
    return out


def _measures(engine: Engine, session: Session, entry: Entry) -> list[dict[str, Any]]:
    if entry.project is None:
        return []
    rules = analysis_rules(engine.config.measures)
    return [
        {"id": m.id, "name": m.name, "unit": m.unit, "verdict": analyse_measure(m, rules).verdict}
        for m in list_measures(session, entry.project.slug)
    ]


def entry_context(
    engine: Engine, session: Session, principal: Principal, entry_id: int, *, saved: bool
) -> dict[str, Any]:
    """The entry page's context.

    Raises:
        NotFoundError: No such entry, or the viewer may not see it.
    """
    viewer = principal.viewer
    entry = read_entry(session, viewer, entry_id)
    similar = similar_entries(
        session,
        engine.indexes_for_search(),
        entry.id,
        viewer=viewer,
        config=engine.config.search,
        k=5,
        exclude_same_network=not saved,
    )
    return {
        "entry": entry,
        "sections": _sections(entry),
        "redactions": sum((entry.redactions or {}).values()),
        "themes": entry_themes(session, principal, entry, engine.config.themes),
        "similar": similar,
        "saved": saved,
        "measures": _measures(engine, session, entry),
    }
