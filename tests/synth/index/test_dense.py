from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from numpy.typing import NDArray

from synth.errors import ConfigError
from synth.index.dense import (
    DENSE_FLAT,
    DENSE_HNSW,
    INDEX_FILE,
    DenseIndex,
    HnswParams,
    build_dense_index,
)
from synth.index.manifest import IndexMismatchError

from .vectors import unit_vectors

KINDS = [DENSE_FLAT, DENSE_HNSW]


def brute_force(
    vectors: NDArray[np.float32], ids: NDArray[np.int64], query: NDArray[np.float32], k: int
) -> list[int]:
    scores = vectors @ query
    order = np.lexsort((ids, -scores))
    return [int(ids[i]) for i in order[:k]]


def make(kind: str, ids: NDArray[np.int64], vectors: NDArray[np.float32], **kw: int) -> DenseIndex:
    index = DenseIndex(vectors.shape[1], kind=kind, hnsw=HnswParams(m=16, ef_search=64), **kw)
    index.add(ids, vectors)
    return index


@pytest.mark.parametrize("make_params", ["flat", "hnsw"])
def test_faiss_idmap2_selector_filters_by_external_ids(
    make_params: str, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    """The premise of filtered search: IndexIDMap2 translates the selector to external ids."""
    if make_params == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        params = faiss.SearchParameters()
    else:
        index = faiss.IndexIDMap2(faiss.IndexHNSWFlat(vectors.shape[1], 16, 0))
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
    index.add_with_ids(vectors, ids)
    allowed = ids[100:400]
    selector = faiss.IDSelectorBatch(allowed)
    params.sel = selector
    _, labels = index.search(vectors[:1], 10, params=params)
    assert set(labels[0].tolist()) <= set(allowed.tolist())
    assert (labels[0] >= 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_search_matches_brute_force(
    kind: str, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(kind, ids, vectors)
    recalls = []
    for row in range(0, 3000, 150):
        hits = index.search(vectors[row], 10)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        expected = brute_force(vectors, ids, vectors[row], 10)
        recalls.append(len({i for i, _ in hits} & set(expected)) / 10)
        assert hits[0][0] == int(ids[row])
    assert np.mean(recalls) == 1.0 if kind == DENSE_FLAT else np.mean(recalls) >= 0.9


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit", [0, 4096])  # graph search under a filter, or exact scoring
def test_filter_applies_before_ranking(
    kind: str, limit: int, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(kind, ids, vectors, exact_filter_limit=limit)
    rng = np.random.default_rng(1)
    allowed = rng.choice(ids, 600, replace=False)
    query = vectors[5]  # its own id is most likely not allowed: the filter must not starve k
    hits = index.search(query, 20, allowed=allowed)
    assert len(hits) == 20
    assert {i for i, _ in hits} <= set(allowed.tolist())
    mask = np.isin(ids, allowed)
    expected = brute_force(vectors[mask], ids[mask], query, 20)
    overlap = len({i for i, _ in hits} & set(expected)) / 20
    assert overlap == 1.0 if (kind == DENSE_FLAT or limit) else overlap >= 0.8


@pytest.mark.parametrize("kind", KINDS)
def test_very_selective_filter_still_returns_every_allowed_passage(
    kind: str, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(kind, ids, vectors, exact_filter_limit=0)
    query = vectors[0]
    far = ids[np.argsort(vectors @ query)[:3]]  # the three least similar passages
    hits = index.search(query, 10, allowed=np.concatenate([far, [123]]))  # 123: unknown id
    assert sorted(i for i, _ in hits) == sorted(far.tolist())


def test_search_uses_one_faiss_thread_and_restores_the_setting(
    monkeypatch: pytest.MonkeyPatch, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(DENSE_FLAT, ids, vectors)
    before = faiss.omp_get_max_threads()
    calls: list[int] = []
    real = faiss.omp_set_num_threads

    def record(n: int) -> None:
        calls.append(n)
        real(n)

    monkeypatch.setattr(faiss, "omp_set_num_threads", record)
    index.search(vectors[0], 5)
    assert calls[0] == 1
    assert faiss.omp_get_max_threads() == before


def test_flat_remove_deletes(ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
    index = make(DENSE_FLAT, ids, vectors)
    assert index.remove(np.array([ids[0], ids[1], 42])) == 2
    assert len(index) == 2998 and index.tombstones == 0
    assert ids[0] not in {i for i, _ in index.search(vectors[0], 50)}
    index.add(ids[:1], vectors[:1])  # a removed id may come back in an exact index
    assert index.search(vectors[0], 1)[0][0] == ids[0]


def test_hnsw_remove_leaves_tombstones_until_compacted(
    ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(DENSE_HNSW, ids, vectors)
    gone = ids[:1000]
    assert index.remove(gone) == 1000
    assert index.remove(gone) == 0
    assert index.tombstones == 1000 and len(index) == 2000
    for row in (0, 10, 500):  # queries whose neighbourhoods are full of tombstones
        hits = index.search(vectors[row], 10)
        assert len(hits) == 10 and not {i for i, _ in hits} & set(gone.tolist())
    allowed = ids[900:1100]  # half removed: the filter must not bring tombstones back
    hits = index.search(vectors[950], 150, allowed=allowed)
    assert sorted(i for i, _ in hits) == sorted(ids[1000:1100].tolist())
    with pytest.raises(ValueError, match="already in the index"):
        index.add(ids[:1], vectors[:1])
    fresh = index.compacted()
    assert fresh.tombstones == 0 and len(fresh) == 2000
    assert np.array_equal(fresh.ids(), np.sort(ids[1000:]))
    assert fresh.search(vectors[2000], 1)[0][0] == ids[2000]


def test_add_validates_input(ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
    index = make(DENSE_FLAT, ids[:10], vectors[:10])
    with pytest.raises(ValueError, match="shape"):
        index.add(ids[10:12], vectors[10:11])
    with pytest.raises(ValueError, match="unit length"):
        index.add(ids[10:11], vectors[10:11] * 2)
    with pytest.raises(ValueError, match="already"):
        index.add(ids[:1], vectors[:1])
    with pytest.raises(ValueError, match="repeated"):
        index.add(np.array([5, 5]), vectors[10:12])
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.ones(3, dtype=np.float32), 1)
    assert index.search(vectors[0], 0) == []
    assert DenseIndex(4).search(np.full(4, 0.5, dtype=np.float32), 3) == []


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=f"{DENSE_FLAT}, {DENSE_HNSW}"):
        DenseIndex(4, kind="synth.index.dense.ivf.v1")


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_round_trip(
    kind: str, tmp_path: Path, ids: NDArray[np.int64], vectors: NDArray[np.float32]
) -> None:
    index = make(kind, ids, vectors)
    index.remove(ids[:5])
    index.save(tmp_path)
    assert (tmp_path / INDEX_FILE).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files
    loaded = DenseIndex.load(tmp_path)
    assert loaded.kind == kind and len(loaded) == len(index) == 2995
    assert loaded.tombstones == index.tombstones
    assert np.array_equal(loaded.ids(), index.ids())
    for row in (5, 77, 2999):
        assert loaded.search(vectors[row], 5) == index.search(vectors[row], 5)


def test_load_refuses_missing_or_foreign_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMismatchError, match="build the index"):
        DenseIndex.load(tmp_path)
    faiss.write_index(faiss.IndexFlatL2(4), str(tmp_path / INDEX_FILE))
    with pytest.raises(IndexMismatchError, match="not a synth dense index"):
        DenseIndex.load(tmp_path)


def test_build_picks_hnsw_above_the_threshold() -> None:
    data = unit_vectors(300, 16, seed=3)
    keys = np.arange(300, dtype=np.int64)
    assert build_dense_index(keys, data, hnsw_threshold=301).kind == DENSE_FLAT
    index = build_dense_index(keys, data, hnsw_threshold=300, m=8, ef_search=40)
    assert index.kind == DENSE_HNSW
    assert index.search(data[7], 1)[0][0] == 7
