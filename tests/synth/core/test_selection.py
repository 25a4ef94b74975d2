"""MMR selection: relevant, diverse, one per group, deterministic."""

from __future__ import annotations

import numpy as np

from synth.core.dedupe import compute_entry_vector
from synth.core.selection import select_mmr


def test_groups_are_used_once_and_choice_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(20, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = [i // 4 for i in range(20)]
    picks = select_mmr(v, compute_entry_vector(v), 5, groups=groups)
    assert len(picks) == 5 and len({groups[i] for i in picks}) == 5
    assert picks == select_mmr(v, compute_entry_vector(v), 5, groups=groups)


def test_no_diversity_is_plain_relevance_order() -> None:
    v = np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    assert select_mmr(v, np.array([1, 0], dtype=np.float32), 3, diversity=0.0) == [0, 1, 2]


def test_fewer_items_than_k() -> None:
    v = np.eye(2, dtype=np.float32)
    assert sorted(select_mmr(v, compute_entry_vector(v), 5)) == [0, 1]
    assert select_mmr(v[:0], np.zeros(2, dtype=np.float32), 3) == []
