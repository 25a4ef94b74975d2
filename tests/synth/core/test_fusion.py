from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.core.fusion import Scored, aggregate_passages, convex, fuse_documents, rrf

# Integer-valued scores keep the "first in both lists" property free of float ties.
scores = st.integers(min_value=-1000, max_value=1000).map(float)


@st.composite
def ranked_list(draw: st.DrawFn, max_size: int = 12) -> list[Scored]:
    ids = draw(st.lists(st.integers(0, 30), unique=True, max_size=max_size))
    return [(i, draw(scores)) for i in ids]


@st.composite
def two_lists_with_common_top(draw: st.DrawFn) -> tuple[list[Scored], list[Scored], int]:
    top = draw(st.integers(0, 30))
    a = [(i, s) for i, s in draw(ranked_list()) if i != top]
    b = [(i, s) for i, s in draw(ranked_list()) if i != top]
    a.append((top, max((s for _, s in a), default=0.0) + 1.0))
    b.append((top, max((s for _, s in b), default=0.0) + 1.0))
    return a, b, top


def test_rrf_hand_computed() -> None:
    fused = dict(rrf([[(1, 0.9), (2, 0.5)], [(2, 7.0), (3, 1.0)]], k=60))
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61)
    assert fused[3] == pytest.approx(1 / 62)


def test_rrf_ranks_by_score_not_input_order() -> None:
    assert rrf([[(5, 0.1), (6, 0.9)]], k=0) == [(6, 1.0), (5, 0.5)]


def test_rrf_weights_change_the_winner() -> None:
    lists = [[(1, 1.0), (2, 0.0)], [(2, 1.0), (1, 0.0)]]
    assert rrf(lists, k=1, weights=[1.0, 3.0])[0][0] == 2
    assert rrf(lists, k=1, weights=[3.0, 1.0])[0][0] == 1


def test_rrf_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="weights"):
        rrf([[(1, 1.0)]], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="twice"):
        rrf([[(1, 1.0), (1, 0.5)]])
    with pytest.raises(ValueError, match="non-finite"):
        rrf([[(1, math.nan)]])


def test_convex_minmax_hand_computed() -> None:
    fused = dict(convex([(1, 0.9), (2, 0.5), (4, 0.7)], [(2, 7.0), (3, 1.0)], 0.25))
    # dense: 1 -> 1, 4 -> 0.5, 2 -> 0; lexical: 2 -> 1, 3 -> 0; missing -> the list minimum 0
    assert fused == pytest.approx({1: 0.25, 4: 0.125, 2: 0.75, 3: 0.0})


def test_convex_zscore_missing_takes_list_minimum() -> None:
    fused = dict(convex([(1, 1.0), (2, 3.0)], [(3, 5.0)], 0.5, normalisation="zscore"))
    # dense z: 1 -> -1, 2 -> +1; lexical is constant -> 0 for all; 3 is missing from dense -> -1
    assert fused == pytest.approx({1: -0.5, 2: 0.5, 3: -0.5})


def test_convex_alpha_extremes_follow_one_list() -> None:
    dense, lexical = [(1, 0.2), (2, 0.9)], [(1, 9.0), (2, 1.0)]
    assert [i for i, _ in convex(dense, lexical, 1.0)] == [2, 1]
    assert [i for i, _ in convex(dense, lexical, 0.0)] == [1, 2]


def test_convex_rejects_bad_alpha_and_normalisation() -> None:
    with pytest.raises(ValueError, match="alpha"):
        convex([(1, 1.0)], [], 1.5)
    with pytest.raises(ValueError, match="normalisation"):
        convex([(1, 1.0)], [], 0.5, normalisation="rank")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(ranked_list(), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_rrf_is_stable_under_permutation(lists: list[list[Scored]], rnd: object) -> None:
    weights = [float(i + 1) for i in range(len(lists))]
    order = list(range(len(lists)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = [sorted(lists[i], key=lambda _: rnd.random()) for i in order]  # type: ignore[attr-defined]
    assert rrf(lists, k=60, weights=weights) == rrf(
        shuffled, k=60, weights=[weights[i] for i in order]
    )


@settings(max_examples=200, deadline=None)
@given(ranked_list(), ranked_list(), st.floats(0, 1), st.sampled_from(["minmax", "zscore"]))
def test_convex_is_stable_under_permutation_and_finite(
    dense: list[Scored], lexical: list[Scored], alpha: float, method: str
) -> None:
    fused = convex(dense, lexical, alpha, normalisation=method)  # type: ignore[arg-type]
    again = convex(dense[::-1], lexical[::-1], alpha, normalisation=method)  # type: ignore[arg-type]
    assert fused == again
    assert all(math.isfinite(s) for _, s in fused)
    assert {i for i, _ in fused} == {i for i, _ in dense} | {i for i, _ in lexical}
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


@settings(max_examples=200, deadline=None)
@given(two_lists_with_common_top(), st.floats(0, 1), st.sampled_from(["minmax", "zscore"]))
def test_doc_first_in_both_lists_is_first(
    case: tuple[list[Scored], list[Scored], int], alpha: float, method: str
) -> None:
    dense, lexical, top = case
    assert rrf([dense, lexical])[0][0] == top
    fused = convex(dense, lexical, alpha, normalisation=method)  # type: ignore[arg-type]
    assert fused[0][0] == top
    assert all(math.isfinite(s) for _, s in rrf([dense, lexical]))


def test_aggregate_max_and_decay() -> None:
    passages = [(1, 0.8), (2, 0.6), (3, 0.7), (4, -0.2)]
    owners = {1: 10, 2: 10, 3: 20, 4: 10}
    assert aggregate_passages(passages, owners) == [(10, 0.8), (20, 0.7)]
    decayed = dict(aggregate_passages(passages, owners, method="max+decay", decay=0.5))
    # 0.8 + 0.5 * 0.6 + 0.25 * max(-0.2, 0): negative passages add no bonus
    assert decayed == pytest.approx({10: 1.1, 20: 0.7})


def test_aggregate_rejects_unknown_passage_and_method() -> None:
    with pytest.raises(ValueError, match="no document"):
        aggregate_passages([(1, 1.0)], {})
    with pytest.raises(ValueError, match="method"):
        aggregate_passages([(1, 1.0)], {1: 1}, method="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decay"):
        aggregate_passages([(1, 1.0)], {1: 1}, method="max+decay", decay=1.0)


@settings(max_examples=200, deadline=None)
@given(ranked_list(max_size=20), st.sampled_from(["max", "max+decay"]))
def test_aggregate_is_order_free_and_at_least_the_best_passage(
    passages: list[Scored], method: str
) -> None:
    owners = {i: i % 4 for i, _ in passages}
    docs = aggregate_passages(passages, owners, method=method)  # type: ignore[arg-type]
    assert docs == aggregate_passages(passages[::-1], owners, method=method)  # type: ignore[arg-type]
    best: dict[int, float] = {}
    for i, s in passages:
        best[owners[i]] = max(best.get(owners[i], -math.inf), s)
    for doc, score in docs:
        assert score >= best[doc]
        if method == "max":
            assert score == best[doc]


def _half(d: list[Scored], x: list[Scored]) -> list[Scored]:
    return convex(d, x, 0.5)


def test_fuse_documents_joins_evidence_that_passage_fusion_splits() -> None:
    owners = {1: 10, 2: 10, 4: 20, 8: 40, 9: 30}
    dense = [(1, 1.0), (4, 0.8), (9, 0.0)]  # doc 10 through passage 1
    lexical = [(2, 10.0), (4, 8.0), (8, 0.0)]  # doc 10 through passage 2
    by_passage = aggregate_passages(_half(dense, lexical), owners)
    assert by_passage[0] == (20, pytest.approx(0.8))  # 10's passages each lack one half
    fused = fuse_documents(dense, lexical, owners, _half)
    assert fused[0] == (10, 2, 1.0)  # first in both lists; shown with the lexical passage
    assert fused[1] == (20, 4, pytest.approx(0.8))
    assert {doc for doc, _, _ in fused} == {10, 20, 30, 40}


def test_fuse_documents_shows_the_passage_of_the_list_that_ranked_it_higher() -> None:
    owners = {1: 10, 2: 20, 3: 10}
    fused = fuse_documents([(1, 0.9), (2, 0.5)], [(2, 3.0), (3, 1.0)], owners, _half)
    shown = {doc: passage for doc, passage, _ in fused}
    assert shown == {10: 1, 20: 2}  # 10: dense rank 1 vs lexical rank 2; 20: lexical rank 1


def test_fuse_documents_rejects_unknown_passages() -> None:
    with pytest.raises(ValueError, match="no document"):
        fuse_documents([(1, 1.0)], [], {}, _half)


@settings(max_examples=200, deadline=None)
@given(ranked_list(), ranked_list())
def test_fuse_documents_with_one_passage_each_is_plain_fusion(
    dense: list[Scored], lexical: list[Scored]
) -> None:
    def fuse(d: list[Scored], x: list[Scored]) -> list[Scored]:
        if d and x:
            return convex(d, x, 0.4, normalisation="zscore")
        return sorted(d or x, key=lambda item: (-item[1], item[0]))

    owners = {i: i + 100 for i, _ in dense + lexical}
    fused = fuse_documents(dense, lexical, owners, fuse)
    plain = fuse(dense, lexical)
    assert [(doc, score) for doc, _, score in fused] == [(i + 100, s) for i, s in plain]
    assert all(doc == passage + 100 for doc, passage, _ in fused)
