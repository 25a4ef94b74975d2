"""The ingestion pipeline shared by the CLI and the API.

validate → normalise → redact → chunk → deduplicate → embed (cached) → store. A batch with
invalid records is rejected before anything is written (or those records are skipped), and
each entry is committed together with its passages and embeddings.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from models import Entry
from synth.core.chunking import with_title
from synth.core.dedupe import compute_entry_vector, find_near_duplicates
from synth.engine import Engine
from synth.errors import IngestError
from synth.ports import ProgressReporter
from synth.services.embeddings import embed_with_cache
from synth.services.entry_vectors import EntryVectors
from synth.services.outcomes import classify_entries
from synth.services.preparation import PreparedEntry, prepare_entries
from synth.services.topics import assign_new_passages
from synth.services.writing import EntryWriter
from synth.types import EntryRecord, RecordProblem, SourceRef

__all__ = ["IngestReport", "NullProgress", "ingest_records", "validate_records"]

logger = logging.getLogger(__name__)


class NullProgress:
    """A :class:`~synth.ports.ProgressReporter` that reports nothing."""

    def start(self, total: int, description: str) -> None:
        """Ignore the start of a phase."""

    def advance(self, units: int = 1) -> None:
        """Ignore progress."""


@dataclass
class IngestReport:
    """What one ingest did; ``to_dict`` is the CLI's ``--json`` output."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[str] = field(default_factory=list)
    near_duplicates: list[tuple[int, int]] = field(default_factory=list)
    skipped_invalid: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    embedding_cache_hits: int = 0
    truncated_passages: int = 0
    redactions: Counter[str] = field(default_factory=Counter)
    entry_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "near_duplicates": [{"entry": a, "of": b} for a, b in self.near_duplicates],
            "skipped_invalid": self.skipped_invalid,
            "passages": self.passages,
            "embedded": self.embedded,
            "embedding_cache_hits": self.embedding_cache_hits,
            "truncated_passages": self.truncated_passages,
            "truncation_rate": round(self.truncated_passages / self.passages, 4)
            if self.passages
            else 0.0,
            "redactions": dict(sorted(self.redactions.items())),
            "entry_ids": self.entry_ids,
        }

    def merge(self, other: IngestReport) -> None:
        """Add the counts and lists of ``other`` (one committed batch) to this report."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.duplicates += other.duplicates
        self.near_duplicates += other.near_duplicates
        self.redactions.update(other.redactions)
        self.entry_ids += other.entry_ids


_COUNTS = (
    "created",
    "updated",
    "unchanged",
    "passages",
    "embedded",
    "embedding_cache_hits",
    "truncated_passages",
)
#: Attempts at one batch's transaction when it collides with a concurrent writer.
_ATTEMPTS = 4
#: PostgreSQL serialization failure and deadlock: the transaction may simply be retried.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def validate_records(
    items: Iterable[EntryRecord | RecordProblem],
) -> tuple[list[EntryRecord], list[RecordProblem]]:
    """Split reader output into records and problems; a repeated source id is a problem."""
    records: list[EntryRecord] = []
    problems: list[RecordProblem] = []
    first_seen: dict[str, SourceRef] = {}
    for item in items:
        if isinstance(item, RecordProblem):
            problems.append(item)
            continue
        external_id = item.source.external_id
        if external_id is not None and external_id in first_seen:
            problems.append(
                RecordProblem(
                    item.source,
                    "id",
                    f"id '{external_id}' also used at {first_seen[external_id].describe()}",
                )
            )
            continue
        if external_id is not None:
            first_seen[external_id] = item.source
        records.append(item)
    return records, problems


def _batches(records: Sequence[EntryRecord], size: int) -> Iterator[Sequence[EntryRecord]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def ingest_records(
    engine: Engine,
    items: Iterable[EntryRecord | RecordProblem],
    *,
    skip_invalid: bool = False,
    progress: ProgressReporter | None = None,
    update_indexes: bool = True,
) -> IngestReport:
    """Validate, redact, chunk, embed and store entries; update those re-ingested by id.

    Args:
        engine: The loaded engine (store, models).
        items: Reader output: records and problems.
        skip_invalid: Store the valid records and report the invalid ones, instead of
            rejecting the whole batch.
        progress: Receives one unit per record processed.
        update_indexes: Bring the search indexes up to date afterwards (incrementally).

    Returns:
        Counts of created, updated, unchanged and duplicate entries, passages and redactions.

    Raises:
        IngestError: Some records are invalid and ``skip_invalid`` is false; nothing was stored.
    """
    records, problems = validate_records(items)
    if problems and not skip_invalid:
        raise IngestError(
            f"{len(problems)} invalid record(s); nothing was stored "
            "(fix them, or pass --skip-invalid to store the rest)",
            problems=tuple(p.describe() for p in problems),
        )
    report = IngestReport(skipped_invalid=[p.describe() for p in problems])
    progress = progress or NullProgress()
    progress.start(len(records), "Ingesting")
    embedder = engine.embedder
    with engine.sessions() as session:
        pool = EntryVectors.load(session, embedder.name, embedder.dim)
    for batch in _batches(records, engine.config.ingest_batch_size):
        prepared = prepare_entries(
            batch,
            config=engine.config,
            splitter=engine.splitter,
            person_finder=engine.person_finder,
            window=(engine.embedder.count_tokens, engine.embedder.max_tokens),
        )
        pool = _store_with_retry(engine, prepared, report, pool)
        progress.advance(len(batch))
    with engine.sessions.begin() as session:
        assign_new_passages(session, engine.config.topics)
    if update_indexes:
        engine.open_indexes()
    logger.info(
        "ingest finished",
        extra={"entries_created": report.created, "entries_updated": report.updated},
    )
    return report


def _store_with_retry(
    engine: Engine, prepared: list[PreparedEntry], report: IngestReport, pool: EntryVectors
) -> EntryVectors:
    """Commit one batch; retry it when a concurrent writer got there first.

    Two processes creating the same network, organisation, tag or cached embedding at once
    collide on a unique key; the loser's transaction is rolled back whole and run again, and
    then finds the winner's rows. Returns the near-duplicate pool to use next (reloaded after
    a rollback, which may have left uncommitted entries in it).
    """
    for attempt in range(1, _ATTEMPTS + 1):
        batch_report = IngestReport()
        try:
            with engine.sessions.begin() as session:
                _store_batch(session, engine, prepared, batch_report, pool)
        except DBAPIError as exc:
            if attempt == _ATTEMPTS or not _is_conflict(exc):
                raise
            logger.warning("batch met a concurrent writer; retrying", extra={"n": attempt})
            with engine.sessions() as session:
                pool = EntryVectors.load(session, engine.embedder.name, engine.embedder.dim)
            continue
        report.merge(batch_report)
        break
    return pool


def _is_conflict(exc: DBAPIError) -> bool:
    """Whether ``exc`` is a unique-key collision, serialization failure or deadlock."""
    state = getattr(exc.orig, "sqlstate", None)
    return isinstance(exc, IntegrityError) or state in _RETRYABLE_SQLSTATES


def _store_batch(
    session: Session,
    engine: Engine,
    prepared: list[PreparedEntry],
    report: IngestReport,
    pool: EntryVectors,
) -> None:
    """Write one batch in the caller's transaction."""
    writer = EntryWriter(session)
    pending: list[tuple[PreparedEntry, Entry | None]] = []
    for item in prepared:
        current = writer.find_by_external_id(item.record.source.external_id)
        if current is not None and writer.is_unchanged(current, item):
            report.unchanged += 1
            report.entry_ids.append(current.id)
            continue
        duplicate_of = writer.find_same_content(item.content_hash, exclude=current)
        if duplicate_of is not None:
            report.duplicates.append(
                f"{item.record.source.describe()}: same text as entry {duplicate_of}; skipped"
            )
            continue
        pending.append((item, current))
        writer.reserve_hash(item.content_hash)
    if not pending:
        return
    texts = [with_title(item.title, c.text) for item, _ in pending for c in item.chunks]
    embedded = embed_with_cache(session, engine.embedder, texts)
    report.embedded += embedded.encoded
    report.embedding_cache_hits += embedded.cache_hits
    limit = engine.embedder.max_tokens
    report.truncated_passages += sum(n > limit for n in engine.embedder.count_tokens(texts))
    new_ids = _write_pending(writer, pending, embedded.vectors, report, pool, engine)
    if engine.config.outcomes.enabled:
        bodies = [
            (entry_id, item.body) for entry_id, (item, _) in zip(new_ids, pending, strict=True)
        ]
        classify_entries(session, engine.outcome_classifier, bodies)


def _entry_vectors(
    pending: list[tuple[PreparedEntry, Entry | None]], matrix: NDArray[np.float32]
) -> list[NDArray[np.float32]]:
    """Mean passage vector per pending entry (zeros for an entry with no passages)."""
    vectors = []
    position = 0
    for item, _ in pending:
        count = len(item.chunks)
        rows = matrix[position : position + count]
        vectors.append(
            compute_entry_vector(rows) if count else np.zeros(matrix.shape[1], dtype=np.float32)
        )
        position += count
    return vectors


def _write_pending(
    writer: EntryWriter,
    pending: list[tuple[PreparedEntry, Entry | None]],
    matrix: NDArray[np.float32],
    report: IngestReport,
    pool: EntryVectors,
    engine: Engine,
) -> list[int]:
    """Flag near duplicates, then write each entry with its passage vectors; return their ids."""
    vectors = _entry_vectors(pending, matrix)
    for _, current in pending:
        if current is not None:
            pool.remove(current.id)
    matches = find_near_duplicates(
        np.vstack(vectors), pool.matrix, threshold=engine.config.dedupe.near_duplicate_threshold
    )
    position = 0
    new_ids: list[int] = []
    for (item, current), match in zip(pending, matches, strict=True):
        near_id = _resolve_match(match, pool, new_ids)
        count = len(item.chunks)
        entry = writer.write(
            item,
            current,
            vectors=matrix[position : position + count],
            model=engine.embedder.name,
            near_duplicate_of=near_id,
        )
        position += count
        new_ids.append(entry.id)
        _tally(report, entry.id, item, created=current is None, near_id=near_id)
    for entry_id, vector, (item, _) in zip(new_ids, vectors, pending, strict=True):
        if item.chunks:
            pool.add(entry_id, vector)
    return new_ids


def _tally(
    report: IngestReport, entry_id: int, item: PreparedEntry, *, created: bool, near_id: int | None
) -> None:
    report.entry_ids.append(entry_id)
    report.passages += len(item.chunks)
    report.redactions.update(item.redactions)
    if created:
        report.created += 1
    else:
        report.updated += 1
    if near_id is not None:
        report.near_duplicates.append((entry_id, near_id))


def _resolve_match(match: int | None, pool: EntryVectors, new_ids: list[int]) -> int | None:
    """Map an index from :func:`find_near_duplicates` to an entry id."""
    if match is None:
        return None
    existing = len(pool)
    return pool.ids[match] if match < existing else new_ids[match - existing]
