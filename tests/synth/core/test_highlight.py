"""Highlights: the remembered-stem implementation against the straightforward one."""

from __future__ import annotations

import random

from synth.core import highlight
from synth.core.highlight import (
    _STEMMER,
    _WORD,
    STOP_WORDS,
    _query_stems,
    compute_highlights,
    compute_shared_phrases,
)


def _reference(query: str, passage: str) -> list[tuple[int, int]]:
    """The implementation before the stem memo: stem every word of the passage each time."""
    wanted = _query_stems(query)
    if not wanted:
        return []
    matches = list(_WORD.finditer(passage))
    words = [match.group().lower() for match in matches]
    spans: list[tuple[int, int]] = []
    for match, word, stem in zip(matches, words, _STEMMER.stemWords(words), strict=True):
        if stem not in wanted or word in STOP_WORDS:
            continue
        start, end = match.span()
        if spans and passage[spans[-1][1] : start].strip(" -") == "":
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


_WORDS = [
    "huddle",
    "huddles",
    "Huddled",
    "night",
    "NIGHTS",
    "shift",
    "shifts",
    "the",
    "and",
    "of",
    "for",
    "falls",
    "fall",
    "falling",
    "ward",
    "wards",
    "nurse",
    "nurses'",
    "nurse's",
    "discharge",
    "discharged",
    "sepsis",
    "audit",
    "audits",
    "it's",
    "don't",
    "well-being",
    "well",
    "being",
    "co-ordinated",
    "Café",
    "café",
    "naïve",
    "über",
    "STRASSE",
    "straße",
    "2024",
    "covid-19",
    "running",
    "runs",
    "ran",
    "generously",
    "generous",
    "generalise",
    "x",
    "y",
    "a",
    "an",
    "İstanbul",
    "İ",
    "dying",
    "die",
    "lying",
    "lies",
    "tying",
    "tie",
    "skies",
    "sky",
    "flying",
    "fly",
    "cries",
    "hoping",
    "hope",
    "x-ray",
    "x",
    "_under",
    "don’t",
    "o'clock",
    "in",
    "inning",
    "innings",
]
_GLUE = [" ", " ", " ", " - ", "-", ", ", ". ", "; ", "\n", " (", ") ", "’", "'", "_", "  "]


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_WORDS) + rng.choice(_GLUE) for _ in range(n)).strip()


def test_highlights_match_the_reference_on_random_texts() -> None:
    rng = random.Random(3)
    for round_ in range(2):  # cold memo, then warm
        if round_ == 0:
            highlight._STEMS.clear()
            highlight._highlights.cache_clear()
        for _ in range(1500):
            query, passage = _text(rng, rng.randint(0, 6)), _text(rng, rng.randint(0, 60))
            assert compute_highlights(query, passage) == _reference(query, passage)
            phrases = compute_shared_phrases(query, passage)
            assert len(phrases) == len(set(phrases)) <= 5


def test_a_full_stem_memo_still_stems_new_words() -> None:
    highlight._highlights.cache_clear()
    limit = highlight._STEMS_LIMIT
    try:
        highlight._STEMS_LIMIT = len(highlight._STEMS)  # full: nothing more is remembered
        text = "Zorblings zorbled the quixotically zorbling wards."
        assert compute_highlights("zorble quixotic", text) == _reference("zorble quixotic", text)
        assert "zorblings" not in highlight._STEMS
    finally:
        highlight._STEMS_LIMIT = limit
