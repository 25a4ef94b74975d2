"""The outlier cap: after the threshold, the nearest outliers join a topic until the bound holds."""

from __future__ import annotations

import numpy as np

from synth.topics import cap_outliers


def _unit(rows: list[list[float]]) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_the_nearest_outliers_join_their_nearest_topic_until_the_share_holds() -> None:
    embeddings = _unit(
        [[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 1, 0.1],  # topics 0 and 1
         [0.9, 0.1, 0.5], [0.1, 0.9, 0.6], [0.2, 0.2, 1.0], [0.3, 0.2, 1.0]]  # outliers
    )  # fmt: skip
    assignments = np.array([0, 0, 1, 1, -1, -1, -1, -1])
    capped = cap_outliers(assignments, embeddings, max_share=0.25)
    assert (capped == -1).sum() == 2  # floor(0.25 * 8)
    assert capped[4] == 0 and capped[5] == 1  # the two nearest outliers, each to its own topic
    assert list(capped[:4]) == [0, 0, 1, 1] and capped[6] == capped[7] == -1


def test_nothing_changes_within_the_bound_or_without_topics() -> None:
    embeddings = _unit([[1, 0], [0, 1], [1, 1], [1, 0.5]])
    within = np.array([0, 1, 1, -1])
    assert cap_outliers(within, embeddings, max_share=0.25) is within
    none = np.array([-1, -1, -1, -1])
    assert (cap_outliers(none, embeddings, max_share=0.0) == -1).all()
