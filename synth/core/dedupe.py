"""Exact and near-duplicate detection: content hashes and entry-vector cosine."""

from __future__ import annotations

import hashlib
import re

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "compute_content_hash",
    "compute_entry_vector",
    "compute_text_hash",
    "find_near_duplicates",
]

_NON_WORD = re.compile(r"\W+")


def compute_text_hash(text: str) -> str:
    """Return the SHA-256 hex digest of ``text`` exactly as given (embedding-cache key)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_content_hash(text: str) -> str:
    """Return a hash that ignores case, punctuation and spacing (exact-duplicate key).

    Example:
        >>> compute_content_hash("Huddles, at 10!") == compute_content_hash("huddles at 10")
        True
    """
    canonical = _NON_WORD.sub(" ", text.casefold()).strip()
    return compute_text_hash(canonical)


def compute_entry_vector(passage_vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the unit-length mean of an entry's (unit-length) passage vectors."""
    mean = passage_vectors.mean(axis=0).astype(np.float32)
    norm = float(np.linalg.norm(mean))
    unit: NDArray[np.float32] = mean / norm if norm > 0 else mean
    return unit


def find_near_duplicates(
    new: NDArray[np.float32],
    existing: NDArray[np.float32],
    *,
    threshold: float,
) -> list[int | None]:
    """For each row of ``new``, the index of its best match in ``existing`` at/above threshold.

    Rows of ``new`` are also compared with the *earlier* rows of ``new`` (so a batch with two
    near-identical entries flags the second); such matches are returned as
    ``len(existing) + j``.

    Args:
        new: Unit vectors of the incoming entries, shape (n, d).
        existing: Unit vectors of stored entries, shape (m, d).
        threshold: Cosine at or above which two entries are near duplicates.

    Returns:
        One index or ``None`` per incoming entry.
    """
    pool = np.vstack([existing, new]) if existing.size else new
    offset = existing.shape[0] if existing.size else 0
    scores = new @ pool.T
    result: list[int | None] = []
    for i in range(new.shape[0]):
        row = scores[i, : offset + i]
        if row.size == 0:
            result.append(None)
            continue
        best = int(np.argmax(row))
        result.append(best if float(row[best]) >= threshold else None)
    return result
