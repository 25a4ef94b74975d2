"""Networks, organisations, projects, entries, passages, tags and the embedding cache."""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

organisation_networks = Table(
    "organisation_networks",
    Base.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
)

entry_tags = Table(
    "entry_tags",
    Base.metadata,
    Column("entry_id", ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Network(Base):
    """A learning network: people from many organisations improving one area of care."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Organisation(Base):
    """A team or organisation (hospital, practice, care provider) that writes entries."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    networks: Mapped[list[Network]] = relationship(secondary=organisation_networks)


class Project(Base):
    """A change project run by one organisation within one network."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    network: Mapped[Network] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Tag(Base):
    """A free-text tag, stored lower-case."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Entry(Base):
    """One piece of learning: a reflection, story, case study, PDSA note, evaluation or insight.

    ``body`` and ``fields`` hold the *redacted* text; the original is never stored.
    """

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_network_visibility", "network_id", "visibility"),
        Index("ix_entries_content_hash", "content_hash"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_pseudonym: Mapped[str | None] = mapped_column(String(40))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    occurred_on: Mapped[dt.date | None]
    visibility: Mapped[str] = mapped_column(String(10))
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    content_hash: Mapped[str] = mapped_column(String(64))
    near_duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL")
    )
    redactions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    network: Mapped[Network] = relationship()
    organisation: Mapped[Organisation] = relationship()
    project: Mapped[Project | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=entry_tags, order_by=Tag.name)
    passages: Mapped[list["Passage"]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="Passage.ordinal",
        passive_deletes=True,
    )


class Passage(Base):
    """A chunk of an entry's redacted body with its stored embedding.

    ``start``/``end`` are character offsets into ``Entry.body``; ``embedding`` is float32
    bytes of ``embedding_dim`` values, so indexes can be rebuilt without re-embedding.
    """

    __tablename__ = "passages"
    # Ids only grow (SQLite AUTOINCREMENT; PostgreSQL sequences): indexes follow the store by
    # a high-water mark on passage id, so an id must never be reused after a delete.
    __table_args__ = (
        UniqueConstraint("entry_id", "ordinal", name="uq_passages_entry_ordinal"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedding_model: Mapped[str] = mapped_column(String(200))
    embedding_dim: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="passages")


class PassageDeletion(Base):
    """A passage id removed from the store, so derived indexes can drop it (change feed)."""

    __tablename__ = "passage_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[int] = mapped_column(Integer, index=True)
    deleted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EmbeddingCacheItem(Base):
    """A vector computed once for (model, text hash): the same text is never embedded twice."""

    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
