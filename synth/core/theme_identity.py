"""Stable theme identity: match a refit's topics to the previous run's themes.

Hungarian matching (``scipy.optimize.linear_sum_assignment``) on centroid cosine similarity,
keeping only pairs at or above a threshold. A matched topic keeps the theme's id, name and
history; an unmatched topic becomes a new theme; an unmatched theme is archived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

__all__ = ["ThemeMatch", "match_themes"]


@dataclass(frozen=True, slots=True)
class ThemeMatch:
    """Outcome of matching: new topic index → (old theme index, cosine); the rest."""

    matched: dict[int, tuple[int, float]]
    new_topics: tuple[int, ...]
    vanished_themes: tuple[int, ...]


def match_themes(
    previous: NDArray[np.float32], current: NDArray[np.float32], threshold: float
) -> ThemeMatch:
    """Match rows of ``current`` (new topic centroids) to rows of ``previous`` (theme centroids).

    Both are unit-length row vectors. The assignment maximises the total cosine similarity;
    a pair below ``threshold`` is not a match.

    >>> old = np.array([[1, 0], [0, 1]], dtype=np.float32)
    >>> new = np.array([[0, 1], [0.6, 0.8]], dtype=np.float32)
    >>> result = match_themes(old, new, threshold=0.5)
    >>> result.matched, result.new_topics, result.vanished_themes
    ({0: (1, 1.0), 1: (0, 0.6)}, (), ())
    """
    n_old, n_new = len(previous), len(current)
    if n_old == 0 or n_new == 0:
        return ThemeMatch({}, tuple(range(n_new)), tuple(range(n_old)))
    similarity = np.asarray(current, dtype=np.float64) @ np.asarray(previous, dtype=np.float64).T
    rows, cols = linear_sum_assignment(-similarity)
    matched = {
        int(r): (int(c), round(float(similarity[r, c]), 6))
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= threshold
    }
    used = {old for old, _ in matched.values()}
    return ThemeMatch(
        matched=matched,
        new_topics=tuple(i for i in range(n_new) if i not in matched),
        vanished_themes=tuple(j for j in range(n_old) if j not in used),
    )
