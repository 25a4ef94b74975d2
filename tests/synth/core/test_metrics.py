"""Hand-computed values (pytrec_eval is not installed here; trec_eval's rules are applied)."""

from __future__ import annotations

import math

import pytest

from synth.core.metrics import mrr_at_k, ndcg_at_k, per_query, recall_at_k

RUN = {
    "q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7, "d4": 0.6},
    "q2": {"d5": 0.5, "d6": 0.4},
}
QRELS = {
    "q1": {"d2": 1, "d4": 2, "d9": 1},  # d9 never retrieved
    "q2": {"d5": 1},
    "q3": {"d1": 0},  # no relevant document: skipped
}


def test_ndcg_hand_computed() -> None:
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    scores = per_query(RUN, QRELS, 10, "ndcg")
    assert set(scores) == {"q1", "q2"}
    assert scores["q1"] == pytest.approx(dcg / idcg)
    assert scores["q2"] == pytest.approx(1.0)
    assert ndcg_at_k(RUN, QRELS, 10) == pytest.approx((dcg / idcg + 1.0) / 2)


def test_ndcg_cutoff_uses_ideal_from_qrels() -> None:
    # At k=2 only d2 (rank 2) counts; the ideal holds the two best grades (2, 1).
    expected = (1 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert per_query(RUN, QRELS, 2, "ndcg")["q1"] == pytest.approx(expected)


def test_recall_and_mrr_hand_computed() -> None:
    assert per_query(RUN, QRELS, 3, "recall") == pytest.approx({"q1": 1 / 3, "q2": 1.0})
    assert recall_at_k(RUN, QRELS, 100) == pytest.approx((2 / 3 + 1) / 2)
    assert per_query(RUN, QRELS, 10, "mrr") == pytest.approx({"q1": 0.5, "q2": 1.0})
    assert mrr_at_k(RUN, QRELS, 1) == pytest.approx(0.5)


def test_ties_break_by_descending_doc_id_like_trec_eval() -> None:
    run = {"q": {"a": 1.0, "b": 1.0}}
    assert mrr_at_k(run, {"q": {"b": 1}}, 10) == 1.0
    assert mrr_at_k(run, {"q": {"a": 1}}, 10) == 0.5


def test_graded_gain_is_linear() -> None:
    run = {"q": {"a": 2.0, "b": 1.0}}
    qrels = {"q": {"a": 1, "b": 3}}
    dcg = 1 + 3 / math.log2(3)
    idcg = 3 + 1 / math.log2(3)
    assert ndcg_at_k(run, qrels, 10) == pytest.approx(dcg / idcg)


def test_query_missing_from_run_scores_zero() -> None:
    assert ndcg_at_k({}, {"q": {"a": 1}}, 10) == 0.0
    assert ndcg_at_k({}, {}, 10) == 0.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="measure"):
        per_query(RUN, QRELS, 10, "map")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must"):
        ndcg_at_k(RUN, QRELS, 0)
