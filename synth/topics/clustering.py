"""HDBSCAN with a fallback: excess-of-mass selection, or its leaves when it finds too few topics.

Excess of mass (``eom``) prefers a few large clusters. On a corpus with two or three big
sources (say, science abstracts and news) it can return two topics however many subjects
there are — measured at 10k and 50k passages in docs/benchmarks.md. ``auto`` keeps the eom
answer when it finds at least :func:`min_topics_for` clusters and otherwise uses the leaf
selection of the same data (many smaller, denser clusters; outlier reduction then assigns the
rest). Implements the ``fit`` / ``labels_`` contract BERTopic expects of a cluster model.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

__all__ = ["AdaptiveHDBSCAN", "count_clusters", "min_topics_for"]


def min_topics_for(n_documents: int) -> int:
    """Fewest topics ``auto`` accepts from eom: clamp(round(√n / 10), 3, 50).

    >>> min_topics_for(545), min_topics_for(10_000), min_topics_for(1_000_000)
    (3, 10, 50)
    """
    return min(max(round(math.sqrt(max(n_documents, 1)) / 10), 3), 50)


def count_clusters(labels: NDArray[np.int64]) -> int:
    """Clusters in HDBSCAN labels (-1, noise, is not a cluster)."""
    return len(set(labels.tolist()) - {-1})


class AdaptiveHDBSCAN:
    """HDBSCAN whose cluster selection is ``eom``, ``leaf`` or ``auto`` (eom, else leaf)."""

    def __init__(
        self, min_cluster_size: int, min_samples: int | None, selection: str, min_topics: int
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.selection = selection
        self.min_topics = min_topics
        self.selection_used = selection
        self.labels_: NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def _fit(self, data: NDArray[Any], method: str) -> NDArray[np.int64]:
        from hdbscan import HDBSCAN

        model = HDBSCAN(
            min_cluster_size=self.min_cluster_size,
            min_samples=self.min_samples,
            metric="euclidean",
            cluster_selection_method=method,
            prediction_data=False,
        ).fit(data)
        return np.asarray(model.labels_, dtype=np.int64)

    def fit(self, data: NDArray[Any], y: object = None) -> Self:  # noqa: ARG002  (sklearn API)
        """Cluster ``data`` (the UMAP output); the labels are in :attr:`labels_`."""
        first = "leaf" if self.selection == "leaf" else "eom"
        labels = self._fit(data, first)
        self.selection_used = first
        if self.selection == "auto" and count_clusters(labels) < self.min_topics:
            leaves = self._fit(data, "leaf")
            if count_clusters(leaves) > count_clusters(labels):
                labels, self.selection_used = leaves, "leaf"
        self.labels_ = labels
        return self

    def predict(self, data: NDArray[Any]) -> NDArray[np.int64]:
        """Not used: synth assigns new passages by centroid cosine (services/topics.py)."""
        raise NotImplementedError("assign new passages with synth.services.topics")
