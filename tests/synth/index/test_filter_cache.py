"""Remembered filters give the same answers as computing them afresh (randomised cases)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import faiss
import numpy as np
import pytest
from numpy.typing import NDArray

from synth.index import dense as dense_module
from synth.index.dense import DENSE_FLAT, DENSE_HNSW, DenseIndex, HnswParams
from synth.index.lexical import LexicalIndex
from synth.search.passage_table import PassageFilter, PassageRow, PassageTable

from .vectors import unit_vectors


def _frozen(values: NDArray[np.int64]) -> NDArray[np.int64]:
    out = np.sort(values)
    out.setflags(write=False)
    return out


@pytest.mark.parametrize("kind", [DENSE_FLAT, DENSE_HNSW])
@pytest.mark.parametrize("limit", [0, 4096])  # graph search under a filter, or exact scoring
def test_dense_bitmap_selector_and_cache_match_the_hash_set_selector(
    kind: str,
    limit: int,
    ids: NDArray[np.int64],
    vectors: NDArray[np.float32],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = DenseIndex(32, kind=kind, hnsw=HnswParams(m=16, ef_search=64), exact_filter_limit=limit)
    index.add(ids, vectors)
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(12):
        allowed = _frozen(rng.choice(ids, int(rng.integers(1, 2500)), replace=False))
        cases.append((allowed, vectors[int(rng.integers(0, ids.size))], int(rng.integers(1, 40))))
    new = [index.search(q, k, allowed=allowed) for allowed, q, k in cases]
    again = [index.search(q, k, allowed=allowed) for allowed, q, k in cases]  # remembered
    # The code before: a fresh hash-set selector (IDSelectorBatch) for every search.
    monkeypatch.setattr(
        dense_module._Pool, "selector", lambda self: faiss.IDSelectorBatch(self.ids)
    )
    old = [index.search(q, k, allowed=allowed.copy()) for allowed, q, k in cases]
    assert new == again == old
    assert all(
        len(hits) == min(k, allowed.size) for hits, (allowed, _, k) in zip(new, cases, strict=True)
    )


@pytest.mark.parametrize("kind", [DENSE_FLAT, DENSE_HNSW])
def test_dense_remembered_filter_follows_adds_and_removals(kind: str) -> None:
    vectors = unit_vectors(400, 16, seed=3)
    index = DenseIndex(16, kind=kind, exact_filter_limit=0)
    index.add(np.arange(1, 301, dtype=np.int64), vectors[:300])
    allowed = _frozen(np.arange(250, 401, dtype=np.int64))  # 101 of them not indexed yet
    assert {i for i, _ in index.search(vectors[0], 200, allowed=allowed)} == set(range(250, 301))
    index.add(np.arange(301, 401, dtype=np.int64), vectors[300:])
    assert {i for i, _ in index.search(vectors[0], 200, allowed=allowed)} == set(range(250, 401))
    index.remove(np.arange(250, 260, dtype=np.int64))
    assert {i for i, _ in index.search(vectors[0], 200, allowed=allowed)} == set(range(260, 401))


def test_dense_sparse_ids_use_the_hash_set_selector() -> None:
    pool = dense_module._Pool(np.array([5, 10**12], dtype=np.int64))
    assert isinstance(pool.selector(), faiss.IDSelectorBatch)
    pool = dense_module._Pool(np.array([5, 9, 4000], dtype=np.int64))
    selector = pool.selector()
    assert [selector.is_member(i) for i in (4, 5, 9, 10, 4000, 4001)] == [0, 1, 1, 0, 1, 0]


def test_lexical_remembered_mask_matches_a_fresh_one() -> None:
    rng = random.Random(5)
    words = [
        "falls",
        "ward",
        "huddle",
        "night",
        "shift",
        "discharge",
        "sepsis",
        "audit",
        "nurse",
        "pharmacy",
        "bed",
        "alarm",
    ]
    texts = [" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(300)]
    ids = list(range(1000, 1300))
    index = LexicalIndex().build(ids, texts)
    for _ in range(20):
        allowed = _frozen(np.array(rng.sample(ids, rng.randint(1, 300)), dtype=np.int64))
        query = " ".join(rng.sample(words, 2))
        fresh = index.search(query, 25, allowed=allowed.tolist())
        assert index.search(query, 25, allowed=allowed) == fresh
        assert index.search(query, 25, allowed=allowed) == fresh
    allowed = _frozen(np.array([1000, 5000], dtype=np.int64))
    assert [i for i, _ in index.search("falls ward huddle", 5, allowed=allowed)] in ([], [1000])
    later = index.updated([5000], ["falls ward huddle"], removed=[])
    assert 5000 in {i for i, _ in later.search("falls ward huddle", 5, allowed=allowed)}


def test_table_remembers_allowed_ids_per_filter() -> None:
    rng = random.Random(11)
    rows = [
        PassageRow(
            passage_id=pid,
            entry_id=pid // 3,
            network_id=rng.randint(1, 4),
            organisation_id=rng.randint(1, 9),
            project_id=rng.choice([None, 1, 2]),
            kind=rng.choice(["story", "pdsa"]),
            visibility=rng.choice(["public", "network", "private"]),
            occurred_on=rng.choice(
                [None, dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 900))]
            ),
        )
        for pid in rng.sample(range(1, 5000), 800)
    ]
    table = PassageTable(rows)
    for _ in range(40):
        flt = PassageFilter(
            networks=frozenset(rng.sample(range(1, 5), 2)) if rng.random() < 0.3 else None,
            exclude_organisations=frozenset({rng.randint(1, 9)})
            if rng.random() < 0.3
            else frozenset(),
            visibilities=frozenset({"public"}),
            visibility_networks=frozenset({rng.randint(1, 4)}),
            visibility_organisations=frozenset({rng.randint(1, 9)})
            if rng.random() < 0.5
            else frozenset(),
        )
        allowed = table.allowed_ids(flt)
        assert allowed is not None and not allowed.flags.writeable
        assert np.array_equal(allowed, table.ids[table.mask(flt)])
        assert table.allowed_ids(replace(flt)) is allowed
    assert table.allowed_ids(PassageFilter()) is None
    assert len(table._allowed) <= 8
    later = table.updated([], [int(table.ids[0])])
    flt = PassageFilter(visibilities=frozenset({"public", "network", "private"}))
    assert int(table.ids[0]) not in later.allowed_ids(flt).tolist()
