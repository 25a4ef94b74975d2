"""The cluster model's auto selection: eom unless it finds too few topics, then leaf."""

from __future__ import annotations

import numpy as np

from synth.topics.clustering import AdaptiveHDBSCAN, count_clusters, min_topics_for


def _two_sources_of_three_subjects() -> np.ndarray:  # type: ignore[type-arg]
    """Two far-apart groups, each made of three tight sub-clusters (like two corpora)."""
    rng = np.random.default_rng(0)
    centres = [(0, 0), (1.2, 0), (0.6, 1.0), (30, 30), (31.2, 30), (30.6, 31.0)]
    return np.vstack([rng.normal(c, 0.25, size=(60, 2)) for c in centres])


def test_eom_sees_two_sources_and_auto_falls_back_to_the_leaves() -> None:
    data = _two_sources_of_three_subjects()
    eom = AdaptiveHDBSCAN(20, None, "eom", min_topics=4).fit(data)
    auto = AdaptiveHDBSCAN(20, None, "auto", min_topics=4).fit(data)
    assert count_clusters(eom.labels_) == 2
    assert count_clusters(auto.labels_) >= 4 and auto.selection_used == "leaf"


def test_auto_keeps_eom_when_it_finds_enough() -> None:
    data = _two_sources_of_three_subjects()
    auto = AdaptiveHDBSCAN(20, None, "auto", min_topics=2).fit(data)
    assert auto.selection_used == "eom" and count_clusters(auto.labels_) == 2


def test_minimum_topics_rule() -> None:
    assert [min_topics_for(n) for n in (10, 545, 10_000, 90_000, 10**7)] == [3, 3, 10, 30, 50]
