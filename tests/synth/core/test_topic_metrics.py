"""NPMI, diversity and label agreement: hand-worked cases and a cross-check against gensim."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.core.topic_metrics import (
    build_reference,
    compute_diversity,
    compute_label_agreement,
    compute_npmi,
    compute_topic_npmi,
)

# Four one-window documents: a and b always together, c and d together once, a and d never.
TEXTS = [["a", "b", "c"], ["a", "b"], ["c", "d"], ["d"]]


def test_npmi_hand_worked() -> None:
    ref = build_reference(TEXTS)
    assert ref.window_count == 4
    # p(a) = p(b) = p(a,b) = 1/2: log(0.5 / 0.25) / -log(0.5) = 1
    # p(c) = p(d) = 1/2, p(c,d) = 1/4: log(0.25 / 0.25) / -log(0.25) = 0
    # p(a,d) = 0: log(1e-12 / 0.25) / -log(1e-12) = -1 + log(4) / log(1e12)
    never = -1 + math.log(4) / math.log(1e12)
    scores = compute_topic_npmi([["a", "b"], ["c", "d"], ["a", "d"]], ref)
    assert scores == pytest.approx([1.0, 0.0, never], abs=1e-9)
    assert compute_npmi([["a", "b"], ["c", "d"]], ref) == pytest.approx(0.5, abs=1e-9)


def test_npmi_three_words_is_mean_of_pairs() -> None:
    ref = build_reference(TEXTS)
    pairs = [compute_npmi([[x, y]], ref) for x, y in (("a", "b"), ("a", "c"), ("b", "c"))]
    assert compute_npmi([["a", "b", "c"]], ref) == pytest.approx(sum(pairs) / 3, abs=1e-12)


def test_sliding_windows_count_like_gensim() -> None:
    # Windows of 3 over "a a b c": [a a b], [a b c]. gensim drops "a" from its window set when
    # the first "a" leaves, although the second is still in view: "a" counts in 1 window of 2.
    ref = build_reference([["a", "a", "b", "c"]], window_size=3)
    assert ref.window_count == 2
    column = ref.windows[:, ref.vocabulary["a"]]
    assert column.nnz == 1
    assert ref.windows[:, ref.vocabulary["b"]].nnz == 2


def test_short_and_empty_documents_are_one_window_each() -> None:
    ref = build_reference([[], ["x"], ["x", "y"] * 8], window_size=10)
    assert ref.window_count == 1 + 1 + 7


def test_unknown_words_are_dropped_and_topn_applies() -> None:
    ref = build_reference(TEXTS)
    assert compute_npmi([["a", "zzz", "b"]], ref) == pytest.approx(1.0)
    assert compute_npmi([["a", "b", "c", "d"]], ref, top_n=2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 words"):
        compute_npmi([["a", "zzz"]], ref)


def test_diversity_hand_worked() -> None:
    assert compute_diversity([["a", "b", "c"], ["a", "d", "e"]], top_n=3) == pytest.approx(5 / 6)
    assert compute_diversity([["a", "b", "c", "z"], ["a", "b", "c"]], top_n=3) == 0.5
    with pytest.raises(ValueError):
        compute_diversity([])


def test_label_agreement() -> None:
    assert compute_label_agreement([3, 3, 7, 7, -1], ["x", "x", "y", "y", "z"]) == (1.0, 1.0)
    nmi, ari = compute_label_agreement([0, 1, 0, 1], ["x", "x", "y", "y"])
    assert nmi == pytest.approx(0.0) and ari < 0.0
    with pytest.raises(ValueError):
        compute_label_agreement([0], ["x", "y"])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=30), min_size=1, max_size=12).filter(
        lambda texts: len({w for t in texts for w in t}) >= 3
    ),
    st.integers(min_value=1, max_value=12),
)
def test_npmi_in_range(texts: list[list[str]], window: int) -> None:
    ref = build_reference(texts, window_size=window)
    words = sorted(ref.vocabulary)
    for score in compute_topic_npmi([words[:3], words[-3:]], ref):
        assert -1.0 - 1e-9 <= score <= 1.0 + 1e-9


def _random_corpus(seed: int) -> tuple[list[list[str]], list[list[str]]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    texts = [
        [rng.choice(words[: rng.randint(4, 40)]) for _ in range(rng.randint(0, 45))]
        for _ in range(200)
    ]
    topics = [rng.sample(words, 10) for _ in range(8)]
    return texts, topics


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_gensim_c_npmi(seed: int) -> None:
    gensim = pytest.importorskip("gensim")
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    texts, topics = _random_corpus(seed)
    dictionary = Dictionary(texts)
    topics = [[w for w in t if w in dictionary.token2id] for t in topics]
    expected = CoherenceModel(
        topics=topics, texts=texts, dictionary=dictionary, coherence="c_npmi", topn=10
    ).get_coherence_per_topic()
    ours = compute_topic_npmi(topics, build_reference(texts))
    assert gensim.__version__
    assert ours == pytest.approx(expected, abs=1e-9)
