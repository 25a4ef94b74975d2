"""Hungarian matching keeps theme identity across refits."""

from __future__ import annotations

import numpy as np

from synth.core.theme_identity import match_themes


def _unit(rows: list[list[float]]) -> np.ndarray:  # type: ignore[type-arg]
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_permuted_topics_map_back_to_their_themes() -> None:
    rng = np.random.default_rng(0)
    old = _unit(rng.normal(size=(6, 16)).tolist())
    order = [3, 0, 5, 1, 4, 2]
    noisy = _unit((old[order] + rng.normal(scale=0.05, size=(6, 16))).tolist())
    result = match_themes(old, noisy, threshold=0.8)
    assert {new: old_i for new, (old_i, _) in result.matched.items()} == dict(enumerate(order))
    assert result.new_topics == () and result.vanished_themes == ()


def test_below_threshold_is_a_new_theme_and_the_old_one_vanishes() -> None:
    old = _unit([[1, 0, 0], [0, 1, 0]])
    new = _unit([[1, 0.1, 0], [0, 0, 1]])
    result = match_themes(old, new, threshold=0.75)
    assert list(result.matched) == [0] and result.matched[0][0] == 0
    assert result.new_topics == (1,)
    assert result.vanished_themes == (1,)


def test_assignment_is_global_not_greedy() -> None:
    # Greedy would give new 0 to old 0 (0.95) and leave new 1 with a poor match (0.5);
    # the optimum gives 0→1 and 1→0 (0.9 + 0.9 > 0.95 + 0.5).
    sims = np.array([[0.95, 0.9], [0.9, 0.5]])
    old = np.eye(2, dtype=np.float32)
    result = match_themes(old, sims.astype(np.float32), threshold=0.6)
    assert {k: v[0] for k, v in result.matched.items()} == {0: 1, 1: 0}


def test_empty_sides() -> None:
    empty = np.zeros((0, 3), dtype=np.float32)
    some = _unit([[1, 0, 0]])
    assert match_themes(empty, some, 0.5).new_topics == (0,)
    assert match_themes(some, empty, 0.5).vanished_themes == (0,)
