"""Retrieval quality the trec_eval way: nDCG@k, Recall@k and MRR@k averaged over queries.

A run maps each query id to ``{document id: score}``; qrels map each query id to
``{document id: relevance}``. As in trec_eval (and BEIR, which calls it through
pytrec_eval), a run is ranked by score, best first, ties broken by *descending* document id;
gains are linear (the relevance grade itself); the ideal DCG comes from the qrels.

Queries are those of the qrels with at least one relevant document (relevance > 0): others
are skipped, as BEIR's qrels hold none. A judged query missing from the run scores 0 (BEIR
would skip it; its runs always hold every query, so the averages agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

__all__ = ["Measure", "Qrels", "Run", "mrr_at_k", "ndcg_at_k", "per_query", "recall_at_k"]

#: Query id -> document id -> score.
Run = Mapping[str, Mapping[str, float]]
#: Query id -> document id -> relevance grade (0 = judged not relevant).
Qrels = Mapping[str, Mapping[str, int]]

#: A measure :func:`per_query` computes.
Measure = Literal["ndcg", "recall", "mrr"]
_Measure = Callable[[list[str], Mapping[str, int], int], float]


def _top(scores: Mapping[str, float], k: int) -> list[str]:
    """Return the ``k`` best document ids, trec_eval order (score desc, then id desc)."""
    ranked = sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return [doc for doc, _ in ranked[:k]]


def _ndcg(ranked: list[str], judged: Mapping[str, int], k: int) -> float:
    dcg = math.fsum(
        max(judged.get(doc, 0), 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked, 1)
    )
    ideal_gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    ideal = math.fsum(g / math.log2(rank + 1) for rank, g in enumerate(ideal_gains, 1))
    return dcg / ideal


def _recall(ranked: list[str], judged: Mapping[str, int], _k: int) -> float:
    relevant = sum(1 for g in judged.values() if g > 0)
    return sum(1 for doc in ranked if judged.get(doc, 0) > 0) / relevant


def _mrr(ranked: list[str], judged: Mapping[str, int], _k: int) -> float:
    for rank, doc in enumerate(ranked, 1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def per_query(run: Run, qrels: Qrels, k: int, measure: Measure) -> dict[str, float]:
    """Return one measure per judged query.

    Args:
        run: Scores per query.
        qrels: Relevance judgements per query.
        k: Cut-off depth.
        measure: ``"ndcg"``, ``"recall"`` or ``"mrr"``.

    Returns:
        The measure of each query that has at least one relevant document.

    Raises:
        ValueError: ``k`` is below 1 or ``measure`` is unknown.
    """
    measures: dict[str, _Measure] = {"ndcg": _ndcg, "recall": _recall, "mrr": _mrr}
    if measure not in measures:
        raise ValueError(f"unknown measure '{measure}'; use one of {', '.join(measures)}")
    if k < 1:
        raise ValueError("k must be at least 1")
    fn = measures[measure]
    return {
        query: fn(_top(run.get(query, {}), k), judged, k)
        for query, judged in qrels.items()
        if any(g > 0 for g in judged.values())
    }


def _mean(values: dict[str, float]) -> float:
    return math.fsum(values.values()) / len(values) if values else 0.0


def ndcg_at_k(run: Run, qrels: Qrels, k: int = 10) -> float:
    """Return mean nDCG@k (linear gain) over judged queries.

    Example:
        >>> round(ndcg_at_k({"q": {"a": 2.0, "b": 1.0}}, {"q": {"b": 1}}, k=10), 4)
        0.6309
    """
    return _mean(per_query(run, qrels, k, "ndcg"))


def recall_at_k(run: Run, qrels: Qrels, k: int = 100) -> float:
    """Return mean Recall@k: the share of each query's relevant documents in its top k.

    Example:
        >>> recall_at_k({"q": {"a": 2.0, "b": 1.0}}, {"q": {"b": 1, "c": 1}}, k=1)
        0.0
    """
    return _mean(per_query(run, qrels, k, "recall"))


def mrr_at_k(run: Run, qrels: Qrels, k: int = 10) -> float:
    """Return mean reciprocal rank of the first relevant document within the top k.

    Example:
        >>> mrr_at_k({"q": {"a": 2.0, "b": 1.0}}, {"q": {"b": 1}}, k=10)
        0.5
    """
    return _mean(per_query(run, qrels, k, "mrr"))
