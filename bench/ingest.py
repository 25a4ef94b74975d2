"""Ingest throughput on the demo corpus against the bare encoder, measured in one run.

    python bench/ingest.py [--repeat 2] [--json out.json]

Runs the whole pipeline (validate, normalise, redact, chunk, dedupe, embed, store in a
fresh SQLite file) with name redaction off and on, and times plain
``SentenceTransformer.encode`` of the very same passages with the same batch size.
Models are loaded once before timing; the embedding cache starts empty in every run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import select

from corpus import iter_records
from corpus.demo_data import demo_entry_files
from models import Passage
from synth.config import EmbeddingConfig, EngineConfig, RedactionConfig
from synth.core.redaction import RedactionKind
from synth.embedding import SentenceTransformerEmbedder
from synth.engine import build_engine
from synth.ner import SpacyPersonFinder
from synth.services.ingest import ingest_records
from synth.store import migrate

NO_NAMES = frozenset(RedactionKind) - {RedactionKind.PERSON}


def run_pipeline(
    embedder: SentenceTransformerEmbedder,
    finder: SpacyPersonFinder | None,
    kinds: frozenset[RedactionKind],
) -> tuple[float, int, list[str]]:
    """Ingest the demo corpus into a fresh store; return seconds, passages, passage texts."""
    with tempfile.TemporaryDirectory() as tmp:
        config = EngineConfig(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            data_dir=tmp,
            redaction=RedactionConfig(kinds=kinds),
        )
        engine = build_engine(config)
        migrate(engine.db)
        engine.__dict__["embedder"] = embedder
        engine.__dict__["person_finder"] = finder
        records = list(itertools.chain.from_iterable(iter_records(f) for f in demo_entry_files()))
        start = time.perf_counter()
        report = ingest_records(engine, records)
        seconds = time.perf_counter() - start
        with engine.sessions() as session:
            texts = list(session.scalars(select(Passage.text).order_by(Passage.id)))
        engine.close()
    return seconds, report.passages, texts


def run_bare(embedder: SentenceTransformerEmbedder, texts: list[str]) -> float:
    """Time plain encode of ``texts`` (normalised, same batch size)."""
    model = embedder._model  # the very same SentenceTransformer instance
    start = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - start


def main() -> None:
    """Measure and print the figures (and write them as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder(EmbeddingConfig())
    finder = SpacyPersonFinder()
    embedder.encode(["warm up the model"])
    finder.find_persons(["Warm up with Anna Smith."])
    rows: dict[str, list[float]] = {"bare": [], "names_off": [], "names_on": []}
    passages = 0
    for _ in range(args.repeat):
        seconds, passages, texts = run_pipeline(embedder, None, NO_NAMES)
        rows["names_off"].append(passages / seconds)
        rows["bare"].append(len(texts) / run_bare(embedder, texts))
        seconds, passages, _ = run_pipeline(embedder, finder, frozenset(RedactionKind))
        rows["names_on"].append(passages / seconds)
    result = {
        "passages": passages,
        "passages_per_s": {k: round(statistics.median(v), 2) for k, v in rows.items()},
        "runs": {k: [round(x, 2) for x in v] for k, v in rows.items()},
    }
    bare = result["passages_per_s"]["bare"]  # type: ignore[index]
    result["ratio_names_off"] = round(result["passages_per_s"]["names_off"] / bare, 3)  # type: ignore[index]
    result["ratio_names_on"] = round(result["passages_per_s"]["names_on"] / bare, 3)  # type: ignore[index]
    text = json.dumps(result, indent=2)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
