"""FREX topic words: frequency and exclusivity by document incidence."""

from __future__ import annotations

import numpy as np
import pytest

from synth.core.topic_words import compute_frex_words

# Words: 0 "the" (everywhere), 1 "goal" (topic 0 only), 2 "vote" (topic 1 only),
# 3 "match" (topic 0, one document), 4 "poll" (two topic-1 documents, one topic-0 document).
INCIDENCE = np.array(
    [
        [1, 1, 0, 1, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 0, 0, 1],
        [1, 0, 1, 0, 1],
        [1, 0, 1, 0, 1],
        [1, 0, 1, 0, 0],
    ]
)
TOPICS = np.array([0, 0, 0, 1, 1, 1])


def test_exclusive_frequent_words_first() -> None:
    words = compute_frex_words(INCIDENCE, TOPICS, [0, 1], top_n=2)
    assert words[0][0] == 1 and words[1][0] == 2


def test_weight_zero_ranks_by_frequency_only() -> None:
    words = compute_frex_words(INCIDENCE, TOPICS, [0, 1], exclusivity_weight=0.0, top_n=2)
    # "the" and "goal" each occur in all three topic-0 documents.
    assert set(words[0]) == {0, 1}


def test_outliers_and_other_topics_are_ignored() -> None:
    topics = np.array([0, 0, 0, 1, 1, -1])
    # Only rows 3 and 4 count: "the", "vote" and "poll" are equally frequent there; the two
    # words exclusive to the topic come first.
    assert sorted(compute_frex_words(INCIDENCE, topics, [1], top_n=2)[0]) == [2, 4]
    with pytest.raises(ValueError):
        compute_frex_words(INCIDENCE, TOPICS, [0], exclusivity_weight=1.5)
