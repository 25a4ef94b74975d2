from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import pytest

from synth.errors import ConfigError
from synth.index.lexical import (
    TOKENIZERS,
    Bm25Params,
    EnglishTokenizer,
    LexicalIndex,
    build_tokenizer,
)
from synth.index.manifest import IndexMismatchError

TEXTS = [
    "Falls on the ward fell after daily safety huddles.",
    "Medicines reconciliation at discharge reduced errors.",
    "Huddles helped the night team; falls were discussed.",
    "Staff wellbeing improved with protected breaks.",
    "Falls falls falls: a long note about falls prevention on wards and beds and alarms.",
]
IDS = [10, 20, 30, 40, 50]


def test_tokenizers_lowercase_drop_stop_words_and_stem() -> None:
    plain = build_tokenizer("synth.tokenizer.en.v1")
    stem = build_tokenizer("synth.tokenizer.en.snowball.v1")
    assert plain.tokenize(["The Nurses ran a Huddle, x 2 times"]) == [
        ["nurses", "ran", "huddle", "times"]
    ]
    assert stem.tokenize(["The Nurses ran a Huddle"]) == [["nurs", "ran", "huddl"]]
    assert EnglishTokenizer("t", stem=False, stop_words=()).tokenize(["The ward"]) == [
        ["the", "ward"]
    ]


def test_unknown_tokenizer_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match=", ".join(sorted(TOKENIZERS))):
        build_tokenizer("synth.tokenizer.fr.v1")


def test_bm25_score_matches_the_lucene_formula() -> None:
    k1, b = 1.2, 0.75
    docs = ["ward falls", "ward ward huddles beds", "staff"]
    index = LexicalIndex("synth.tokenizer.en.v1", Bm25Params(k1=k1, b=b)).build([1, 2, 3], docs)
    lengths = [2, 4, 1]
    avg = sum(lengths) / 3
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # "ward" is in 2 of 3 documents

    def bm25(tf: int, length: int) -> float:
        # Lucene 8+ (and bm25s "lucene") drop the constant (k1 + 1) factor of the textbook form.
        return idf * tf / (tf + k1 * (1 - b + b * length / avg))

    hits = dict(index.search("ward", 10))
    assert hits == pytest.approx({1: bm25(1, 2), 2: bm25(2, 4)}, rel=1e-5)


def test_search_ranks_matching_passages_only() -> None:
    index = LexicalIndex().build(IDS, TEXTS)
    hits = index.search("falls huddles", 10)
    assert {i for i, _ in hits} == {10, 30, 50}
    assert all(s > 0 for _, s in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert index.search("the and of", 5) == []  # stop words only
    assert index.search("zebra", 5) == []
    assert len(index.search("falls", 1)) == 1


@pytest.mark.parametrize("kind", [set, frozenset, list, np.array])
def test_filter_applies_before_ranking(kind: Callable[[list[int]], Collection[int]]) -> None:
    index = LexicalIndex().build(IDS, TEXTS)
    allowed_ids = [20, 30, 40]
    assert index.search("falls", 1)[0][0] not in allowed_ids
    allowed = kind(allowed_ids)
    hits = index.search("falls", 1, allowed=allowed)
    assert [i for i, _ in hits] == [30]  # the one allowed passage about falls
    assert index.search("falls", 5, allowed=allowed) == hits
    assert index.search("falls", 2, allowed=kind([])) == []


def test_build_replaces_content_and_validates() -> None:
    index = LexicalIndex().build(IDS, TEXTS)
    index.build([7], ["discharge letters"])
    assert len(index) == 1 and index.search("falls", 5) == []
    assert index.search("discharge", 5)[0][0] == 7
    with pytest.raises(ValueError, match="2 ids for 1 texts"):
        index.build([1, 2], ["a"])
    with pytest.raises(ValueError, match="repeat"):
        index.build([1, 1], ["a", "b"])
    assert LexicalIndex().build([], []).search("falls", 3) == []


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = LexicalIndex("synth.tokenizer.en.v1", Bm25Params(k1=1.1, b=0.6)).build(IDS, TEXTS)
    index.save(tmp_path)
    first = sorted(p.name for p in tmp_path.glob("bm25-*"))
    index.save(tmp_path)  # a second save swaps in a new folder and removes the old one
    second = sorted(p.name for p in tmp_path.glob("bm25-*"))
    assert len(first) == len(second) == 1 and first != second
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.tokenizer.name == "synth.tokenizer.en.v1"
    assert loaded.params == Bm25Params(k1=1.1, b=0.6)
    assert np.array_equal(loaded.ids(), np.array(IDS))
    for query in ("falls", "huddles night", "discharge errors"):
        before, after = index.search(query, 3), loaded.search(query, 3)
        assert [i for i, _ in after] == [i for i, _ in before]
        assert [s for _, s in after] == pytest.approx([s for _, s in before])


def test_load_refuses_missing_or_foreign_folder(tmp_path: Path) -> None:
    with pytest.raises(IndexMismatchError, match="unreadable"):
        LexicalIndex.load(tmp_path)
    LexicalIndex().build(IDS, TEXTS).save(tmp_path)
    pointer = tmp_path / "lexical.json"
    data = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({**data, "tokenizer": "synth.tokenizer.xx.v9"}))
    with pytest.raises(IndexMismatchError, match="unknown tokenizer"):
        LexicalIndex.load(tmp_path)


def test_empty_index_saves_and_loads(tmp_path: Path) -> None:
    LexicalIndex().build([], []).save(tmp_path)
    assert LexicalIndex.load(tmp_path).search("falls", 3) == []


def _corpus(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [
        "falls", "ward", "huddles", "night", "staff", "medicines", "discharge", "errors",
        "beds", "alarms", "safety", "team", "patients", "families", "handover", "checklist",
    ]  # fmt: skip
    return [
        " ".join(rng.choice(words, size=int(rng.integers(1, 30))).tolist()) for _ in range(count)
    ]


QUERIES = ["falls", "night huddles", "discharge errors medicines", "ward ward beds", "zebra"]


def _same_results(got: LexicalIndex, want: LexicalIndex) -> None:
    assert sorted(got.ids().tolist()) == sorted(want.ids().tolist())
    for query in QUERIES:
        a, b = dict(got.search(query, 1000)), dict(want.search(query, 1000))
        assert a.keys() == b.keys(), query
        assert [a[i] for i in sorted(a)] == pytest.approx([b[i] for i in sorted(b)], rel=1e-6)


def test_updated_scores_exactly_like_a_full_build(tmp_path: Path) -> None:
    texts = _corpus(400, seed=1)
    ids = np.arange(1, 401) * 10
    first = LexicalIndex().build(ids[:300], texts[:300])
    removed = ids[[0, 5, 17, 250, 299]]
    added = ["a new note about tea rounds on the ward", *texts[300:]]
    later = first.updated([4001, *ids[300:]], added, removed=removed)
    keep = ~np.isin(ids[:300], removed)
    full = LexicalIndex().build(
        [*ids[:300][keep], 4001, *ids[300:]],
        [t for t, k in zip(texts[:300], keep, strict=True) if k] + added,
    )
    _same_results(later, full)
    assert later.search("tea rounds", 5)[0][0] == 4001  # a term new to the index
    later.save(tmp_path)
    _same_results(LexicalIndex.load(tmp_path), full)
    # The first index is untouched: readers holding it see what they saw.
    _same_results(first, LexicalIndex().build(ids[:300], texts[:300]))


def test_updated_removes_everything_and_starts_again() -> None:
    index = LexicalIndex().build(IDS, TEXTS)
    empty = index.updated([], [], removed=IDS)
    assert len(empty) == 0 and empty.search("falls", 5) == []
    again = empty.updated([7], ["discharge letters"])
    _same_results(again, LexicalIndex().build([7], ["discharge letters"]))
    loaded_empty = LexicalIndex().build([], [])
    _same_results(loaded_empty.updated(IDS, TEXTS), LexicalIndex().build(IDS, TEXTS))


def test_updated_refuses_an_id_already_indexed() -> None:
    index = LexicalIndex().build(IDS, TEXTS)
    with pytest.raises(ValueError, match="already in the index"):
        index.updated([20], ["falls tea"])
    replaced = index.updated([20], ["falls tea"], removed=[20])
    assert dict(replaced.search("tea", 5)).keys() == {20}


def test_load_refuses_the_older_layout(tmp_path: Path) -> None:
    LexicalIndex().build(IDS, TEXTS).save(tmp_path)
    pointer = tmp_path / "lexical.json"
    data = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({k: v for k, v in data.items() if k != "format"}))
    with pytest.raises(IndexMismatchError, match="older layout"):
        LexicalIndex.load(tmp_path)
