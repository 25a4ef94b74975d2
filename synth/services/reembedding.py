"""Re-embed stored passages with the current embedder (after changing model or backend)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from models import Entry, Passage
from synth.core.chunking import with_title
from synth.engine import Engine
from synth.ports import ProgressReporter
from synth.services.embeddings import embed_with_cache, vector_to_bytes

__all__ = ["ReembedReport", "reembed_passages"]


@dataclass(frozen=True, slots=True)
class ReembedReport:
    """What a re-embedding pass changed."""

    model: str
    passages: int
    encoded: int
    cache_hits: int

    def to_dict(self) -> dict[str, str | int]:
        """Return the ``synth reembed --json`` form."""
        return {
            "model": self.model,
            "passages": self.passages,
            "encoded": self.encoded,
            "cache_hits": self.cache_hits,
        }


def reembed_passages(
    engine: Engine, *, batch_size: int = 256, progress: ProgressReporter | None = None
) -> ReembedReport:
    """Give every passage stored under another model a vector from ``engine.embedder``.

    Passages are embedded as ingest embeds them ("entry title. passage text"), through the
    store's embedding cache, and committed batch by batch: an interrupted pass resumes where
    it stopped. The search indexes of the model are rebuilt afterwards. Topic runs fitted on
    the old vectors stay as they are: refit them (`synth topics fit`).
    """
    embedder = engine.embedder
    stale = Passage.embedding_model != embedder.name
    with engine.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Passage).where(stale)) or 0
    if progress is not None:
        progress.start(total, f"Re-embedding with {embedder.name}")
    done = encoded = hits = 0
    while True:
        with engine.sessions.begin() as session:
            rows = session.execute(
                select(Passage, Entry.title)
                .join(Entry, Entry.id == Passage.entry_id)
                .where(stale)
                .order_by(Passage.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            texts = [with_title(title, passage.text) for passage, title in rows]
            embedded = embed_with_cache(session, embedder, texts)
            for (passage, _), vector in zip(rows, embedded.vectors, strict=True):
                passage.embedding = vector_to_bytes(vector)
                passage.embedding_model = embedder.name
                passage.embedding_dim = int(vector.shape[0])
        done += len(rows)
        encoded += embedded.encoded
        hits += embedded.cache_hits
        if progress is not None:
            progress.advance(len(rows))
    if done:  # vectors changed under existing ids: rebuild rather than trust a saved manifest
        with engine.sessions() as session:
            engine.search_indexes.rebuild(session)
    return ReembedReport(model=embedder.name, passages=done, encoded=encoded, cache_hits=hits)
