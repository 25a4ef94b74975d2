"""Topic fit wall time and peak RSS at 10k and 50k passages, on stored (cached) real embeddings.

    python bench/topics.py [--sizes 10000 50000] [--threads 2] [--set umap_epochs=100] [--json out]

Passages: real sentences, SciFact abstracts (``../shared/data/scifact``) and BBC articles
(``../shared/data/bbc_news/bbc_raw.jsonl``), cut at sentence ends, 6+ words, shuffled with a
fixed seed. They are embedded once with the product model and cached as ``.npy`` under
``var/bench/topics/`` (outside git); later runs load the cache. ``--max-real N`` caps the real
vectors (embedding runs at ~15-150 passages/s depending on load): beyond N, passages repeat
the real ones with their vectors jittered (Gaussian, sigma 0.02, re-normalised) — synthetic
padding, reported as ``real_passages`` in the output.

Each size runs :func:`synth.topics.fit_topics` with the default :class:`TopicConfig` (plus any
``--set`` overrides) in a fresh child process limited to ``--threads`` threads, which reports
its wall time and its own peak RSS (``ru_maxrss``: the embedding model for key phrases
included). The child then times incremental assignment of 100 unseen passages to the fitted
topics (nearest centroid by cosine, the outlier threshold applied: what ``assign_topics`` does
at ingest, from stored vectors) and records the topic count and outlier shares.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "var" / "bench" / "topics"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_NEW = 100


def _sentences(text: str) -> list[str]:
    out = []
    for paragraph in text.split("\n"):
        for sentence in _SENTENCE.split(paragraph.strip()):
            if len(sentence.split()) >= 6:
                out.append(sentence.strip())
    return out


def build_passages() -> list[str]:
    """Real sentences from SciFact and BBC News, deduplicated and shuffled (seed 0)."""
    texts = []
    with (DATA / "scifact" / "corpus.jsonl").open() as handle:
        for line in handle:
            texts.extend(_sentences(json.loads(line)["text"]))
    with (DATA / "bbc_news" / "bbc_raw.jsonl").open() as handle:
        for line in handle:
            texts.extend(_sentences(json.loads(line)["text"]))
    unique = sorted(set(texts))
    random.Random(0).shuffle(unique)
    return unique


def load_or_embed(limit: int, max_real: int | None = None) -> tuple[list[str], Any, int]:
    """Return ``limit`` passages, their embeddings and how many are real (not padding)."""
    import numpy as np

    from synth.config import EmbeddingConfig
    from synth.embedding import build_embedder

    CACHE.mkdir(parents=True, exist_ok=True)
    passages = build_passages()[: min(limit, max_real or limit)]
    chunk, parts = 5000, []
    embedder = None
    for start in range(0, len(passages), chunk):
        path = CACHE / f"vectors-{start:06d}-{chunk}.npy"
        if not path.exists():
            embedder = embedder or build_embedder(EmbeddingConfig())
            began = time.perf_counter()
            np.save(path, embedder.encode(passages[start : start + chunk]))
            print(f"embedded {start + chunk} ({time.perf_counter() - began:.0f} s)", flush=True)
        parts.append(np.load(path))
    vectors = np.concatenate(parts)[: len(passages)]
    real = len(passages)
    rng = np.random.default_rng(0)
    while len(passages) < limit:
        take = min(real, limit - len(passages))
        noisy = vectors[:take] + rng.normal(0.0, 0.02, (take, vectors.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        vectors = np.concatenate([vectors, noisy.astype(np.float32)])
        passages = passages + passages[:take]
    return passages, vectors, real


def child(size: int, overrides: dict[str, object], max_real: int | None) -> dict[str, object]:
    """Fit ``size`` passages in this process; report time, peak RSS, topics and assignment."""
    import numpy as np

    from synth.config import EmbeddingConfig, TopicConfig
    from synth.embedding import build_embedder
    from synth.topics import fit_topics

    passages, vectors, real = load_or_embed(size + _NEW, max_real)
    config = TopicConfig(**overrides)  # type: ignore[arg-type]
    embedder = build_embedder(EmbeddingConfig())
    began = time.perf_counter()
    fit = fit_topics(passages[:size], vectors[:size], config, embedder)
    seconds = time.perf_counter() - began
    centroids = np.stack([t.centroid for t in fit.topics])
    began = time.perf_counter()
    similarity = vectors[size:] @ centroids.T
    best = similarity.argmax(axis=1)
    new_outliers = float(np.mean(similarity[np.arange(len(best)), best] < config.outlier_threshold))
    assign_ms = (time.perf_counter() - began) * 1000
    return {
        "passages": size,
        "real_passages": min(real, size),
        "fit_seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "topics": len(fit.topics),
        "min_topic_size": fit.min_topic_size,
        "umap_neighbors": fit.umap_neighbors,
        "outlier_share_before_reduction": round(fit.outlier_share_before_reduction, 3),
        "outlier_share": round(fit.outlier_share, 3),
        "assign_100_ms": round(assign_ms, 2),
        "new_outlier_share": round(new_outliers, 3),
        "config": overrides,
    }


def _parse_overrides(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = json.loads(value) if value[:1] in "0123456789-[{tfn" else value
    return out


def main() -> None:
    """Run each size in a child process and print (or save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--max-real", type=int)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    overrides = _parse_overrides(args.overrides)
    if args.child:
        print(json.dumps(child(args.child, overrides, args.max_real)))
        return
    load_or_embed(max(args.sizes) + _NEW, args.max_real)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    results = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--child", str(size)]
        command += [f"--set={item}" for item in args.overrides]
        command += [f"--max-real={args.max_real}"] if args.max_real else []
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
