"""Store and read sentence outcome labels (worked, did not work, barrier, enabler, next step).

Ingest calls :func:`classify_entries` in the same transaction that writes the passages;
:func:`classify_stored_passages` labels stores written before labels existed. Themes and
briefings read labels through :func:`outcome_counts` and :func:`iter_outcome_sentences`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Entry, OutcomeSentence, Passage
from synth.core.outcome_cues import OutcomeLabel
from synth.embedding import ForwardingEmbedder
from synth.outcomes import OutcomeClassifier
from synth.ports import Embedder, ProgressReporter
from synth.services.embeddings import embed_with_cache

__all__ = [
    "OutcomeBackfill",
    "StoredOutcome",
    "classify_entries",
    "classify_stored_passages",
    "iter_outcome_sentences",
    "outcome_counts",
]

_CHUNK = 5000


def _chunks(ids: Iterable[int], size: int = _CHUNK) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class _StoreCachedEmbedder(ForwardingEmbedder):
    """Encodes through the store's (model, text hash) cache: no sentence is embedded twice."""

    def __init__(self, session: Session, inner: Embedder) -> None:
        super().__init__(inner)
        self._session = session

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return embed_with_cache(self._session, self._inner, texts).vectors


def classify_entries(
    session: Session, classifier: OutcomeClassifier, entries: Sequence[tuple[int, str]]
) -> Counter[str]:
    """Label the sentences of stored entries and write them against their passages.

    Earlier labels of these entries are replaced. A sentence belongs to the first passage
    whose span contains its start; offsets are into the entry body. Sentence vectors go
    through the store's embedding cache, so relabelling an unchanged text embeds nothing.

    Args:
        session: The caller's transaction (the entries and passages are already flushed).
        classifier: The sentence outcome classifier.
        entries: ``(entry id, body)`` pairs.

    Returns:
        Labelled sentences written, per label.
    """
    counts: Counter[str] = Counter()
    if not entries:
        return counts
    ids = [entry_id for entry_id, _ in entries]
    spans: dict[int, list[tuple[int, int, int]]] = {entry_id: [] for entry_id in ids}
    for batch in _chunks(ids):
        session.execute(delete(OutcomeSentence).where(OutcomeSentence.entry_id.in_(batch)))
        rows = session.execute(
            select(Passage.entry_id, Passage.id, Passage.start, Passage.end)
            .where(Passage.entry_id.in_(batch))
            .order_by(Passage.entry_id, Passage.ordinal)
        )
        for owner, passage_id, start, end in rows:
            spans[owner].append((passage_id, start, end))
    cached = _StoreCachedEmbedder(session, classifier.embedder)
    predictions = classifier.predict([body for _, body in entries], embedder=cached)
    for entry_id, outcomes in zip(ids, predictions, strict=True):
        for outcome in outcomes:
            home = next(
                (p for p, start, end in spans[entry_id] if start <= outcome.start < end), None
            )
            if home is None:
                continue
            session.add(
                OutcomeSentence(
                    passage_id=home,
                    entry_id=entry_id,
                    start=outcome.start,
                    end=outcome.end,
                    label=outcome.label.value,
                    confidence=outcome.confidence,
                    method=outcome.method,
                )
            )
            counts[outcome.label.value] += 1
    session.flush()
    return counts


@dataclass
class OutcomeBackfill:
    """What :func:`classify_stored_passages` did; ``to_dict`` is the CLI's ``--json``."""

    entries: int = 0
    sentences: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    method: str = ""

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        return {
            "entries": self.entries,
            "sentences": self.sentences,
            "labels": {label.value: self.labels[label.value] for label in OutcomeLabel},
            "method": self.method,
        }


def classify_stored_passages(
    session: Session,
    classifier: OutcomeClassifier,
    *,
    only_missing: bool = True,
    batch_size: int = 256,
    progress: ProgressReporter | None = None,
) -> OutcomeBackfill:
    """Label the sentences of entries already in the store (in the caller's transaction).

    Args:
        session: The caller's transaction.
        classifier: The sentence outcome classifier.
        only_missing: Only entries with passages and no labelled sentence yet; ``False``
            relabels every entry (after changing the method or the prototypes).
        batch_size: Entries classified together.
        progress: Receives one unit per entry.

    Returns:
        Entries classified and labelled sentences written, per label.
    """
    query = select(Entry.id).where(select(Passage.id).where(Passage.entry_id == Entry.id).exists())
    if only_missing:
        labelled = select(OutcomeSentence.id).where(OutcomeSentence.entry_id == Entry.id)
        query = query.where(~labelled.exists())
    ids = list(session.scalars(query.order_by(Entry.id)))
    report = OutcomeBackfill(method=classifier.method)
    if progress is not None:
        progress.start(len(ids), "Labelling sentences")
    for batch in _chunks(ids, batch_size):
        bodies = session.execute(select(Entry.id, Entry.body).where(Entry.id.in_(batch))).all()
        counts = classify_entries(session, classifier, [(i, body) for i, body in bodies])
        report.entries += len(batch)
        report.sentences += sum(counts.values())
        report.labels.update(counts)
        if progress is not None:
            progress.advance(len(batch))
    return report


def outcome_counts(session: Session, passage_ids: Collection[int]) -> dict[str, int]:
    """Count labelled sentences per label among ``passage_ids`` (every label present, maybe 0).

    Example:
        ``outcome_counts(session, [12, 13])`` → ``{"worked": 2, "did_not_work": 0, ...}``
    """
    counts = {label.value: 0 for label in OutcomeLabel}
    for batch in _chunks(passage_ids):
        rows = session.execute(
            select(OutcomeSentence.label, func.count())
            .where(OutcomeSentence.passage_id.in_(batch))
            .group_by(OutcomeSentence.label)
        )
        for label, count in rows:
            counts[label] = counts.get(label, 0) + int(count)
    return counts


class StoredOutcome(NamedTuple):
    """A stored labelled sentence; ``start``/``end`` are offsets into the entry body."""

    passage_id: int
    entry_id: int
    start: int
    end: int
    text: str
    label: str
    confidence: float


def iter_outcome_sentences(
    session: Session,
    passage_ids: Collection[int],
    labels: Collection[str] | None = None,
) -> Iterator[StoredOutcome]:
    """Yield the labelled sentences of ``passage_ids`` (optionally only ``labels``).

    Ordered by passage id, then position in the body.
    """
    for batch in _chunks(sorted(passage_ids)):
        query = (
            select(OutcomeSentence, Passage.start, Passage.text)
            .join(Passage, Passage.id == OutcomeSentence.passage_id)
            .where(OutcomeSentence.passage_id.in_(batch))
            .order_by(OutcomeSentence.passage_id, OutcomeSentence.start)
        )
        if labels is not None:
            query = query.where(OutcomeSentence.label.in_(list(labels)))
        for row, passage_start, passage_text in session.execute(query):
            yield StoredOutcome(
                passage_id=row.passage_id,
                entry_id=row.entry_id,
                start=row.start,
                end=row.end,
                text=passage_text[row.start - passage_start : row.end - passage_start],
                label=row.label,
                confidence=row.confidence,
            )
