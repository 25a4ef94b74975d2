"""Topic runs in the store: fit on stored embeddings, keep theme identity, assign new passages.

A refit writes its run as ``fitting`` and commits it; everything else (topics, passage
assignments, theme matches, the switch of ``current``) lands in one later transaction, so a
fit killed midway leaves the previous run current. New passages are assigned to the current
run's topics by centroid cosine (no refit, no re-embedding) by :func:`assign_new_passages`,
which ingest calls and which any reader may call to catch up.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Passage, PassageTopic, Theme, Topic, TopicRun
from synth.config import TopicConfig
from synth.core.theme_identity import match_themes
from synth.errors import SynthError
from synth.ports import Embedder
from synth.services.embeddings import vector_from_bytes, vector_to_bytes
from synth.topics import FittedTopic, TopicFit, fit_topics

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


def _load_passages(
    session: Session, model: str, dim: int
) -> tuple[list[int], list[str], NDArray[np.float32]]:
    rows = session.execute(
        select(Passage.id, Passage.text, Passage.embedding)
        .where(Passage.embedding_model == model, Passage.embedding_dim == dim)
        .order_by(Passage.id)
    ).all()
    ids = [r.id for r in rows]
    texts = [r.text for r in rows]
    blob = b"".join(r.embedding for r in rows)
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dim).astype(np.float32)
    return ids, texts, vectors


def fit_topic_run(
    sessions: sessionmaker[Session], embedder: Embedder, config: TopicConfig, data_dir: Path
) -> TopicRunReport:
    """Refit the topic model on every stored passage and make the result the current run."""
    started = time.perf_counter()
    with sessions() as session:
        ids, texts, vectors = _load_passages(session, embedder.name, embedder.dim)
        if len(ids) < MIN_PASSAGES:
            raise SynthError(
                f"the store has {len(ids)} passages; topics need at least {MIN_PASSAGES}: "
                "ingest more entries first"
            )
        run = TopicRun(
            status="fitting", embedding_model=embedder.name,
            parameters=config.model_dump(mode="json"), corpus_size=len(ids),
            last_passage_id=ids[-1],
        )  # fmt: skip
        session.add(run)
        session.commit()
        run_id = run.id
    try:
        fit = fit_topics(texts, vectors, config, embedder)
        model_path = _save_model(fit, data_dir, run_id)
    except Exception as exc:
        _mark_failed(sessions, run_id, exc)
        raise
    with sessions() as session, session.begin():
        counts = _persist(session, run_id, fit, ids, vectors, config)
        run = session.get_one(TopicRun, run_id)
        run.model_path = str(model_path)
    seconds = round(time.perf_counter() - started, 2)
    with sessions() as session, session.begin():
        session.get_one(TopicRun, run_id).metrics = _metrics(fit, seconds)
    return TopicRunReport(
        run_id=run_id, passages=len(ids), topics=len(fit.topics),
        outlier_share=round(fit.outlier_share, 4),
        outlier_share_before_reduction=round(fit.outlier_share_before_reduction, 4),
        themes_kept=counts[0], themes_new=counts[1], themes_archived=counts[2], seconds=seconds,
    )  # fmt: skip


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
    done = select(PassageTopic.passage_id).where(PassageTopic.run_id == run.id)
    rows = session.execute(
        select(Passage.id, Passage.embedding, Passage.embedding_dim)
        .where(
            Passage.id > run.last_passage_id,
            Passage.embedding_model == run.embedding_model,
            Passage.id.not_in(done),
        )
        .order_by(Passage.id)
    ).all()
    if not rows:
        return AssignmentReport(run.id, 0, 0)
    topics = list(session.scalars(select(Topic).where(Topic.run_id == run.id).order_by(Topic.id)))
    dim = rows[0].embedding_dim
    vectors = np.stack([vector_from_bytes(r.embedding, dim) for r in rows])
    centroids = np.stack([vector_from_bytes(t.centroid, dim) for t in topics])
    similarity = vectors @ centroids.T
    best = similarity.argmax(axis=1)
    outliers = 0
    for row, column, sims in zip(rows, best, similarity, strict=True):
        topic = topics[int(column)] if sims[column] >= config.outlier_threshold else None
        outliers += topic is None
        session.add(
            PassageTopic(
                run_id=run.id, passage_id=row.id, topic_id=topic.id if topic else None,
                theme_id=topic.theme_id if topic else None, similarity=float(sims[column]),
                assigned_by="ingest",
            )
        )  # fmt: skip
    session.flush()
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
