"""Keep the dense and lexical indexes in step with the store; persist them with a manifest.

The store is the source of truth. At start-up the saved indexes are loaded and compared with
the store through their manifest; new passages (ids above the manifest's high-water mark) and
deleted ones (the ``passage_deletions`` feed) are applied incrementally, and anything that does
not match triggers a rebuild from stored embeddings — never a re-embedding. Writers are
serialised by one lock; a rebuilt set of indexes is swapped in whole, so readers never see a
half-written one.

Several processes (API replicas, job workers) may share one store: each keeps its own indexes
in memory and follows the change feed (:meth:`SearchIndexes.refresh_if_due`), first comparing
the store's :class:`StoreSignature` with the one it last applied, so an unchanged store costs
one small query. Saved generations may sit in a data folder the processes share: an ``fcntl``
lock on ``<folder>/.lock`` serialises writes and keeps a generation from being removed while
another process reads it, and a generation equal to the saved one is not written twice.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models import Entry, Passage, PassageDeletion
from synth.config import IndexConfig
from synth.core.chunking import with_title
from synth.index.dense import DenseIndex, build_dense_index
from synth.index.lexical import DEFAULT_TOKENIZER, Bm25Params, LexicalIndex
from synth.index.manifest import (
    IndexManifest,
    IndexMismatchError,
    build_manifest,
    load_manifest,
    save_manifest,
    verify_manifest,
)
from synth.search.change_feed import StoreSignature, folder_lock, read_signature
from synth.search.passage_table import PassageRow, PassageTable

__all__ = [
    "HYBRID_INDEX",
    "DriftReport",
    "IndexSet",
    "SearchIndexes",
]

#: Versioned kind recorded in the manifest of a saved dense + BM25 generation.
HYBRID_INDEX = "synth.index.hybrid.v1"

logger = logging.getLogger(__name__)

#: Passage ids per ``IN (...)`` list when reading passages by id.
_IN_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class IndexSet:
    """One consistent generation of indexes: dense, lexical, passage metadata and manifest."""

    dense: DenseIndex
    lexical: LexicalIndex
    table: PassageTable
    manifest: IndexManifest


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Differences between the store and the loaded indexes (``synth index check``)."""

    store_passages: int
    indexed_passages: int
    missing: int
    extra: int
    model_matches: bool

    @property
    def ok(self) -> bool:
        """True when the indexes hold exactly the store's passages."""
        return self.missing == 0 and self.extra == 0 and self.model_matches

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` form."""
        return {
            "ok": self.ok,
            "store_passages": self.store_passages,
            "indexed_passages": self.indexed_passages,
            "missing": self.missing,
            "extra": self.extra,
            "model_matches": self.model_matches,
        }


_METADATA = (
    Passage.id,
    Passage.entry_id,
    Entry.network_id,
    Entry.organisation_id,
    Entry.project_id,
    Entry.kind,
    Entry.visibility,
    Entry.occurred_on,
)


def _passages(model: str, *columns: Any, above: int = 0, upto: int | None = None) -> Select[Any]:
    """Select ``columns`` of the passages of ``model`` with ``above < id <= upto``, by id."""
    query = (
        select(*columns)
        .join(Entry, Entry.id == Passage.entry_id)
        .where(Passage.embedding_model == model, Passage.id > above)
        .order_by(Passage.id)
    )
    return query.where(Passage.id <= upto) if upto is not None else query


def _read_metadata(session: Session, model: str, *, upto: int) -> list[PassageRow]:
    """Read passage metadata only (no vectors) up to the passage id ``upto``."""
    return [PassageRow(*r) for r in session.execute(_passages(model, *_METADATA, upto=upto))]


@dataclass(frozen=True, slots=True)
class _Passages:
    """Passages read from the store, by id: metadata, vectors and the texts BM25 indexes."""

    rows: list[PassageRow]
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]
    texts: list[str]  # "title. passage"


def _read_rows(
    session: Session,
    model: str,
    dim: int,
    *,
    above: int = 0,
    only: NDArray[np.int64] | None = None,
) -> _Passages:
    """Read the passages of ``model`` with ids above ``above`` (or in ``only``)."""
    columns = (*_METADATA, Passage.embedding, Passage.text, Entry.title)
    if only is None:
        queries = [_passages(model, *columns, above=above)]
    else:
        chunks = [only[i : i + _IN_CHUNK].tolist() for i in range(0, only.size, _IN_CHUNK)]
        queries = [_passages(model, *columns).where(Passage.id.in_(chunk)) for chunk in chunks]
    rows, blobs, texts = [], [], []
    for query in queries:
        for r in session.execute(query):
            rows.append(PassageRow(*r[:-3]))
            blobs.append(r[-3])
            texts.append(with_title(r[-1], r[-2]))
    ids = np.asarray([r.passage_id for r in rows], dtype=np.int64)
    vectors = (
        np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim).astype(np.float32)
        if blobs
        else np.zeros((0, dim), dtype=np.float32)
    )
    return _Passages(rows, ids, vectors, texts)


def _state(manifest: IndexManifest) -> tuple[object, ...]:
    """The parts of a manifest that say what an index holds (not when it was written)."""
    return (
        manifest.kind,
        manifest.model,
        manifest.dim,
        manifest.ids_checksum,
        manifest.last_deletion_id,
        manifest.synth_version,
    )


def _last_deletion_id(session: Session) -> int:
    return int(session.scalar(select(func.max(PassageDeletion.id))) or 0)


def _deleted_since(session: Session, deletion_id: int) -> list[int]:
    return list(
        session.scalars(select(PassageDeletion.passage_id).where(PassageDeletion.id > deletion_id))
    )


def _caught_up(lexical: LexicalIndex, read: _Passages) -> LexicalIndex | None:
    """``lexical`` without passages ``read`` lacks and with those it lacks (``None``: build).

    A passage's text never changes under its id (an edit writes new passages), so the term
    counts of the passages kept are still right.
    """
    if lexical.tokenizer.name != DEFAULT_TOKENIZER or lexical.params != Bm25Params():
        return None
    held = lexical.ids()
    new = ~np.isin(read.ids, held)
    if 2 * int(new.sum()) > read.ids.size:
        return None  # mostly new passages: a build costs no more
    texts = [text for text, fresh in zip(read.texts, new, strict=True) if fresh]
    return lexical.updated(read.ids[new], texts, removed=np.setdiff1d(held, read.ids))


class SearchIndexes:
    """Owns the current :class:`IndexSet` of one process; all writes go through its lock."""

    def __init__(self, folder: Path, config: IndexConfig, model: str, dim: int) -> None:
        self._folder = folder
        self._config = config
        self._model = model
        self._dim = dim
        self._lock = threading.RLock()
        self._current: IndexSet | None = None
        self._applied: StoreSignature | None = None
        self._checked_at = float("-inf")

    @property
    def current(self) -> IndexSet | None:
        """The loaded indexes (``None`` before :meth:`open`)."""
        return self._current

    def open(self, session: Session) -> IndexSet:
        """Load saved indexes and bring them up to date, or rebuild them from the store."""
        with self._lock:
            loaded = self._load_saved(session)
            if loaded is not None:
                self._current = loaded
                try:
                    return self.refresh(session)
                except IndexMismatchError as exc:
                    logger.warning("index does not match the store (%s); rebuilding", exc)
                    self._current = None
            return self.rebuild(session)

    def refresh_if_due(self, sessions: Callable[[], Session]) -> IndexSet:
        """Return the indexes, following the change feed if ``refresh_seconds`` have passed.

        A search does not wait for another thread's refresh: while one runs, the indexes in
        hand are returned (with ``refresh_seconds`` 0, every call refreshes and waits).
        """
        interval = self._config.refresh_seconds
        current = self._current
        if current is not None and time.monotonic() - self._checked_at < interval:
            return current
        if current is None or interval == 0:
            self._lock.acquire()
        elif not self._lock.acquire(blocking=False):
            return current
        try:
            self._checked_at = time.monotonic()
            with sessions() as session:
                return self.open(session) if self._current is None else self.refresh(session)
        finally:
            self._lock.release()

    def rebuild(self, session: Session, *, lexical: LexicalIndex | None = None) -> IndexSet:
        """Build every index from the stored embeddings and swap it in.

        A ``lexical`` index already holding exactly the store's passages is kept as it is;
        otherwise the BM25 index this process holds, if any, is brought to the store's
        passages (:meth:`LexicalIndex.updated`: only passages it lacks are tokenised).
        """
        with self._lock:
            signature = read_signature(session)
            read = _read_rows(session, self._model, self._dim)
            ids = read.ids
            if lexical is not None and not np.array_equal(np.sort(lexical.ids()), ids):
                lexical = None
            if lexical is None and self._current is not None:
                lexical = _caught_up(self._current.lexical, read)
            # BM25 tokenising is Python; FAISS builds in C++ without the GIL: overlap them.
            with ThreadPoolExecutor(max_workers=1) as pool:
                bm25 = (
                    pool.submit(LexicalIndex().build, ids, read.texts) if lexical is None else None
                )
                dense = build_dense_index(
                    ids,
                    read.vectors,
                    hnsw_threshold=self._config.hnsw_threshold,
                    m=self._config.hnsw_m,
                    ef_construction=self._config.ef_construction,
                    ef_search=self._config.ef_search,
                    busy=None if bm25 is None else lambda: not bm25.done(),
                )
                kept = lexical if bm25 is None else bm25.result()
            assert kept is not None
            index_set = IndexSet(
                dense=dense,
                lexical=kept,
                table=PassageTable(read.rows),
                manifest=self._manifest(ids, _last_deletion_id(session)),
            )
            self._save(index_set)
            self._current, self._applied = index_set, signature
            logger.info("indexes rebuilt", extra={"passages": int(ids.size)})
            return index_set

    def refresh(self, session: Session) -> IndexSet:
        """Apply passages added or deleted since the current manifest (the change feed).

        Passages above the manifest's high-water mark and deletions since its last deletion
        id are applied first. Concurrent writers can commit a lower passage id after a higher
        one (ids are handed out before commit), so if the count still differs from the store,
        the store's ids are read once and the difference applied (:meth:`_reconcile`). When
        the store's :class:`StoreSignature` is the one last applied, nothing else is read.
        """
        with self._lock:
            current = self._current
            if current is None:
                return self.rebuild(session)
            signature = read_signature(session)
            if signature == self._applied:
                return current
            manifest = current.manifest
            verify_manifest(manifest, model=self._model, dim=self._dim, kinds=[HYBRID_INDEX])
            deleted = _deleted_since(session, manifest.last_deletion_id or 0)
            added = _read_rows(session, self._model, self._dim, above=manifest.last_passage_id or 0)
            present = current.table.ids[np.isin(current.table.ids, deleted)]
            index_set = current
            if present.size or added.rows:
                index_set = self._apply(session, current, added, present)
            if not self._count_matches(session, index_set):
                index_set = self._reconcile(session, index_set)
            if index_set is not current:
                self._save(index_set)
                self._current = index_set
            self._applied = signature
            return index_set

    def _apply(
        self, session: Session, current: IndexSet, added: _Passages, removed: NDArray[np.int64]
    ) -> IndexSet:
        """Return ``current`` with passages added and removed (or a rebuild, if cheaper).

        BM25 tokenises only the added passages (:meth:`LexicalIndex.updated`).
        """
        # The dense index is updated in place under its own lock; a reader that meets a
        # passage id the table does not know yet simply skips it.
        dense = current.dense
        if removed.size:
            dense.remove(removed)
        if added.ids.size:
            dense.add(added.ids, added.vectors)
        lexical = current.lexical.updated(added.ids, added.texts, removed=removed)
        if dense.tombstones > self._config.rebuild_tombstone_share * max(len(dense), 1):
            return self.rebuild(session, lexical=lexical)  # the graph is compacted; BM25 is kept
        table = current.table.updated(added.rows, removed.tolist())
        return IndexSet(
            dense=dense,
            lexical=lexical,
            table=table,
            manifest=self._manifest(table.ids, _last_deletion_id(session)),
        )

    def _reconcile(self, session: Session, current: IndexSet) -> IndexSet:
        """Make the index hold exactly the store's passage ids, read in one statement."""
        query = select(Passage.id).where(Passage.embedding_model == self._model)
        store_ids = np.fromiter(session.scalars(query), dtype=np.int64)
        missing = np.setdiff1d(store_ids, current.table.ids)
        extra = np.setdiff1d(current.table.ids, store_ids)
        logger.info(
            "index reconciled with the store",
            extra={"missing": int(missing.size), "extra": int(extra.size)},
        )
        added = _read_rows(session, self._model, self._dim, only=missing)
        return self._apply(session, current, added, extra)

    def _count_matches(self, session: Session, index_set: IndexSet) -> bool:
        count = session.scalar(
            select(func.count()).select_from(Passage).where(Passage.embedding_model == self._model)
        )
        return int(count or 0) == len(index_set.table)

    def check_saved(self, session: Session) -> DriftReport:
        """Compare the store's passage ids with the *saved* indexes, changing nothing."""
        store_ids = set(
            session.scalars(select(Passage.id).where(Passage.embedding_model == self._model))
        )
        indexed: set[int] = set()
        model_matches = not store_ids
        saved = self._read_saved()
        if saved is not None:
            manifest, dense, _ = saved
            indexed = set(dense.ids().tolist())
            model_matches = manifest.model == self._model and manifest.dim == self._dim
        return DriftReport(
            store_passages=len(store_ids),
            indexed_passages=len(indexed),
            missing=len(store_ids - indexed),
            extra=len(indexed - store_ids),
            model_matches=model_matches,
        )

    def _manifest(self, ids: NDArray[np.int64], last_deletion_id: int) -> IndexManifest:
        return build_manifest(
            HYBRID_INDEX,
            model=self._model,
            dim=self._dim,
            ids=ids,
            last_deletion_id=last_deletion_id,
        )

    def _save(self, index_set: IndexSet) -> None:
        """Write a new generation folder, then point ``CURRENT`` at it atomically.

        Under the folder lock; skipped when the saved generation already holds the same
        passages and deletions (another process sharing the folder saved it first).
        """
        with folder_lock(self._folder, exclusive=True):
            if self._saved_state() == _state(index_set.manifest):
                return
            generation = self._folder / f"gen-{uuid.uuid4().hex[:12]}"
            index_set.dense.save(generation / "dense")
            index_set.lexical.save(generation / "lexical")
            save_manifest(generation, index_set.manifest)
            pointer = self._folder / f"CURRENT.{os.getpid()}.tmp"
            pointer.write_text(generation.name, encoding="utf-8")
            os.replace(pointer, self._folder / "CURRENT")
            for old in self._folder.glob("gen-*"):
                if old.name != generation.name:
                    shutil.rmtree(old, ignore_errors=True)

    def _saved_state(self) -> tuple[object, ...] | None:
        """What the saved generation holds (``None`` if none is readable)."""
        pointer = self._folder / "CURRENT"
        try:
            generation = self._folder / pointer.read_text(encoding="utf-8").strip()
            return _state(load_manifest(generation))
        except Exception:
            return None

    def _read_saved(self) -> tuple[IndexManifest, DenseIndex, LexicalIndex] | None:
        """Read the saved generation under the shared folder lock (``None`` if there is none).

        Raises:
            Exception: The generation is there but unreadable.
        """
        if not (self._folder / "CURRENT").exists():
            return None
        with folder_lock(self._folder, exclusive=False):
            pointer = self._folder / "CURRENT"
            generation = self._folder / pointer.read_text(encoding="utf-8").strip()
            manifest = load_manifest(generation)
            return (
                manifest,
                DenseIndex.load(generation / "dense"),
                LexicalIndex.load(generation / "lexical"),
            )

    def _load_saved(self, session: Session) -> IndexSet | None:
        """Load the saved generation if the store still holds what its manifest describes.

        The passage metadata is read back from the store (the source of truth): the ids at or
        below the manifest's high-water mark, plus those deleted since, must give the
        manifest's checksum; otherwise ``None`` (the caller rebuilds).
        """
        try:
            saved = self._read_saved()
        except Exception:
            logger.warning("saved indexes unreadable; they will be rebuilt", exc_info=True)
            return None
        if saved is None:
            return None
        manifest, dense, lexical = saved
        upto = manifest.last_passage_id or 0
        deleted = _deleted_since(session, manifest.last_deletion_id or 0)
        if any(d <= upto for d in deleted):
            return None  # passages deleted since the save: rebuild rather than patch
        table = PassageTable(_read_metadata(session, self._model, upto=upto))
        try:
            verify_manifest(
                manifest, model=self._model, dim=self._dim, kinds=[HYBRID_INDEX], ids=table.ids
            )
        except IndexMismatchError as exc:
            logger.warning("saved indexes are stale (%s); they will be rebuilt", exc)
            return None
        return IndexSet(dense=dense, lexical=lexical, table=table, manifest=manifest)
