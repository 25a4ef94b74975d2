"""Search latency and index build time at 10k and 100k passages, against the bare libraries.

    python bench/search.py [--source var/eval/scifact-*/store.db] [--queries 500]
        [--backend onnx-int8|torch] [--json out.json]

Source: the passages and stored embeddings of a store made by
``synth eval retrieval --dataset ../shared/data/scifact`` (real SciFact passages, real
all-MiniLM-L6-v2 vectors). The 10k point uses them as they are; the 100k point repeats them
ten times, each copy's vector jittered (Gaussian noise, sigma 0.02, re-normalised) and its
text kept — so the dense index holds 100k distinct near-real vectors (synthetic padding, as
said) and BM25 holds 100k real-text passages. Queries are SciFact queries, embedded inside
each timed call. Each point: index build from stored embeddings, then p50/p99 of in-process
``search_entries`` (query embedding, filters, fusion, aggregation, highlighting) against
``encode + one FAISS search + one bm25s query`` for the same queries in the same run (the
product twice: as deployed, BM25 on a helper thread beside the encoder, and with that overlap
off; wall clock and process CPU; no query-vector cache, so every call runs the model), the
dense index's recall@10 against exact search, a second build in the same process (the BM25
index it holds is caught up rather than rebuilt, as in a graph compaction or a rebuild in a
running service), and the time to make one new entry (two passages) searchable:
:meth:`SearchIndexes.refresh` after it is written, saved generation included. The query
encoder is the deployment default, ``onnx-int8``, unless ``--backend`` says otherwise; the
source store must hold vectors of the same backend (``synth eval retrieval`` run with
``SYNTH_EMBEDDING_BACKEND`` set to it).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sqlalchemy import create_engine, func, insert, select, text

from models import Entry, Network, Organisation, Passage
from synth.config import EmbeddingConfig, EngineConfig
from synth.embedding import build_embedder
from synth.engine import build_engine
from synth.index.dense import DenseIndex
from synth.ports import Embedder
from synth.search.query import SearchQuery, Viewer
from synth.search.service import search_entries
from synth.store import migrate

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT.parent / "shared" / "data" / "scifact" / "queries.jsonl"


def read_source(path: Path) -> tuple[list[str], np.ndarray]:
    """Return passage texts and vectors from a store."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.execute(select(Passage.text, Passage.embedding).order_by(Passage.id)).all()
    engine.dispose()
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
    return [r[0] for r in rows], vectors.astype(np.float32)


def fill_store(
    url: str, texts: list[str], vectors: np.ndarray, model: str, *, first: bool = True
) -> None:
    """Write ``texts``/``vectors`` as passages of entries (2 per entry, 20 organisations).

    With ``first`` false the entries are added after those already there.
    """
    engine = create_engine(url)
    with engine.begin() as conn:
        if first:
            conn.execute(insert(Network), [{"slug": "bench", "name": "Bench"}])
            conn.execute(
                insert(Organisation), [{"slug": f"org-{i}", "name": f"Org {i}"} for i in range(20)]
            )
        entry0 = int(conn.scalar(select(func.count()).select_from(Entry)) or 0)
        passage0 = int(conn.scalar(select(func.count()).select_from(Passage)) or 0)
        entries = [
            {
                "kind": "evaluation",
                "title": f"entry {entry0 + i}",
                "body": texts[2 * i],
                "fields": {},
                "network_id": 1,
                "organisation_id": 1 + (entry0 + i) % 20,
                "visibility": "public",
                "content_hash": f"h{entry0 + i}",
                "redactions": {},
            }
            for i in range((len(texts) + 1) // 2)
        ]
        for start in range(0, len(entries), 5000):
            conn.execute(insert(Entry), entries[start : start + 5000])
        rows = [
            {
                "entry_id": entry0 + 1 + i // 2,
                "ordinal": i % 2,
                "text": t,
                "start": 0,
                "end": len(t),
                "text_hash": f"t{passage0 + i}",
                "embedding": v.astype("<f4").tobytes(),
                "embedding_model": model,
                "embedding_dim": vectors.shape[1],
            }
            for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Passage), rows[start : start + 5000])
        if first:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile in milliseconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def recall_at_10(
    dense: DenseIndex, vectors: np.ndarray, query_vectors: np.ndarray, ids: np.ndarray
) -> float:
    """Mean share of the exact top 10 (inner product over ``vectors``) that ``dense`` finds."""
    found = []
    for q in query_vectors:
        exact = set(ids[np.argsort(-(vectors @ q))[:10]].tolist())
        found.append(len(exact & {p for p, _ in dense.search(q, 10)}) / 10)
    return float(np.mean(found))


def measure(
    texts: list[str], vectors: np.ndarray, embedder: Embedder, queries: list[str]
) -> dict[str, float | str | int]:
    """Build a store and its indexes; time product search and the bare libraries."""
    with tempfile.TemporaryDirectory() as tmp:
        config = EngineConfig(database_url=f"sqlite:///{tmp}/bench.db", data_dir=tmp)
        engine = build_engine(config)
        migrate(engine.db)
        fill_store(config.database_url, texts, vectors, embedder.name)
        engine.__dict__["embedder"] = embedder
        with engine.sessions() as session:
            start = time.perf_counter()
            indexes = engine.search_indexes.rebuild(session)
            build = time.perf_counter() - start
            # Again, as a graph compaction does: the BM25 index held is caught up, not rebuilt.
            start = time.perf_counter()
            indexes = engine.search_indexes.rebuild(session)
            rebuild = time.perf_counter() - start
        # ours: the product path (BM25 beside the encoder); serial: the same with overlap off
        # (the service's own work on top of its parts, one after the other); bare: the parts.
        # Each timed twice: wall clock, and CPU of the whole process (all threads).
        times: dict[str, list[float]] = {name: [] for name in ("ours", "serial", "bare")}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        depth = config.search.depth
        settings = {
            "ours": config.search,
            "serial": config.search.model_copy(update={"overlap": False}),
        }

        def product(q: str, name: str) -> None:
            search_entries(
                session,
                indexes,
                embedder,
                SearchQuery(text=q),
                viewer=Viewer.operator(),
                config=settings[name],
            )

        def parts(q: str) -> None:
            vector = embedder.encode([q])[0]
            indexes.dense.search(vector, depth)
            indexes.lexical.search(q, depth)

        with engine.sessions() as session:
            for q in queries[:20]:  # warm up
                product(q, "ours")
                product(q, "serial")
            for n, q in enumerate(queries):
                # Alternate which product run goes first: the second meets warmer caches.
                order = ("ours", "serial") if n % 2 else ("serial", "ours")
                for name in (*order, "bare"):
                    w0, c0 = time.perf_counter(), time.process_time()
                    if name == "bare":
                        parts(q)
                    else:
                        product(q, name)
                    times[name].append(time.perf_counter() - w0)
                    cpu[name].append(time.process_time() - c0)
        ours, bare = times["ours"], times["bare"]
        kind = indexes.dense.kind
        query_vectors = np.vstack([embedder.encode([q]) for q in queries[:200]])
        recall = recall_at_10(indexes.dense, vectors, query_vectors, indexes.table.ids)
        # One new entry (two passages, a jittered copy of the first two) made searchable.
        noisy = vectors[:2] + np.random.default_rng(1).normal(0, 0.02, (2, vectors.shape[1]))
        noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
        fill_store(config.database_url, texts[:2], noisy, embedder.name, first=False)
        with engine.sessions() as session:
            start = time.perf_counter()
            refreshed = engine.search_indexes.refresh(session)
            add_one = time.perf_counter() - start
        assert len(refreshed.lexical) == len(texts) + 2
        engine.close()
    return {
        "passages": len(texts),
        "dense_index": kind,
        "build_s": round(build, 2),
        "rebuild_bm25_held_s": round(rebuild, 2),
        "dense_recall_at_10": round(recall, 4),
        "add_one_entry_s": round(add_one, 3),
        "search_p50_ms": round(percentile(ours, 50), 2),
        "search_p99_ms": round(percentile(ours, 99), 2),
        "bare_p50_ms": round(percentile(bare, 50), 2),
        "bare_p99_ms": round(percentile(bare, 99), 2),
        "ratio_p50": round(statistics.median(ours) / statistics.median(bare), 3),
        "serial_p50_ms": round(percentile(times["serial"], 50), 2),
        "serial_p99_ms": round(percentile(times["serial"], 99), 2),
        "serial_ratio_p50": round(statistics.median(times["serial"]) / statistics.median(bare), 3),
        "cpu_ours_ms": round(statistics.median(cpu["ours"]) * 1000, 2),
        "cpu_serial_ms": round(statistics.median(cpu["serial"]) * 1000, 2),
        "cpu_bare_ms": round(statistics.median(cpu["bare"]) * 1000, 2),
        "queries": len(queries),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def jitter(texts: list[str], vectors: np.ndarray, copies: int) -> tuple[list[str], np.ndarray]:
    """Repeat passages ``copies`` times with jittered, re-normalised vectors."""
    rng = np.random.default_rng(7)
    blocks = [vectors]
    for _ in range(copies - 1):
        noisy = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
        blocks.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return texts * copies, np.vstack(blocks).astype(np.float32)


def main() -> None:
    """Measure both points and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--backend", choices=["onnx-int8", "torch"], default="onnx-int8")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    source = args.source or Path(sorted(glob.glob(str(ROOT / "var/eval/scifact-*/store.db")))[0])
    texts, vectors = read_source(source)
    queries = [json.loads(line)["text"] for line in QUERIES.read_text().splitlines()]
    queries = queries[: args.queries]
    # No query cache: every timed call (ours and bare alike) runs the model.
    embedder = build_embedder(EmbeddingConfig(backend=args.backend, query_cache_size=0))
    small = 10_000
    result = {
        "10k": measure(texts[:small], vectors[:small], embedder, queries),
        "100k": measure(*jitter(texts[:small], vectors[:small], 10), embedder, queries),
    }
    out = json.dumps(result, indent=2)
    sys.stdout.write(out + "\n")
    if args.json:
        args.json.write_text(out)


if __name__ == "__main__":
    main()
