"""Combine ranked lists (dense, lexical) into one ranking, and passage scores into documents.

Inputs and outputs are ``(id, score)`` lists. Every output is sorted by score, best first,
ties broken by ascending id (``convex`` first by rank evidence), and sums are exactly
rounded (``math.fsum``), so a result never depends on the order in which lists or items arrive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

__all__ = ["Scored", "aggregate_passages", "convex", "fuse_documents", "rrf"]

#: An (id, score) pair.
Scored = tuple[int, float]


def _ranked(items: Sequence[Scored]) -> list[Scored]:
    """Return ``items`` best first (ties by id); reject repeats and non-finite scores."""
    seen: set[int] = set()
    for item_id, score in items:
        if item_id in seen:
            raise ValueError(f"id {item_id} appears twice in one list")
        if not math.isfinite(score):
            raise ValueError(f"id {item_id} has a non-finite score {score}")
        seen.add(item_id)
    return sorted(items, key=lambda item: (-item[1], item[0]))


def _sorted(scores: Mapping[int, float]) -> list[Scored]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def rrf(
    rankings: Sequence[Sequence[Scored]],
    k: float = 60.0,
    weights: Sequence[float] | None = None,
) -> list[Scored]:
    """Fuse rankings by reciprocal rank: ``score(d) = sum_i w_i / (k + rank_i(d))``.

    Each list is ranked by its own scores (best first, ties by id; ranks start at 1). A
    document missing from a list gets nothing from it.

    Args:
        rankings: Lists of (id, score); only the order they imply is used.
        k: Damping constant; larger values flatten the weight of top ranks.
        weights: One weight per list (default 1 each).

    Returns:
        Fused (id, score) pairs, best first.

    Raises:
        ValueError: ``weights`` has the wrong length, ``k`` is negative, or a list repeats an id.

    Example:
        >>> rrf([[(1, 0.9), (2, 0.5)], [(2, 7.0), (3, 1.0)]], k=0)
        [(2, 1.5), (1, 1.0), (3, 0.5)]
    """
    if weights is not None and len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    if k < 0:
        raise ValueError("k must not be negative")
    parts: dict[int, list[float]] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[i]
        for rank, (item_id, _) in enumerate(_ranked(ranking), start=1):
            parts.setdefault(item_id, []).append(weight / (k + rank))
    return _sorted({item_id: math.fsum(values) for item_id, values in parts.items()})


Normalisation = Literal["minmax", "zscore"]


def _normalise(items: Sequence[Scored], method: Normalisation) -> tuple[dict[int, float], float]:
    """Return each id's normalised score and the score of a missing id (the list minimum).

    Min-max maps to [0, 1]; a list of equal scores maps to 1, so its documents still beat
    missing ones (0). Z-scores of a list of equal scores are all 0, like a missing id.
    """
    if method not in ("minmax", "zscore"):
        raise ValueError(f"unknown normalisation '{method}'; use 'minmax' or 'zscore'")
    scores = [score for _, score in items]
    if not scores:
        return {}, 0.0
    if method == "minmax":
        low, span = min(scores), max(scores) - min(scores)
        return {i: (s - low) / span if span > 0 else 1.0 for i, s in items}, 0.0
    mean = math.fsum(scores) / len(scores)
    std = math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / len(scores))
    values = {i: (s - mean) / std if std > 0 else 0.0 for i, s in items}
    return values, min(values.values())


def convex(
    dense: Sequence[Scored],
    lexical: Sequence[Scored],
    alpha: float,
    *,
    normalisation: Normalisation = "minmax",
) -> list[Scored]:
    """Fuse two lists as ``alpha * dense + (1 - alpha) * lexical`` after normalising each.

    Each list is normalised on its own (min-max to [0, 1], where equal scores map to 1; or
    z-score). A document missing from a list takes the list's minimum (0 under min-max).
    Equal fused scores are ordered by reciprocal-rank evidence, then by id.

    Args:
        dense: (id, score) from the dense index.
        lexical: (id, score) from the lexical index.
        alpha: Weight of the dense scores, in [0, 1].
        normalisation: ``"minmax"`` or ``"zscore"``.

    Returns:
        Fused (id, score) pairs, best first.

    Raises:
        ValueError: ``alpha`` is outside [0, 1], a score is not finite, or an id repeats.

    Example:
        >>> convex([(1, 0.9), (2, 0.5)], [(2, 7.0), (3, 1.0)], 0.75)
        [(1, 0.75), (2, 0.25), (3, 0.0)]
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], not {alpha}")
    lists = [_ranked(dense), _ranked(lexical)]
    (first, floor_1), (second, floor_2) = (_normalise(items, normalisation) for items in lists)
    fused = {
        i: alpha * first.get(i, floor_1) + (1.0 - alpha) * second.get(i, floor_2)
        for i in first.keys() | second.keys()
    }
    evidence = _reciprocal_ranks(lists)
    return sorted(fused.items(), key=lambda item: (-item[1], -evidence[item[0]], item[0]))


def _reciprocal_ranks(lists: Sequence[Sequence[Scored]]) -> dict[int, float]:
    """``rrf(lists, k=0)`` as a dict, for lists already ranked by :func:`_ranked`."""
    parts: dict[int, list[float]] = {}
    for ranking in lists:
        for rank, (item_id, _) in enumerate(ranking, start=1):
            parts.setdefault(item_id, []).append(1.0 / rank)
    return {item_id: math.fsum(values) for item_id, values in parts.items()}


def aggregate_passages(
    scored_passages: Sequence[Scored],
    passage_to_doc: Mapping[int, int],
    *,
    method: Literal["max", "max+decay"] = "max",
    decay: float = 0.1,
) -> list[Scored]:
    """Score documents from their passages: the best one, or with a bonus for more matches.

    ``"max+decay"`` gives ``s1 + decay * s2 + decay**2 * s3 + ...`` over a document's passage
    scores in decreasing order, where only positive scores add a bonus.

    Args:
        scored_passages: (passage id, score) pairs.
        passage_to_doc: Document id of each passage.
        method: ``"max"`` or ``"max+decay"``.
        decay: Geometric weight of the bonus (``"max+decay"`` only), in [0, 1).

    Returns:
        (document id, score) pairs, best first.

    Raises:
        ValueError: A passage has no document, or ``method``/``decay`` is invalid.

    Example:
        >>> aggregate_passages([(1, 0.8), (2, 0.6), (3, 0.7)], {1: 10, 2: 10, 3: 20},
        ...                    method="max+decay", decay=0.5)
        [(10, 1.1), (20, 0.7)]
    """
    if method not in ("max", "max+decay"):
        raise ValueError(f"unknown method '{method}'; use 'max' or 'max+decay'")
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), not {decay}")
    by_doc: dict[int, list[float]] = {}
    for passage_id, score in _ranked(scored_passages):
        if passage_id not in passage_to_doc:
            raise ValueError(f"passage {passage_id} has no document")
        by_doc.setdefault(passage_to_doc[passage_id], []).append(score)
    rate = decay if method == "max+decay" else 0.0
    return _sorted({doc: _decayed(scores, rate) for doc, scores in by_doc.items()})


def _decayed(scores: list[float], decay: float) -> float:
    """Return ``s1 + sum(decay**n * max(s_n+1, 0))`` over scores in decreasing order."""
    bonus = [max(s, 0.0) * decay**n for n, s in enumerate(scores[1:], 1)] if decay else []
    return math.fsum([scores[0], *bonus])


def fuse_documents(
    dense: Sequence[Scored],
    lexical: Sequence[Scored],
    passage_to_doc: Mapping[int, int],
    fuse: Callable[[list[Scored], list[Scored]], list[Scored]],
) -> list[tuple[int, int, float]]:
    """Fuse two passage lists at the document level.

    Each list first scores a document by its best passage there (the earliest listed among
    equals); ``fuse`` then combines the two document lists. A document that one list finds
    through one passage and the other through another gets both pieces of evidence, which
    fusing passages (each passage only its own) would split. Each document is shown with the
    passage of the list that ranked it higher (the lexical one on a tie: it holds the
    query's words).

    Args:
        dense: (passage id, score) from the dense index.
        lexical: (passage id, score) from the lexical index.
        passage_to_doc: Document of each passage.
        fuse: Combines two (document id, score) lists, e.g. :func:`convex` with its settings.

    Returns:
        (document id, passage id, fused score), in the order ``fuse`` returns.

    Raises:
        ValueError: A passage has no document, or a list repeats a passage.

    Example:
        >>> fuse_documents([(1, 0.9), (3, 0.8)], [(2, 5.0), (4, 4.0)], {1: 10, 2: 10, 3: 20,
        ...                4: 30}, lambda d, x: rrf([d, x], k=0))
        [(10, 2, 2.0), (20, 3, 0.5), (30, 4, 0.5)]
    """
    best: list[list[Scored]] = []
    shown: list[dict[int, int]] = []
    for items in (dense, lexical):
        docs: list[Scored] = []
        passage: dict[int, int] = {}
        for passage_id, score in _ranked(items):
            if passage_id not in passage_to_doc:
                raise ValueError(f"passage {passage_id} has no document")
            doc = passage_to_doc[passage_id]
            if doc not in passage:
                passage[doc] = passage_id
                docs.append((doc, score))
        best.append(docs)
        shown.append(passage)
    rank = [{doc: r for r, (doc, _) in enumerate(docs)} for docs in best]
    out = []
    for doc, score in fuse(best[0], best[1]):
        use = 1 if rank[1].get(doc, math.inf) <= rank[0].get(doc, math.inf) else 0
        out.append((doc, shown[use][doc], score))
    return out
