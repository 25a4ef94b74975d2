"""Embedding backends side by side: torch vs onnx-int8, alternating in one process.

    python bench/embedding_backends.py [--paragraphs 300] [--queries 300] [--rounds 3]
                                       [--eval] [--json out.json]

Throughput: the first ``--paragraphs`` SciFact abstracts ("title. abstract", ~200 words, the
text ingest embeds) encoded by each backend in turn, ``--rounds`` times, alternating, so both
see the same machine load; the ratio is taken per round. Latency: each SciFact query encoded
alone by torch then by onnx-int8 (the search path: one text, one thread), p50/p99. Fidelity:
cosine between the two backends' vectors, and top-10 overlap of query → abstract neighbours.
``--eval`` also runs ``synth eval retrieval --dataset ../shared/data/scifact --json`` once per
backend (``SYNTH_EMBEDDING_BACKEND``), each in its own data dir, and adds the scores;
``--eval-docs N`` evaluates on a subset instead (written under ``var/backends/``): every abstract
judged for a test query plus the first others up to N, with all test queries. ``--search``
runs ``bench/search.py``'s 100k-passage point once per backend (see ``search_latency``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

from synth.config import EmbeddingConfig
from synth.embedding import build_embedder
from synth.ports import Embedder

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "var" / "models"
BACKENDS = ("torch", "onnx-int8")


def read_jsonl(path: Path, limit: int) -> list[dict[str, str]]:
    """Return the first ``limit`` rows of a JSON-lines file."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows


def throughput(embedders: dict[str, Embedder], texts: list[str], rounds: int) -> dict[str, object]:
    """Paragraphs per second per backend, alternating; the speed-up per round."""
    rates: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(rounds):
        for name, embedder in embedders.items():
            start = time.perf_counter()
            embedder.encode(texts)
            rates[name].append(len(texts) / (time.perf_counter() - start))
    ratios = [o / t for t, o in zip(rates["torch"], rates["onnx-int8"], strict=True)]
    return {
        "paragraphs": len(texts),
        "paragraphs_per_s": {n: [round(r, 1) for r in v] for n, v in rates.items()},
        "median_per_s": {n: round(float(np.median(v)), 1) for n, v in rates.items()},
        "speedup_per_round": [round(r, 2) for r in ratios],
        "speedup_median": round(float(np.median(ratios)), 2),
    }


def latency(embedders: dict[str, Embedder], queries: list[str]) -> dict[str, object]:
    """Single-query encode latency (ms), alternating backends query by query."""
    for q in queries[:20]:  # warm up
        for embedder in embedders.values():
            embedder.encode([q])
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for q in queries:
        for name, embedder in embedders.items():
            start = time.perf_counter()
            embedder.encode([q])
            times[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {
            "p50_ms": round(float(np.percentile(v, 50)), 2),
            "p99_ms": round(float(np.percentile(v, 99)), 2),
        }
        for name, v in times.items()
    }


def fidelity(
    embedders: dict[str, Embedder], texts: list[str], queries: list[str]
) -> dict[str, float]:
    """Cosine between backends (paragraphs, queries) and top-10 neighbour overlap."""
    docs = {n: e.encode(texts) for n, e in embedders.items()}
    qs = {n: np.vstack([e.encode([q]) for q in queries]) for n, e in embedders.items()}
    doc_cos = (docs["torch"] * docs["onnx-int8"]).sum(axis=1)
    q_cos = (qs["torch"] * qs["onnx-int8"]).sum(axis=1)
    top = {n: np.argsort(-(qs[n] @ docs[n].T), axis=1)[:, :10] for n in embedders}
    overlap = [
        len(set(a) & set(b)) / 10 for a, b in zip(top["torch"], top["onnx-int8"], strict=True)
    ]
    return {
        "paragraph_cosine_mean": round(float(doc_cos.mean()), 4),
        "paragraph_cosine_min": round(float(doc_cos.min()), 4),
        "query_cosine_mean": round(float(q_cos.mean()), 4),
        "query_cosine_min": round(float(q_cos.min()), 4),
        "top10_overlap_mean": round(float(np.mean(overlap)), 3),
    }


def write_subset(docs: int) -> Path:
    """A BEIR folder: every abstract judged for a test query, then others up to ``docs``."""
    folder = ROOT / "var" / "backends" / f"scifact-{docs}"
    lines = (SCIFACT / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    judged = {line.split("\t")[1] for line in lines[1:]}
    corpus = (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    keep = [row for row in corpus if json.loads(row)["_id"] in judged]
    keep += [row for row in corpus if json.loads(row)["_id"] not in judged][: docs - len(keep)]
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("\n".join(keep) + "\n", encoding="utf-8")
    (folder / "queries.jsonl").write_bytes((SCIFACT / "queries.jsonl").read_bytes())
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def evaluate(backend: str, dataset: Path) -> dict[str, object]:
    """``synth eval retrieval`` on SciFact test with ``backend``, in its own data dir."""
    env = {
        **os.environ,
        "SYNTH_EMBEDDING_BACKEND": backend,
        "SYNTH_DATA_DIR": str(ROOT / "var" / "backends" / backend),
        "SYNTH_EMBEDDING_CACHE_DIR": str(CACHE),
        "SYNTH_OUTCOMES__ENABLED": "false",
    }
    command = [
        str(Path(sys.executable).parent / "synth"),
        "eval",
        "retrieval",
        "--dataset",
        str(dataset),
    ]
    start = time.perf_counter()
    done = subprocess.run([*command, "--json"], env=env, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def search_latency(embedders: dict[str, Embedder], queries: list[str]) -> dict[str, object]:
    """``bench/search.py``'s 100k point (HNSW + BM25) with each backend encoding the queries.

    Source passages and vectors: the torch store of the ``--eval`` run (the subset), repeated
    with jittered vectors up to 100k; the same store for both backends, so only the query
    encoder differs.
    """
    sys.path.insert(0, str(ROOT / "bench"))
    import search as search_bench  # bench/search.py

    source = sorted((ROOT / "var" / "backends" / "torch" / "eval").glob("*/store.db"))[0]
    texts, vectors = search_bench.read_source(source)
    copies = -(-100_000 // len(texts))
    big_texts, big_vectors = search_bench.jitter(texts, vectors, copies)
    return {
        name: search_bench.measure(big_texts[:100_000], big_vectors[:100_000], embedder, queries)
        for name, embedder in embedders.items()
    }


def main() -> None:
    """Measure both backends and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--eval-docs", type=int, default=0, help="0: the whole corpus")
    parser.add_argument("--search", action="store_true", help="search p50/p99 at 100k passages")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    docs = read_jsonl(SCIFACT / "corpus.jsonl", args.paragraphs)
    texts = [f"{d['title']}. {d['text']}" for d in docs]
    queries = [q["text"] for q in read_jsonl(SCIFACT / "queries.jsonl", args.queries)]
    embedders = {
        b: build_embedder(EmbeddingConfig(backend=b, cache_dir=str(CACHE)))  # type: ignore[arg-type]
        for b in BACKENDS
    }
    embedders["torch"].encode(texts[:64])  # warm up both
    embedders["onnx-int8"].encode(texts[:64])
    result: dict[str, object] = {
        "words_per_paragraph_mean": round(float(np.mean([len(t.split()) for t in texts])), 1),
        "throughput": throughput(embedders, texts, args.rounds),
        "query_latency": latency(embedders, queries),
        "fidelity": fidelity(embedders, texts, queries),
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.eval:
        dataset = write_subset(args.eval_docs) if args.eval_docs else SCIFACT
        result["scifact_test"] = {b: evaluate(b, dataset) for b in BACKENDS}
    if args.search:
        result["search_100k"] = search_latency(embedders, queries)
    out = json.dumps(result, indent=2)
    sys.stdout.write(out + "\n")
    if args.json:
        args.json.write_text(out)


if __name__ == "__main__":
    main()
