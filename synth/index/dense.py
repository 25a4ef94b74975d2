"""Nearest-passage search over unit vectors with FAISS: exact below a size threshold, HNSW above.

Inner product of unit vectors is cosine. A ``faiss.IndexIDMap2`` holds the passage ids (int64):
it translates id filters to them and reconstructs vectors. A single query runs on one OpenMP
thread: on our 2-core machines two threads made a 100k exact search slower (14.1 against
7.9 ms p50, STACK.md). The setting is process-wide, so it is set around each call and
restored; calls on one index are serialised by its lock.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from synth.errors import ConfigError
from synth.index.manifest import IndexMismatchError, write_atomically

__all__ = [
    "DENSE_FLAT",
    "DENSE_HNSW",
    "DENSE_INDEX_KINDS",
    "INDEX_FILE",
    "TOMBSTONE_FILE",
    "DenseIndex",
    "HnswParams",
    "build_dense_index",
]

logger = logging.getLogger(__name__)

#: Exact inner-product search (``IndexFlatIP``): supports removal.
DENSE_FLAT = "synth.index.dense.flat.v1"
#: Approximate search on an HNSW graph (``IndexHNSWFlat``): removal leaves tombstones.
DENSE_HNSW = "synth.index.dense.hnsw.v1"
INDEX_FILE = "index.faiss"
TOMBSTONE_FILE = "tombstones.npy"
_EXACT_BLOCK = 1024  # rows per product: large ones met BLAS thread contention here
_BUSY_BATCH = 4096  # vectors added to a graph per single-thread step while another task runs


@dataclass(frozen=True, slots=True)
class HnswParams:
    """HNSW graph settings: neighbours per node, candidate list sizes to build and to search."""

    m: int = 32
    ef_construction: int = 40
    ef_search: int = 128


def _hnsw(dim: int, params: HnswParams) -> Any:
    index = faiss.IndexHNSWFlat(dim, params.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = params.ef_construction
    index.hnsw.efSearch = params.ef_search
    return index


#: FAISS base index factories by versioned kind name.
DENSE_INDEX_KINDS: dict[str, Callable[[int, HnswParams], Any]] = {
    DENSE_FLAT: lambda dim, _: faiss.IndexFlatIP(dim),
    DENSE_HNSW: _hnsw,
}


@contextmanager
def _omp_threads(count: int) -> Iterator[None]:
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


_POOL_CACHE_SIZE = 8  # filters whose live subset and selector an index remembers


class _Pool:
    """The live passage ids a filtered search may return, and their FAISS selector.

    The selector is a bitmap over ids (one bit each, built on first use): a test per
    candidate is a shift and a mask instead of a hash-set lookup. Ids too sparse for a
    bitmap (at most 1 MiB, or 8 bytes per id) get FAISS's hash-set selector.
    """

    __slots__ = ("_bitmap", "_selector", "ids")

    def __init__(self, ids: NDArray[np.int64]) -> None:
        self.ids = ids  # sorted, unique
        self._bitmap: NDArray[np.uint8] | None = None
        self._selector: Any = None

    def selector(self) -> Any:
        if self._selector is None:
            top = int(self.ids[-1]) if self.ids.size else -1
            if self.ids.size and int(self.ids[0]) >= 0 and top < max(1 << 23, 64 * self.ids.size):
                bits = np.zeros(top + 1, dtype=bool)
                bits[self.ids] = True
                self._bitmap = np.packbits(bits, bitorder="little")
                self._selector = faiss.IDSelectorBitmap(
                    self._bitmap.size, faiss.swig_ptr(self._bitmap)
                )
            else:
                self._selector = faiss.IDSelectorBatch(self.ids)
        return self._selector


def _widen_ef(ef_search: int, share: float) -> int:
    """Widen the candidate list under a filter passing ``share`` of the nodes (x10 at 1 %).

    On 10k SciFact passages this kept recall@10 >= 0.99; a fixed 128 fell to 0.75 at 1 %.
    """
    return int(ef_search * min(16.0, max(1.0, 0.1 / max(share, 1e-9))))


class DenseIndex:
    """A FAISS inner-product index over unit vectors keyed by passage id.

    Args:
        dim: Vector dimension.
        kind: A name from :data:`DENSE_INDEX_KINDS`.
        hnsw: Graph settings (HNSW only).
        exact_filter_limit: A filter allowing at most this many live passages is scored
            exactly on reconstructed vectors (about 0.3 ms at 2,048) instead of searched.

    Raises:
        ConfigError: ``kind`` is unknown (the message lists the known kinds).

    Example:
        >>> index = DenseIndex(2)
        >>> index.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> index.search(np.array([0.6, 0.8], dtype=np.float32), 1)
        [(9, 0.800000011920929)]
    """

    def __init__(
        self,
        dim: int,
        *,
        kind: str = DENSE_FLAT,
        hnsw: HnswParams | None = None,
        exact_filter_limit: int = 2048,
    ) -> None:
        if kind not in DENSE_INDEX_KINDS:
            known = ", ".join(sorted(DENSE_INDEX_KINDS))
            raise ConfigError(f"unknown dense index kind '{kind}'; available: {known}")
        self._params = hnsw or HnswParams()
        self._index: Any = faiss.IndexIDMap2(DENSE_INDEX_KINDS[kind](dim, self._params))
        self._kind = kind
        self._exact_filter_limit = exact_filter_limit
        self._tombstones: set[int] = set()
        self._lock = threading.RLock()
        self._ids: NDArray[np.int64] | None = None  # live ids, sorted; None when stale
        # Per read-only ``allowed`` array (a passage table's remembered filter): the live
        # subset and its FAISS selector, valid while the live ids are the same array.
        self._pools: dict[int, tuple[NDArray[np.int64], NDArray[np.int64], _Pool]] = {}

    @property
    def kind(self) -> str:
        """The versioned kind name."""
        return self._kind

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._index.d)

    @property
    def tombstones(self) -> int:
        """Removed passages still in the HNSW graph; rebuild with :meth:`compacted`."""
        return len(self._tombstones)

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._tombstones)

    def ids(self) -> NDArray[np.int64]:
        """Return the live passage ids, sorted (a read-only array)."""
        with self._lock:
            if self._ids is None:
                stored = faiss.vector_to_array(self._index.id_map).astype(np.int64)
                ids = np.setdiff1d(stored, np.array(list(self._tombstones), dtype=np.int64))
                ids.setflags(write=False)
                self._ids = ids
            return self._ids

    def add(
        self, ids: NDArray[np.int64], vectors: NDArray[np.float32], *, threads: int | None = None
    ) -> None:
        """Add unit vectors under new passage ids, on ``threads`` OpenMP threads (all cores).

        Raises:
            ValueError: Shapes disagree, a vector is not unit length, or an id is already in
                the index (a removed HNSW id included: rebuild with :meth:`compacted` first).
        """
        keys = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        if data.shape != (keys.size, self.dim):
            raise ValueError(f"expected vectors of shape ({keys.size}, {self.dim}): {data.shape}")
        if np.any(np.abs(np.linalg.norm(data, axis=1) - 1.0) > 1e-3):
            raise ValueError("vectors must be unit length (normalise embeddings before adding)")
        if np.unique(keys).size != keys.size:
            raise ValueError("passage ids are repeated in the batch")
        with self._lock:
            clash = np.intersect1d(keys, faiss.vector_to_array(self._index.id_map))
            if clash.size:
                raise ValueError(f"passage ids already in the index: {clash[:5].tolist()}")
            with _omp_threads(threads or os.cpu_count() or 1):
                self._index.add_with_ids(data, keys)
            self._ids = None
            self._pools.clear()

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Remove passages; return how many were live (unknown ids are ignored).

        HNSW cannot delete from its graph: its removed ids become tombstones that searches
        exclude. Rebuild with :meth:`compacted` once :attr:`tombstones` is a large share.
        """
        with self._lock:
            live = self._live_subset(np.asarray(ids, dtype=np.int64))
            if live.size and self._kind == DENSE_HNSW:
                self._tombstones.update(live.tolist())
            elif live.size:
                self._index.remove_ids(faiss.IDSelectorBatch(live))
            self._ids = None
            self._pools.clear()
            return int(live.size)

    def search(
        self, query: NDArray[np.float32], k: int, *, allowed: NDArray[np.int64] | None = None
    ) -> list[tuple[int, float]]:
        """Return up to ``k`` (passage id, cosine) pairs, best first.

        Args:
            query: A unit vector of shape (dim,).
            k: Results wanted.
            allowed: Only these passage ids may be returned. The filter applies before
                ranking, so ``k`` results come back whenever ``k`` allowed passages exist.

        Raises:
            ValueError: ``query`` has the wrong shape.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != self.dim:
            raise ValueError(f"query has dimension {q.shape[1]}, the index {self.dim}")
        with self._lock, _omp_threads(1):
            if k <= 0 or len(self) == 0:
                return []
            filtered = None if allowed is None else self._pool(allowed)
            pool = None if filtered is None else filtered.ids
            if pool is not None and pool.size <= self._exact_filter_limit:
                return self._search_exact(q[0], k, pool)
            hits = self._search_faiss(q, k, filtered)
            if len(hits) < min(k, len(self) if pool is None else pool.size):
                logger.debug("filtered graph search came back short; scoring exactly")
                return self._search_exact(q[0], k, self.ids() if pool is None else pool)
            return hits

    def _live_subset(self, allowed: NDArray[np.int64]) -> NDArray[np.int64]:
        """Return the sorted unique live ids among ``allowed``."""
        wanted: NDArray[np.int64] = np.unique(np.asarray(allowed, dtype=np.int64))
        live = self.ids()
        found = np.minimum(np.searchsorted(live, wanted), max(live.size - 1, 0))
        subset: NDArray[np.int64] = wanted[live[found] == wanted] if live.size else wanted[:0]
        return subset

    def _pool(self, allowed: NDArray[np.int64]) -> _Pool:
        """The live ids among ``allowed`` and their selector, remembered for read-only arrays."""
        live = self.ids()
        if isinstance(allowed, np.ndarray) and not allowed.flags.writeable:
            found = self._pools.get(id(allowed))
            if found is not None and found[0] is allowed and found[1] is live:
                return found[2]
            pool = _Pool(self._live_subset(allowed))
            while len(self._pools) >= _POOL_CACHE_SIZE:
                del self._pools[next(iter(self._pools))]
            self._pools[id(allowed)] = (allowed, live, pool)  # holding ``allowed`` pins its id
            return pool
        return _Pool(self._live_subset(allowed))

    def _search_faiss(
        self, q: NDArray[np.float32], k: int, filtered: _Pool | None
    ) -> list[tuple[int, float]]:
        keep: list[Any] = []  # selectors FAISS does not own must outlive the search
        pool = None if filtered is None else filtered.ids
        if filtered is not None:
            keep.append(filtered.selector())
        elif self._tombstones:
            keep.append(faiss.IDSelectorBatch(np.array(list(self._tombstones), dtype=np.int64)))
            keep.append(faiss.IDSelectorNot(keep[0]))
        params: Any = faiss.SearchParameters() if keep else None
        if self._kind == DENSE_HNSW:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in the stub
            share = 1.0 if pool is None else pool.size / len(self)
            params.efSearch = max(_widen_ef(self._params.ef_search, share), k)
        if keep:
            params.sel = keep[-1]
        scores, labels = self._index.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(labels[0], scores[0], strict=True) if i >= 0]

    def _search_exact(
        self, q: NDArray[np.float32], k: int, pool: NDArray[np.int64]
    ) -> list[tuple[int, float]]:
        if pool.size == 0:
            return []
        blocks = range(0, pool.size, _EXACT_BLOCK)
        rows = (self._index.reconstruct_batch(pool[i : i + _EXACT_BLOCK]) for i in blocks)
        scores = np.concatenate([r @ q for r in rows])
        top = np.argpartition(-scores, k - 1)[:k] if k < pool.size else np.arange(pool.size)
        order = top[np.lexsort((pool[top], -scores[top]))]
        return [(int(pool[i]), float(scores[i])) for i in order]

    def compacted(self) -> DenseIndex:
        """Return a new index of the same kind holding only the live passages."""
        with self._lock:
            fresh = DenseIndex(self.dim, kind=self._kind, hnsw=self._params)
            fresh._exact_filter_limit = self._exact_filter_limit
            if len(self):
                fresh.add(self.ids(), self._index.reconstruct_batch(self.ids()))
            return fresh

    def save(self, folder: Path) -> None:
        """Write ``index.faiss`` then ``tombstones.npy``, each atomically; then the manifest."""
        folder = Path(folder)
        with self._lock:
            with write_atomically(folder / INDEX_FILE) as tmp:
                faiss.write_index(self._index, str(tmp))
            dead = np.array(sorted(self._tombstones), dtype=np.int64)
            with write_atomically(folder / TOMBSTONE_FILE) as tmp, tmp.open("wb") as handle:
                np.save(handle, dead, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, *, exact_filter_limit: int = 2048) -> DenseIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexMismatchError: The files are missing or hold another kind of index.
        """
        path = Path(folder) / INDEX_FILE
        if not path.exists():
            raise IndexMismatchError(f"{path} does not exist; build the index first")
        index = faiss.read_index(str(path))
        base: Any = None
        if isinstance(index, faiss.IndexIDMap2):
            base = faiss.downcast_index(index.index)
        kind = {faiss.IndexFlatIP: DENSE_FLAT, faiss.IndexHNSWFlat: DENSE_HNSW}.get(type(base))
        if kind is None or base.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexMismatchError(f"{path} is not a synth dense index; rebuild it")
        graph = base.hnsw if kind == DENSE_HNSW else None
        params = graph and HnswParams(graph.nb_neighbors(1), graph.efConstruction, graph.efSearch)
        self = cls(base.d, kind=kind, hnsw=params, exact_filter_limit=exact_filter_limit)
        self._index = index
        dead = Path(folder) / TOMBSTONE_FILE
        if dead.exists():
            self._tombstones = set(np.load(dead, allow_pickle=False).tolist())
        return self


def build_dense_index(
    ids: NDArray[np.int64],
    vectors: NDArray[np.float32],
    *,
    hnsw_threshold: int = 100_000,
    m: int = 32,
    ef_construction: int = 40,
    ef_search: int = 128,
    exact_filter_limit: int = 2048,
    busy: Callable[[], bool] | None = None,
) -> DenseIndex:
    """Build an exact index, or an HNSW one when there are at least ``hnsw_threshold`` vectors.

    At 100k MiniLM vectors an exact query takes ~8 ms on one core; HNSW ~0.7 ms (recall@10
    0.994 at ``ef_search=128``) after a build of 12–26 s.

    Args:
        ids: Passage ids.
        vectors: Their unit vectors, one row each.
        hnsw_threshold: Vectors from which the index is HNSW rather than exact.
        m: HNSW neighbours per node.
        ef_construction: HNSW candidate list while building.
        ef_search: HNSW candidate list while searching.
        exact_filter_limit: See :class:`DenseIndex`.
        busy: While it returns True (another core-bound task of this process runs, such as
            tokenising for BM25), the HNSW graph grows in batches on one thread, then on all
            cores: OpenMP threads that outnumber the free cores wait on each other.

    Raises:
        ValueError: Shapes disagree, vectors are not unit length, or ids repeat.
    """
    data = np.asarray(vectors, dtype=np.float32)
    keys = np.asarray(ids, dtype=np.int64)
    kind = DENSE_HNSW if data.shape[0] >= hnsw_threshold else DENSE_FLAT
    params = HnswParams(m=m, ef_construction=ef_construction, ef_search=ef_search)
    index = DenseIndex(data.shape[1], kind=kind, hnsw=params, exact_filter_limit=exact_filter_limit)
    start = 0
    while kind == DENSE_HNSW and busy is not None and start < keys.size and busy():
        index.add(keys[start : start + _BUSY_BATCH], data[start : start + _BUSY_BATCH], threads=1)
        start += _BUSY_BATCH
    index.add(keys[start:], data[start:])
    return index
