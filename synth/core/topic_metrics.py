"""Topic model quality the OCTIS way: NPMI coherence, topic diversity, and label agreement.

NPMI follows gensim's ``CoherenceModel(coherence="c_npmi")`` as OCTIS calls it (the texts as
reference, the top 10 words of each topic, gensim's default window of 10 tokens):

* every document is cut into sliding windows of ``window_size`` tokens (a shorter document
  is one window; an empty one still counts as a window);
* a word's probability is the share of windows it occurs in, a pair's the share it co-occurs in;
* for each ordered pair of a topic's words ``NPMI = log((p(a,b) + ε) / (p(a) p(b))) /
  -log(p(a,b) + ε)`` with ε = 1e-12; a topic's coherence is the mean over its pairs and the
  model's the mean over topics.

Window membership is counted as gensim counts it: gensim slides a set of the words in view and
drops the word that leaves the window even when another occurrence of it is still in view,
so a word is "in" a window from an occurrence's arrival until the next time any occurrence of
it leaves. Reproducing that (rather than exact membership) is what makes the figures
comparable with published ones; ``tests/synth/core/test_topic_metrics.py`` checks the result
against gensim itself. Words a reference does not know are dropped from a topic, as gensim does.

Diversity is OCTIS's ``TopicDiversity``: distinct words among all topics' top ``top_n`` words
divided by ``top_n`` × the number of topics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = [
    "EPSILON",
    "ReferenceCorpus",
    "build_reference",
    "compute_diversity",
    "compute_label_agreement",
    "compute_npmi",
    "compute_topic_npmi",
]

#: gensim's smoothing constant in the log ratio.
EPSILON = 1e-12


@dataclass(frozen=True, slots=True)
class ReferenceCorpus:
    """Window occurrence of every word of a tokenised reference corpus."""

    vocabulary: dict[str, int] = field(repr=False)
    windows: sparse.csc_matrix = field(repr=False)
    window_count: int
    window_size: int

    def knows(self, word: str) -> bool:
        """Whether ``word`` occurs in the reference."""
        return word in self.vocabulary


def build_reference(texts: Sequence[Sequence[str]], *, window_size: int = 10) -> ReferenceCorpus:
    """Index ``texts`` (token lists) for NPMI: which windows each word occurs in.

    Args:
        texts: The reference documents, already tokenised.
        window_size: Tokens per sliding window (gensim's default for ``c_npmi`` is 10).

    Returns:
        A reference corpus to score any number of topic sets against.

    Example:
        >>> ref = build_reference([["a", "b"], ["b", "c"]], window_size=10)
        >>> ref.window_count
        2
    """
    if window_size < 1:
        raise ValueError("window_size must be at least 1")
    vocabulary: dict[str, int] = {}
    doc_of, pos_of, word_of = [], [], []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for d, tokens in enumerate(texts):
        lengths[d] = len(tokens)
        for p, token in enumerate(tokens):
            word_of.append(vocabulary.setdefault(token, len(vocabulary)))
            doc_of.append(d)
            pos_of.append(p)
    per_doc = np.maximum(lengths - window_size + 1, 1)
    offsets = np.concatenate([[0], np.cumsum(per_doc)])
    rows, cols = _window_memberships(
        np.asarray(doc_of, dtype=np.int64),
        np.asarray(pos_of, dtype=np.int64),
        np.asarray(word_of, dtype=np.int64),
        per_doc,
        window_size,
    )
    total = int(offsets[-1])
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (offsets[:-1][cols[0]] + rows, cols[1])),
        shape=(total, len(vocabulary)),
    )
    matrix.data[:] = 1.0  # duplicates were summed: membership is boolean
    return ReferenceCorpus(
        vocabulary=vocabulary,
        windows=matrix.tocsc(),
        window_count=total,
        window_size=window_size,
    )


def _window_memberships(
    doc: NDArray[np.int64],
    pos: NDArray[np.int64],
    word: NDArray[np.int64],
    per_doc: NDArray[np.int64],
    window_size: int,
) -> tuple[NDArray[np.int64], tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Return (window within its document, (document, word)) for every membership.

    An occurrence at position p arrives in window max(p - w + 1, 0); the word leaves at
    window q + 1 for the first occurrence q of it with q > p - w (gensim's set update), and
    at the latest after the document's last window.
    """
    if len(doc) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, (empty, empty)
    order = np.lexsort((pos, word, doc))
    doc, pos, word = doc[order], pos[order], word[order]
    group = np.concatenate([[0], np.cumsum((np.diff(doc) != 0) | (np.diff(word) != 0))])
    span = int(pos.max()) + window_size + 2
    keys = group * span + pos
    first = np.searchsorted(keys, group * span + (pos - window_size + 1), side="left")
    start = np.maximum(pos - window_size + 1, 0)
    stop = np.minimum(pos[first] + 1, per_doc[doc])
    lengths = np.maximum(stop - start, 0)
    repeat = np.repeat(np.arange(len(doc)), lengths)
    steps = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return start[repeat] + steps, (doc[repeat], word[repeat])


def _topic_ids(
    topics: Sequence[Sequence[str]], reference: ReferenceCorpus, top_n: int
) -> list[list[int]]:
    ids = []
    for topic in topics:
        known = [reference.vocabulary[w] for w in topic if w in reference.vocabulary][:top_n]
        if len(known) < 2:
            raise ValueError(f"a topic needs 2 words the reference knows; got {list(topic)}")
        ids.append(known)
    return ids


def compute_topic_npmi(
    topics: Sequence[Sequence[str]], reference: ReferenceCorpus, *, top_n: int = 10
) -> list[float]:
    """Return each topic's NPMI coherence (mean over ordered pairs of its top words).

    Raises:
        ValueError: A topic has fewer than two words the reference knows.

    Example:
        >>> ref = build_reference([["a", "b"], ["a", "b"], ["c"]])
        >>> round(compute_topic_npmi([["a", "b"]], ref)[0], 6)
        1.0
    """
    ids = _topic_ids(topics, reference, top_n)
    relevant = sorted({i for topic in ids for i in topic})
    column = {word: k for k, word in enumerate(relevant)}
    sub = reference.windows[:, relevant]
    co = np.asarray((sub.T @ sub).todense(), dtype=np.float64)
    n = float(reference.window_count)
    prob = np.diag(co) / n
    scores = []
    for topic in ids:
        local = [column[w] for w in topic]
        values = []
        for a, i in enumerate(local):
            for b, j in enumerate(local):
                if a == b:
                    continue
                joint = co[i, j] / n
                ratio = math.log((joint + EPSILON) / (prob[i] * prob[j]))
                values.append(ratio / -math.log(joint + EPSILON))
        scores.append(math.fsum(values) / len(values))
    return scores


def compute_npmi(
    topics: Sequence[Sequence[str]], reference: ReferenceCorpus, *, top_n: int = 10
) -> float:
    """Return the mean NPMI coherence of ``topics`` against ``reference`` (gensim ``c_npmi``).

    Example:
        >>> ref = build_reference([["a", "b"], ["a", "b"], ["c", "d"], ["c", "d"]])
        >>> round(compute_npmi([["a", "b"], ["c", "d"]], ref), 6)
        1.0
    """
    if not topics:
        raise ValueError("no topics to score")
    scores = compute_topic_npmi(topics, reference, top_n=top_n)
    return math.fsum(scores) / len(scores)


def compute_diversity(topics: Sequence[Sequence[str]], *, top_n: int = 10) -> float:
    """Share of distinct words among all topics' top ``top_n`` words (OCTIS TopicDiversity).

    Example:
        >>> compute_diversity([["a", "b"], ["b", "c"]], top_n=2)
        0.75
    """
    if not topics:
        raise ValueError("no topics to score")
    unique = {word for topic in topics for word in topic[:top_n]}
    return len(unique) / (top_n * len(topics))


def compute_label_agreement(
    predicted: Sequence[int] | NDArray[np.int64], gold: Sequence[str] | Sequence[int]
) -> tuple[float, float]:
    """Return (NMI, ARI) of a document clustering against gold labels (scikit-learn's).

    Every predicted label is a cluster, the outlier label -1 included.

    Example:
        >>> compute_label_agreement([0, 0, 1, 1], ["x", "x", "y", "y"])
        (1.0, 1.0)
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    if len(predicted) != len(gold):
        raise ValueError("predicted and gold labels must be aligned")
    nmi = float(normalized_mutual_info_score(list(gold), list(predicted)))
    ari = float(adjusted_rand_score(list(gold), list(predicted)))
    return nmi, ari
