"""Embed texts through a (model, text hash) cache in the store: nothing is embedded twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import EmbeddingCacheItem
from synth.core.dedupe import compute_text_hash
from synth.ports import Embedder

__all__ = ["CachedEmbeddings", "embed_with_cache", "vector_from_bytes", "vector_to_bytes"]

_LOOKUP_CHUNK = 500


def vector_to_bytes(vector: NDArray[np.float32]) -> bytes:
    """Serialise one vector as little-endian float32 bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes, dim: int) -> NDArray[np.float32]:
    """Read one vector written by :func:`vector_to_bytes`."""
    vector = np.frombuffer(data, dtype="<f4")
    if vector.shape != (dim,):
        raise ValueError(f"stored vector has {vector.size} values, expected {dim}")
    return vector.astype(np.float32)


@dataclass(frozen=True, slots=True)
class CachedEmbeddings:
    """Vectors for the requested texts, and how many came from the cache."""

    vectors: NDArray[np.float32]
    hashes: tuple[str, ...]
    encoded: int
    cache_hits: int


def _cached(session: Session, model: str, hashes: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for i in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[i : i + _LOOKUP_CHUNK]
        rows = session.execute(
            select(EmbeddingCacheItem.text_hash, EmbeddingCacheItem.vector).where(
                EmbeddingCacheItem.model == model, EmbeddingCacheItem.text_hash.in_(chunk)
            )
        )
        for text_hash, vector in rows:
            found[text_hash] = vector
    return found


def embed_with_cache(
    session: Session, embedder: Embedder, texts: Sequence[str]
) -> CachedEmbeddings:
    """Return unit vectors for ``texts``, encoding only those not cached for this model.

    New vectors are added to the cache in ``session`` (the caller commits).
    """
    hashes = [compute_text_hash(t) for t in texts]
    cached = _cached(session, embedder.name, sorted(set(hashes)))
    missing: dict[str, str] = {}
    for text, text_hash in zip(texts, hashes, strict=True):
        if text_hash not in cached:
            missing.setdefault(text_hash, text)
    if missing:
        fresh = embedder.encode(list(missing.values()))
        for text_hash, vector in zip(missing, fresh, strict=True):
            data = vector_to_bytes(vector)
            cached[text_hash] = data
            session.add(
                EmbeddingCacheItem(
                    model=embedder.name, text_hash=text_hash, dim=embedder.dim, vector=data
                )
            )
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, text_hash in enumerate(hashes):
        vectors[i] = vector_from_bytes(cached[text_hash], embedder.dim)
    return CachedEmbeddings(
        vectors=vectors,
        hashes=tuple(hashes),
        encoded=len(missing),
        cache_hits=sum(1 for h in hashes if h not in missing),
    )
