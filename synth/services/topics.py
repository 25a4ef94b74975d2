"""Topic runs in the store: fit on stored embeddings, keep theme identity, assign new passages.

A refit writes its run as ``fitting`` and commits it; everything else (topics, passage
assignments, theme matches, the switch of ``current``) lands in one later transaction, so a
fit killed midway leaves the previous run current. New passages are assigned to the current
run's topics by centroid cosine (no refit, no re-embedding) by :func:`assign_new_passages`,
which ingest calls and which any reader may call to catch up.

One fit runs at a time per data folder: a fit holds an ``fcntl`` lock on
``topics/.fit.lock`` (the kernel drops it when the process dies, even on ``kill -9``). A fit
that takes the lock first marks any run still ``fitting`` as failed: no live process can be
fitting it, so it was left by a fit that died.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Entry, Network, Passage, PassageTopic, Theme, Topic, TopicRun
from synth.config import TopicConfig
from synth.core.theme_identity import match_themes
from synth.errors import SynthError
from synth.ports import Embedder, ProgressReporter
from synth.services.embeddings import vector_from_bytes, vector_to_bytes
from synth.topics import FittedTopic, TopicFit, fit_topics
from synth.topics.centring import apply_centring, compute_network_means

__all__ = [
    "AssignmentReport",
    "TopicRunReport",
    "assign_new_passages",
    "current_run",
    "fit_topic_run",
    "refit_suggested",
]

logger = logging.getLogger(__name__)

#: A store needs this many passages before topics mean anything.
MIN_PASSAGES = 20


@dataclass(frozen=True, slots=True)
class TopicRunReport:
    """What a refit produced."""

    run_id: int
    passages: int
    topics: int
    outlier_share: float
    outlier_share_before_reduction: float
    themes_kept: int
    themes_new: int
    themes_archived: int
    seconds: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``synth topics fit --json``)."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class AssignmentReport:
    """New passages given a topic since the current run was fitted."""

    run_id: int | None
    assigned: int
    outliers: int


def current_run(session: Session) -> TopicRun | None:
    """The live topic run, if a fit has completed."""
    return session.scalars(select(TopicRun).where(TopicRun.status == "current")).first()


@dataclass(frozen=True, slots=True)
class _Passages:
    ids: list[int]
    texts: list[str]
    networks: list[str]
    vectors: NDArray[np.float32]


def _load_passages(session: Session, model: str, dim: int, after: int = 0) -> _Passages:
    rows = session.execute(
        select(Passage.id, Passage.text, Passage.embedding, Network.slug)
        .join(Entry, Entry.id == Passage.entry_id)
        .join(Network, Network.id == Entry.network_id)
        .where(Passage.embedding_model == model, Passage.embedding_dim == dim)
        .where(Passage.id > after)
        .order_by(Passage.id)
    ).all()
    blob = b"".join(r.embedding for r in rows)
    return _Passages(
        ids=[r.id for r in rows],
        texts=[r.text for r in rows],
        networks=[r.slug for r in rows],
        vectors=np.frombuffer(blob, dtype="<f4").reshape(len(rows), dim).astype(np.float32),
    )


def _run_means(run: TopicRun) -> dict[str, NDArray[np.float32]]:
    return {k: np.asarray(v, dtype=np.float32) for k, v in (run.network_means or {}).items()}


def fit_topic_run(
    sessions: sessionmaker[Session],
    embedder: Embedder,
    config: TopicConfig,
    data_dir: Path,
    progress: ProgressReporter | None = None,
) -> TopicRunReport:
    """Refit the topic model on every stored passage and make the result the current run.

    Progress has three steps: passages loaded, model fitted, run stored.
    """
    with _fit_lock(data_dir):
        _fail_abandoned_runs(sessions)
        return _fit_locked(sessions, embedder, config, data_dir, progress)


@contextlib.contextmanager
def _fit_lock(data_dir: Path) -> Iterator[None]:
    """Hold ``topics/.fit.lock`` exclusively, or raise at once if another fit holds it."""
    folder = data_dir / "topics"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".fit.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SynthError(
                "another topic fit is running on this data folder; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fail_abandoned_runs(sessions: sessionmaker[Session]) -> None:
    """Mark runs left ``fitting`` by a fit that died as failed (the caller holds the lock)."""
    with sessions() as session, session.begin():
        for run in session.scalars(select(TopicRun).where(TopicRun.status == "fitting")):
            run.status = "failed"
            run.error = "the process stopped while this run was fitting"
            run.finished_at = dt.datetime.now(dt.UTC)
            logger.warning("topic run %s was left fitting by a process that died", run.id)


def _fit_locked(
    sessions: sessionmaker[Session],
    embedder: Embedder,
    config: TopicConfig,
    data_dir: Path,
    progress: ProgressReporter | None,
) -> TopicRunReport:
    started = time.perf_counter()
    if progress is not None:
        progress.start(3, "Fitting topics")
    with sessions() as session:
        passages = _load_passages(session, embedder.name, embedder.dim)
        ids = passages.ids
        if len(ids) < MIN_PASSAGES:
            raise SynthError(
                f"the store has {len(ids)} passages; topics need at least {MIN_PASSAGES}: "
                "ingest more entries first"
            )
        means = compute_network_means(passages.vectors, passages.networks)
        vectors = apply_centring(
            passages.vectors, passages.networks, means, config.network_centring
        )
        run = TopicRun(
            status="fitting", embedding_model=embedder.name,
            parameters=config.model_dump(mode="json"), corpus_size=len(ids),
            last_passage_id=ids[-1],
            network_means={k: v.tolist() for k, v in means.items()},
        )  # fmt: skip
        session.add(run)
        session.commit()
        run_id = run.id
    _step(progress)
    try:
        fit = fit_topics(passages.texts, vectors, config, embedder)
        model_path = _save_model(fit, data_dir, run_id)
    except Exception as exc:
        _mark_failed(sessions, run_id, exc)
        raise
    _step(progress)
    with sessions() as session, session.begin():
        counts = _persist(session, run_id, fit, ids, vectors, config)
        run = session.get_one(TopicRun, run_id)
        run.model_path = str(model_path)
    _step(progress)
    seconds = round(time.perf_counter() - started, 2)
    with sessions() as session, session.begin():
        session.get_one(TopicRun, run_id).metrics = _metrics(fit, seconds)
    return TopicRunReport(
        run_id=run_id, passages=len(ids), topics=len(fit.topics),
        outlier_share=round(fit.outlier_share, 4),
        outlier_share_before_reduction=round(fit.outlier_share_before_reduction, 4),
        themes_kept=counts[0], themes_new=counts[1], themes_archived=counts[2], seconds=seconds,
    )  # fmt: skip


def _step(progress: ProgressReporter | None) -> None:
    if progress is not None:
        progress.advance()


def _metrics(fit: TopicFit, seconds: float) -> dict[str, object]:
    return {
        "topics": len(fit.topics),
        "outlier_share": round(fit.outlier_share, 4),
        "outlier_share_before_reduction": round(fit.outlier_share_before_reduction, 4),
        "min_topic_size": fit.min_topic_size,
        "umap_neighbors": fit.umap_neighbors,
        "seconds": seconds,
    }


def _mark_failed(sessions: sessionmaker[Session], run_id: int, exc: Exception) -> None:
    with sessions() as session, session.begin():
        run = session.get_one(TopicRun, run_id)
        run.status = "failed"
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = dt.datetime.now(dt.UTC)


def _save_model(fit: TopicFit, data_dir: Path, run_id: int) -> Path:
    """Save the fitted BERTopic model (safetensors, no embedding model inside)."""
    folder = data_dir / "topics" / f"run-{run_id}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    vectorizer = fit.model.vectorizer_model
    if hasattr(vectorizer, "vocabulary_"):  # sklearn leaves numpy ints after pruning: not JSON
        vectorizer.vocabulary_ = {k: int(v) for k, v in vectorizer.vocabulary_.items()}
    fit.model.save(
        str(folder), serialization="safetensors", save_ctfidf=True, save_embedding_model=False
    )
    return folder


def _persist(
    session: Session, run_id: int, fit: TopicFit, ids: list[int], vectors: NDArray[np.float32],
    config: TopicConfig,
) -> tuple[int, int, int]:  # fmt: skip
    """Write topics and assignments, match themes, and make ``run_id`` current."""
    dim = vectors.shape[1]
    previous = list(session.scalars(select(Theme).where(Theme.archived_at.is_(None))))
    old = np.stack([vector_from_bytes(t.centroid, dim) for t in previous]) if previous else \
        np.zeros((0, dim), dtype=np.float32)  # fmt: skip
    new = np.stack([t.centroid for t in fit.topics]) if fit.topics else old[:0]
    match = match_themes(old, new, config.match_threshold)
    topic_rows: dict[int, Topic] = {}
    for index, fitted in enumerate(fit.topics):
        theme, similarity = _theme_for(session, previous, match.matched.get(index), run_id, fitted)
        row = Topic(
            run_id=run_id, theme_id=theme.id, model_topic=fitted.topic_id, label=fitted.label,
            key_phrases=list(fitted.key_phrases), size=fitted.size,
            centroid=vector_to_bytes(fitted.centroid),
            representatives=[ids[i] for i in fitted.representatives],
            match_similarity=similarity,
        )  # fmt: skip
        session.add(row)
        topic_rows[fitted.topic_id] = row
    session.flush()
    now = dt.datetime.now(dt.UTC)
    for j in match.vanished_themes:
        previous[j].archived_at = now
    _write_assignments(session, run_id, fit, ids, vectors, topic_rows)
    session.execute(
        update(TopicRun).where(TopicRun.status == "current").values(status="superseded")
    )
    run = session.get_one(TopicRun, run_id)
    run.status, run.finished_at = "current", now
    return len(match.matched), len(match.new_topics), len(match.vanished_themes)


def _theme_for(
    session: Session, previous: list[Theme], matched: tuple[int, float] | None, run_id: int,
    fitted: FittedTopic,
) -> tuple[Theme, float | None]:  # fmt: skip
    """The matched theme (moved to this run's centroid) or a new one."""
    if matched is not None:
        theme = previous[matched[0]]
        theme.centroid = vector_to_bytes(fitted.centroid)
        theme.key_phrases = list(fitted.key_phrases)
        theme.last_run_id = run_id
        return theme, matched[1]
    theme = Theme(
        name=fitted.label, key_phrases=list(fitted.key_phrases),
        centroid=vector_to_bytes(fitted.centroid), first_run_id=run_id, last_run_id=run_id,
    )  # fmt: skip
    session.add(theme)
    session.flush()
    return theme, None


def _write_assignments(
    session: Session, run_id: int, fit: TopicFit, ids: list[int], vectors: NDArray[np.float32],
    topics: dict[int, Topic],
) -> None:  # fmt: skip
    centroids = {t.topic_id: t.centroid for t in fit.topics}
    rows = []
    for i, passage_id in enumerate(ids):
        model_topic = int(fit.assignments[i])
        topic = topics.get(model_topic)
        similarity = float(vectors[i] @ centroids[model_topic]) if topic else 0.0
        rows.append(
            {
                "run_id": run_id, "passage_id": passage_id,
                "topic_id": topic.id if topic else None,
                "theme_id": topic.theme_id if topic else None,
                "similarity": similarity, "x": float(fit.coordinates[i, 0]),
                "y": float(fit.coordinates[i, 1]), "assigned_by": "fit",
            }
        )  # fmt: skip
    for start in range(0, len(rows), 5000):
        session.execute(insert(PassageTopic), rows[start : start + 5000])


def assign_new_passages(session: Session, config: TopicConfig) -> AssignmentReport:
    """Give passages stored after the current run a topic by nearest centroid (no refit)."""
    run = current_run(session)
    if run is None:
        return AssignmentReport(None, 0, 0)
    topics = list(session.scalars(select(Topic).where(Topic.run_id == run.id).order_by(Topic.id)))
    if not topics:
        return AssignmentReport(run.id, 0, 0)
    dim = len(topics[0].centroid) // 4  # float32 bytes
    new = _load_passages(session, run.embedding_model, dim, after=run.last_passage_id)
    done = set(
        session.scalars(
            select(PassageTopic.passage_id).where(
                PassageTopic.run_id == run.id, PassageTopic.passage_id > run.last_passage_id
            )
        )
    )
    keep = [i for i, pid in enumerate(new.ids) if pid not in done]
    if not keep:
        return AssignmentReport(run.id, 0, 0)
    centring = float(run.parameters.get("network_centring", 0.0))
    vectors = apply_centring(
        new.vectors[keep], [new.networks[i] for i in keep], _run_means(run), centring
    )
    centroids = np.stack([vector_from_bytes(t.centroid, dim) for t in topics])
    similarity = vectors @ centroids.T
    best = similarity.argmax(axis=1)
    rows = []
    for i, column, sims in zip(keep, best, similarity, strict=True):
        topic = topics[int(column)] if sims[column] >= config.outlier_threshold else None
        rows.append(
            {
                "run_id": run.id, "passage_id": new.ids[i],
                "topic_id": topic.id if topic else None,
                "theme_id": topic.theme_id if topic else None,
                "similarity": float(sims[column]), "x": 0.0, "y": 0.0, "assigned_by": "ingest",
            }
        )  # fmt: skip
    session.execute(insert(PassageTopic), rows)
    outliers = sum(r["topic_id"] is None for r in rows)
    return AssignmentReport(run.id, len(rows), outliers)


def refit_suggested(session: Session, config: TopicConfig) -> tuple[bool, float]:
    """Whether the share of ingest-assigned passages left as outliers passes the threshold."""
    run = current_run(session)
    if run is None:
        return False, 0.0
    total, outliers = session.execute(
        select(func.count(), func.count().filter(PassageTopic.topic_id.is_(None))).where(
            PassageTopic.run_id == run.id, PassageTopic.assigned_by == "ingest"
        )
    ).one()
    share = outliers / total if total else 0.0
    return share > config.refit_outlier_share, round(share, 4)
