"""One replica's indexes at scale: build time, memory, search p50/p99, save and load (issue #8).

    python bench/scale.py [--passages 1000000] [--dim 384] [--queries 300] [--json out.json]

Everything is synthetic and seeded (say so when quoting the figures): vectors are drawn
around 2,000 Gaussian cluster centres and normalised (384 dimensions, like all-MiniLM-L6-v2);
texts are 24-word passages drawn from a 20,000-word Zipf vocabulary. The indexes are built
by the same code a replica's rebuild from stored embeddings runs — ``build_dense_index``
(HNSW above ``SYNTH_INDEX__HNSW_THRESHOLD``) overlapped with the BM25 build, plus the passage
metadata table — from arrays in memory; reading the vectors out of the store is not timed
here (``bench/search.py`` times the whole path through a store at 100k). Memory is the
process's resident set (VmRSS) and its peak (VmHWM) read from ``/proc/self/status``. Queries
are stored vectors with noise (dense) and three vocabulary words (BM25), one at a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from synth.config import IndexConfig
from synth.index.dense import DenseIndex, build_dense_index
from synth.index.lexical import LexicalIndex
from synth.search.passage_table import PassageRow, PassageTable


def memory_mib() -> dict[str, float]:
    """VmRSS and VmHWM of this process, MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def make_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 2,000 seeded cluster centres (built in chunks to bound memory)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        pick = rng.integers(0, len(centres), stop - start)
        chunk = centres[pick] + 0.6 * rng.standard_normal((stop - start, dim)).astype(np.float32)
        out[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def make_texts(n: int, seed: int, words: int = 24) -> tuple[list[str], list[str]]:
    """``n`` passages of ``words`` words from a seeded Zipf vocabulary; returns (texts, vocab)."""
    rng = np.random.default_rng(seed + 1)
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "zu", "fe"]
    vocab = sorted(
        {"".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(40_000)}
    )[:20_000]
    ranks = np.minimum(rng.zipf(1.2, size=(n, words)) - 1, len(vocab) - 1)
    table = np.asarray(vocab, dtype=object)
    return [" ".join(row) for row in table[ranks]], vocab


def make_rows(n: int) -> list[PassageRow]:
    """Passage metadata: 3 passages per entry, 40 organisations in 8 networks."""
    day = dt.date(2024, 1, 1)
    return [
        PassageRow(
            i + 1, i // 3 + 1, (i // 3) % 8 + 1, (i // 3) % 40 + 1, None, "story", "network", day
        )
        for i in range(n)
    ]


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
    }


def time_searches(
    dense: DenseIndex, lexical: LexicalIndex, vectors: np.ndarray, vocab: list[str], count: int
) -> dict[str, dict[str, float]]:
    """Dense, BM25 and both (as one hybrid query does), one query at a time, depth 100."""
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(vectors), count)
    queries = vectors[picks] + 0.05 * rng.standard_normal((count, vectors.shape[1]))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    words = [" ".join(rng.choice(vocab[:2000], size=3)) for _ in range(count)]
    timings: dict[str, list[float]] = {"dense": [], "bm25": [], "both": []}
    for vector, text in zip(queries, words, strict=True):
        t0 = time.perf_counter()
        dense.search(vector, 100)
        t1 = time.perf_counter()
        lexical.search(text, 100)
        t2 = time.perf_counter()
        timings["dense"].append(t1 - t0)
        timings["bm25"].append(t2 - t1)
        timings["both"].append(t2 - t0)
    return {name: percentiles(values) for name, values in timings.items()}


def run(passages: int, dim: int, queries: int) -> dict[str, object]:
    """Build, measure, save and load one replica's indexes."""
    config = IndexConfig()
    result: dict[str, object] = {"passages": passages, "dim": dim, "synthetic": True}
    result["memory_start_mib"] = memory_mib()
    t0 = time.perf_counter()
    vectors = make_vectors(passages, dim, seed=42)
    texts, vocab = make_texts(passages, seed=42)
    rows = make_rows(passages)
    ids = np.arange(1, passages + 1, dtype=np.int64)
    result["generate_s"] = round(time.perf_counter() - t0, 1)
    result["memory_inputs_mib"] = memory_mib()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        lexical_future = pool.submit(LexicalIndex().build, ids, texts)
        dense = build_dense_index(
            ids,
            vectors,
            hnsw_threshold=config.hnsw_threshold,
            m=config.hnsw_m,
            ef_construction=config.ef_construction,
            ef_search=config.ef_search,
        )
        lexical = lexical_future.result()
    table = PassageTable(rows)
    result["build_s"] = round(time.perf_counter() - t0, 1)
    result["dense_kind"] = dense.kind
    del texts, rows
    result["memory_built_mib"] = memory_mib()
    result["search"] = time_searches(dense, lexical, vectors, vocab, queries)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        dense.save(Path(folder) / "dense")
        lexical.save(Path(folder) / "lexical")
        result["save_s"] = round(time.perf_counter() - t0, 1)
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        result["saved_mib"] = round(size / 2**20)
        t0 = time.perf_counter()
        DenseIndex.load(Path(folder) / "dense")
        LexicalIndex.load(Path(folder) / "lexical")
        result["load_s"] = round(time.perf_counter() - t0, 1)
    result["memory_end_mib"] = memory_mib()
    result["table_passages"] = len(table)
    return result


def main() -> None:
    """Parse arguments, run, print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.passages, args.dim, args.queries)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
