"""Theme summaries: extractive, every sentence cited to its source entry, nothing invented.

The overview is 3–5 sentences from the theme's most central passages, chosen with MMR so they
come from different entries and say different things; within a passage the sentence that
carries most of the theme's key words is quoted. What is and isn't working, barriers,
enablers and next steps are the outcome-labelled sentences of the theme's passages, most
confident first and spread across organisations. Only passages the viewer may see are read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Entry, Network, Organisation, Passage
from synth.config import ThemeConfig
from synth.core.dedupe import compute_entry_vector
from synth.core.selection import select_mmr
from synth.ports import SentenceSplitter
from synth.services.embeddings import vector_from_bytes
from synth.services.outcomes import iter_outcome_sentences
from synth.services.themes import ThemeScope, ThemeView, get_theme

__all__ = ["CitedSentence", "ThemeSummary", "summarise_theme"]

SECTIONS = ("worked", "did_not_work", "barrier", "enabler", "next_step")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class CitedSentence:
    """A sentence quoted from an entry, with where it comes from (offsets into the body)."""

    text: str
    entry_id: int
    title: str
    organisation: str
    network: str
    occurred_on: dt.date | None
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "text": self.text, "entry_id": self.entry_id, "title": self.title,
            "organisation": self.organisation, "network": self.network,
            "date": self.occurred_on.isoformat() if self.occurred_on else None,
            "start": self.start, "end": self.end,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ThemeSummary:
    """Everything a facilitator needs about one theme before an event."""

    theme: ThemeView
    overview: tuple[CitedSentence, ...]
    sections: dict[str, tuple[CitedSentence, ...]]
    questions: tuple[str, ...]
    scope: ThemeScope

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (CLI ``--json``, API)."""
        return {
            "theme": self.theme.to_dict(),
            "overview": [s.to_dict() for s in self.overview],
            **{name: [s.to_dict() for s in self.sections[name]] for name in SECTIONS},
            "questions": list(self.questions),
            "scope": {
                "networks": list(self.scope.networks),
                "since": self.scope.since.isoformat() if self.scope.since else None,
                "until": self.scope.until.isoformat() if self.scope.until else None,
            },
        }


@dataclass(frozen=True, slots=True)
class _Source:
    entry_id: int
    title: str
    organisation: str
    network: str
    occurred_on: dt.date | None
    start: int
    text: str
    vector: NDArray[np.float32]


def _sources(session: Session, passage_ids: Sequence[int]) -> dict[int, _Source]:
    out = {}
    for first in range(0, len(passage_ids), 2000):
        chunk = passage_ids[first : first + 2000]
        rows = session.execute(
            select(
                Passage.id,
                Passage.text,
                Passage.start,
                Passage.embedding,
                Passage.embedding_dim,
                Entry.id,
                Entry.title,
                Organisation.slug,
                Network.slug,
                Entry.occurred_on,
            )
            .join(Entry, Entry.id == Passage.entry_id)
            .join(Network, Network.id == Entry.network_id)
            .join(Organisation, Organisation.id == Entry.organisation_id)
            .where(Passage.id.in_(chunk))
        )
        for pid, text, start, blob, dim, eid, title, org, net, day in rows:
            out[pid] = _Source(eid, title, org, net, day, start, text, vector_from_bytes(blob, dim))
    return out


def _cite(source: _Source, start: int, end: int) -> CitedSentence:
    """Cite ``source.text[start:end]`` (passage-relative) with entry-body offsets."""
    return CitedSentence(
        text=source.text[start:end].strip(), entry_id=source.entry_id, title=source.title,
        organisation=source.organisation, network=source.network,
        occurred_on=source.occurred_on, start=source.start + start, end=source.start + end,
    )  # fmt: skip


def _best_sentence(
    text: str, spans: Sequence[tuple[int, int]], words: set[str]
) -> tuple[int, int] | None:
    """The span with most key words (at least 6 words long); ties go to the earliest."""
    best, best_hits = None, -1
    for start, end in spans:
        tokens = _WORD.findall(text[start:end].lower())
        if len(tokens) < 6:
            continue
        hits = sum(1 for t in set(tokens) if t in words)
        if hits > best_hits:
            best, best_hits = (start, end), hits
    return best


def _overview(
    sources: dict[int, _Source], splitter: SentenceSplitter, phrases: Sequence[str], k: int = 5
) -> tuple[CitedSentence, ...]:
    ids = sorted(sources)
    if not ids:
        return ()
    vectors = np.stack([sources[i].vector for i in ids]).astype(np.float32)
    picks = select_mmr(
        vectors, compute_entry_vector(vectors), k, diversity=0.3,
        groups=[sources[i].entry_id for i in ids],
    )  # fmt: skip
    words = {w for p in phrases for w in p.lower().split()}
    chosen = [sources[ids[i]] for i in picks]
    spans = splitter.split([s.text for s in chosen])
    out = []
    for source, passage_spans in zip(chosen, spans, strict=True):
        span = _best_sentence(source.text, passage_spans, words)
        if span is not None:
            out.append(_cite(source, *span))
    return tuple(out)


def _sections(
    session: Session, sources: dict[int, _Source], per_section: int = 4
) -> dict[str, tuple[CitedSentence, ...]]:
    centroid = compute_entry_vector(
        np.stack([s.vector for s in sources.values()]).astype(np.float32)
    )
    candidates: dict[str, list[tuple[float, CitedSentence]]] = defaultdict(list)
    for item in iter_outcome_sentences(session, list(sources), SECTIONS):
        source = sources[item.passage_id]
        rank = item.confidence + 0.5 * float(source.vector @ centroid)
        rel = item.start - source.start
        candidates[item.label].append((rank, _cite(source, rel, item.end - source.start)))
    return {name: _diverse(candidates.get(name, []), per_section) for name in SECTIONS}


def _diverse(ranked: list[tuple[float, CitedSentence]], k: int) -> tuple[CitedSentence, ...]:
    """Best first, one per entry, distinct organisations before repeats."""
    ordered = [c for _, c in sorted(ranked, key=lambda rc: (-rc[0], rc[1].entry_id, rc[1].start))]
    chosen: list[CitedSentence] = []
    for allow_repeat in (False, True):
        for cite in ordered:
            if len(chosen) == k:
                break
            if any(c.entry_id == cite.entry_id for c in chosen):
                continue
            if not allow_repeat and any(c.organisation == cite.organisation for c in chosen):
                continue
            chosen.append(cite)
    return tuple(chosen)


def _questions(view: ThemeView, sections: dict[str, tuple[CitedSentence, ...]]) -> tuple[str, ...]:
    """Three prompts for the event, built from the facts above (templates, no new claims)."""
    p = view.profile
    questions = []
    if view.bright_spots:
        spot = view.bright_spots[0]
        questions.append(
            f"What made “{spot.title}” work at {spot.organisation}, and what would another "
            "team need in place to try it?"
        )
    elif sections["worked"]:
        first = sections["worked"][0]
        questions.append(f"What made the approach at {first.organisation} work?")
    if sections["barrier"]:
        questions.append(
            f"Teams report barriers such as “{_short(sections['barrier'][0].text)}”: how have "
            "others got past this?"
        )
    elif sections["did_not_work"]:
        questions.append("What would we do differently, given what did not work?")
    if p.theme_class == "generalisable":
        questions.append(
            f"This theme appears in {len(p.networks)} networks: what should networks not yet "
            "working on it learn first?"
        )
    elif p.theme_class == "local":
        questions.append(f"Only {next(iter(p.networks))} reports this so far: who else should?")
    else:
        questions.append(f"Seen since {p.first_seen}: what evidence would show it is spreading?")
    return tuple(questions[:3])


def _short(text: str, words: int = 14) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def summarise_theme(
    session: Session, theme_id: int, scope: ThemeScope, config: ThemeConfig,
    splitter: SentenceSplitter,
) -> ThemeSummary:  # fmt: skip
    """Summarise a theme for ``scope``; raises NotFoundError when it has nothing visible."""
    view = get_theme(session, theme_id, scope, config)
    sources = _sources(session, view.passage_ids)
    sections = _sections(session, sources)
    return ThemeSummary(
        theme=view,
        overview=_overview(sources, splitter, view.key_phrases),
        sections=sections,
        questions=_questions(view, sections),
        scope=scope,
    )
