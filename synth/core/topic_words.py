"""FREX topic words: frequent in a topic *and* exclusive to it (Roberts et al., STM).

A word's frequency in a topic is the share of the topic's document-word incidences it holds
(document frequency, so one long article cannot carry a word); its exclusivity is that
frequency divided by the word's frequencies summed over all topics. FREX is the weighted
harmonic mean of the two, each as its within-topic empirical CDF rank:
``1 / (w / rank(exclusivity) + (1 - w) / rank(frequency))``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["compute_frex_words"]


def _ecdf(values: NDArray[np.float64]) -> NDArray[np.float64]:
    ranks = np.argsort(np.argsort(values, axis=1, kind="stable"), axis=1, kind="stable")
    return np.asarray((ranks + 1) / values.shape[1], dtype=np.float64)


def compute_frex_words(
    incidence: sparse.spmatrix | NDArray[np.float64],
    assignments: NDArray[np.int64],
    topics: list[int],
    *,
    exclusivity_weight: float = 0.3,
    top_n: int = 10,
) -> list[list[int]]:
    """Return, per topic in ``topics``, the column indexes of its ``top_n`` FREX words.

    Args:
        incidence: Documents × vocabulary; non-zero where a document contains a word.
        assignments: Each document's topic (documents of other topics, e.g. -1, are ignored).
        topics: The topics to describe, in output order.
        exclusivity_weight: ``w`` above: 0 ranks by frequency only, 1 by exclusivity only.
        top_n: Words per topic.

    Example:
        >>> incidence = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1]])
        >>> compute_frex_words(incidence, np.array([0, 0, 1, 1]), [0, 1], top_n=1)
        [[1], [2]]
    """
    if not 0.0 <= exclusivity_weight <= 1.0:
        raise ValueError("exclusivity_weight must lie in [0, 1]")
    present = sparse.csr_matrix(incidence, dtype=np.float64)
    present.data[:] = 1.0
    counts = np.vstack([np.asarray(present[assignments == t].sum(axis=0)).ravel() for t in topics])
    counts += 1e-9
    frequency = counts / counts.sum(axis=1, keepdims=True)
    exclusivity = frequency / frequency.sum(axis=0, keepdims=True)
    w = exclusivity_weight
    frex = 1.0 / (w / _ecdf(exclusivity) + (1.0 - w) / _ecdf(frequency))
    order = np.argsort(-frex, axis=1, kind="stable")[:, :top_n]
    return [[int(i) for i in row] for row in order]
