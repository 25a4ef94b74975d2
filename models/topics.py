"""Topic runs, their topics, the themes that persist across runs, and passage assignments.

A *run* is one fit of the topic model; exactly one run is current. A *topic* belongs to one
run; a *theme* is the stable identity that topics of successive runs are matched to, so a
theme keeps its id and name across refits and its history is the topics linked to it.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class TopicRun(Base):
    """One fit of the topic model: parameters, corpus size, metrics; one run is ``current``."""

    __tablename__ = "topic_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # fitting | current | superseded | failed
    embedding_model: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    network_means: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)
    corpus_size: Mapped[int] = mapped_column(Integer, default=0)
    last_passage_id: Mapped[int] = mapped_column(Integer, default=0)
    model_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class Theme(Base):
    """A theme's stable identity across refits; ``archived_at`` is set when it vanishes."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    key_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("topic_runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("topic_runs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[dt.datetime | None]


class Topic(Base):
    """A topic of one run, matched to a theme."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("topic_runs.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), index=True)
    model_topic: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    key_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    representatives: Mapped[list[int]] = mapped_column(JSON, default=list)
    match_similarity: Mapped[float | None] = mapped_column(Float)


class PassageTopic(Base):
    """Which topic (and theme) a passage belongs to in a run; ``topic_id`` null = outlier."""

    __tablename__ = "passage_topics"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("topic_runs.id", ondelete="CASCADE"), primary_key=True
    )
    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    assigned_by: Mapped[str] = mapped_column(String(10))  # fit | ingest
