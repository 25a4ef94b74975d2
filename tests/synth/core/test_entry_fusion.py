"""The numpy entry-level convex fusion returns exactly what the Python reference returns."""

from __future__ import annotations

import numpy as np
import pytest

from synth.core.entry_fusion import ScoredPassages, fuse_entries_convex
from synth.core.fusion import Normalisation, convex, fuse_documents


def _lists(
    rng: np.random.Generator, size: int, entries: int, decimals: int
) -> tuple[list[tuple[int, float]], list[tuple[int, float]], dict[int, int]]:
    """Two passage lists over a shared pool: overlapping passages, many entries, scores tied."""
    pool = rng.choice(10 * size, size=2 * size, replace=False)
    owner = {int(p): int(rng.integers(entries)) for p in pool}
    lists = []
    for scale in (1.0, 12.0):
        pids = rng.choice(pool, size=int(rng.integers(1, size + 1)), replace=False)
        scores = np.round(rng.normal(scale, scale / 3, pids.size), decimals)
        lists.append([(int(p), float(s)) for p, s in zip(pids, scores, strict=True)])
    return lists[0], lists[1], owner


def _arrays(items: list[tuple[int, float]], owner: dict[int, int]) -> ScoredPassages:
    return ScoredPassages(
        np.array([p for p, _ in items], dtype=np.int64),
        np.array([s for _, s in items], dtype=np.float64),
        np.array([owner[p] for p, _ in items], dtype=np.int64),
    )


@pytest.mark.parametrize("normalisation", ["zscore", "minmax"])
def test_agrees_with_the_python_reference_on_random_lists(normalisation: Normalisation) -> None:
    rng = np.random.default_rng(20261126)
    for trial in range(400):
        size = int(rng.integers(1, 120))
        entries = int(rng.integers(1, 2 * size + 2))
        decimals = int(rng.integers(0, 4)) if trial % 2 else 12  # coarse scores: many ties
        alpha = float(rng.choice([0.0, 0.3, 0.5, 1.0, rng.random()]))
        dense, lexical, owner = _lists(rng, size, entries, decimals)
        expected = fuse_documents(
            dense,
            lexical,
            owner,
            lambda d, x, a=alpha: convex(d, x, a, normalisation=normalisation),
        )
        got = fuse_entries_convex(
            _arrays(dense, owner), _arrays(lexical, owner), alpha, normalisation=normalisation
        )
        assert got == expected, (trial, size, entries, decimals, alpha)


def test_equal_scores_and_one_item_lists() -> None:
    owner = {1: 10, 2: 20, 3: 10}
    for dense, lexical in [
        ([(1, 0.5)], [(2, 3.0)]),
        ([(1, 0.5), (2, 0.5)], [(3, 1.0), (2, 1.0)]),
        ([(3, 0.2)], [(1, 7.0), (3, 7.0)]),
    ]:
        for normalisation in ("zscore", "minmax"):
            expected = fuse_documents(
                dense,
                lexical,
                owner,
                lambda d, x, n=normalisation: convex(d, x, 0.5, normalisation=n),
            )
            got = fuse_entries_convex(
                _arrays(dense, owner), _arrays(lexical, owner), 0.5, normalisation=normalisation
            )
            assert got == expected


def test_rejects_bad_input() -> None:
    owner = {1: 10, 2: 20}
    good = _arrays([(1, 1.0)], owner)
    with pytest.raises(ValueError, match="twice"):
        fuse_entries_convex(_arrays([(1, 1.0), (1, 2.0)], owner), good, 0.5)
    with pytest.raises(ValueError, match="non-finite"):
        fuse_entries_convex(_arrays([(2, float("nan"))], owner), good, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        fuse_entries_convex(good, good, 1.5)
    with pytest.raises(ValueError, match="at least one"):
        fuse_entries_convex(_arrays([], owner), good, 0.5)
    with pytest.raises(ValueError, match="normalisation"):
        fuse_entries_convex(good, good, 0.5, normalisation="rank")  # type: ignore[arg-type]
