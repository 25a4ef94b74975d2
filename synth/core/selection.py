"""Choosing representative, diverse items: maximal marginal relevance (MMR)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["select_mmr"]


def select_mmr(
    vectors: NDArray[np.float32],
    query: NDArray[np.float32],
    k: int,
    *,
    diversity: float = 0.3,
    groups: Sequence[object] | None = None,
) -> list[int]:
    """Pick ``k`` rows close to ``query`` and unlike each other (MMR), at most one per group.

    Score of a candidate = (1 − diversity) · cos(candidate, query) − diversity · max cos to
    those already chosen. Ties go to the lower index, so the choice is deterministic.

    >>> v = np.array([[1, 0], [0.99, 0.14], [0.6, 0.8]], dtype=np.float32)
    >>> select_mmr(v, np.array([1, 0], dtype=np.float32), 2, diversity=0.7)
    [0, 2]
    """
    n = len(vectors)
    if n == 0 or k <= 0:
        return []
    relevance = vectors @ query
    chosen: list[int] = []
    used_groups: set[object] = set()
    best_sim = np.full(n, -np.inf, dtype=np.float64)
    available = np.ones(n, dtype=bool)
    while len(chosen) < k and available.any():
        penalty = np.where(np.isfinite(best_sim), best_sim, 0.0)
        score = (1 - diversity) * relevance - diversity * penalty
        score = np.where(available, score, -np.inf)
        pick = int(np.argmax(score))
        chosen.append(pick)
        available[pick] = False
        if groups is not None:
            used_groups.add(groups[pick])
            available &= np.array([g not in used_groups for g in groups])
        best_sim = np.maximum(best_sim, vectors @ vectors[pick])
    return chosen
