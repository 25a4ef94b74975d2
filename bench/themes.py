"""Time the theme layer on a store: summary of a 2,000-passage theme, theme list, assignment.

Run: ``.venv/bin/python bench/themes.py [--per-theme 2000] [--themes 4] [--repeat 5]``.

Builds a throw-away SQLite store whose entries are written from a few vocabularies (seeded),
embedded with the deterministic hashing embedder of the test suite: the cost measured here —
SQL over passages, visibility, outcome sentences, MMR over stored vectors, sentence choice —
does not depend on which model made the vectors, and the real model would take an hour to
embed 8,000 passages on two cores. Fits topics once (real BERTopic/UMAP/HDBSCAN), then times:
``summarise_theme`` on the largest theme, ``list_themes`` for the operator and for a public
viewer, and ``assign_new_passages`` for 100 new entries (ingest path, no refit).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from models import Passage, PassageTopic
from synth.config import EngineConfig, OutcomeConfig, RedactionConfig, TopicConfig
from synth.engine import build_engine
from synth.search.query import Viewer
from synth.services.ingest import ingest_records
from synth.services.summaries import summarise_theme
from synth.services.themes import ThemeScope, list_themes
from synth.services.topics import assign_new_passages, fit_topic_run
from synth.store import migrate
from synth.types import EntryKind, EntryRecord, SourceRef, Visibility
from tests.conftest import HashingEmbedder

VOCABULARIES = (
    "huddle safety board morning briefing escalation risk ward nurses worked well",
    "online referral form website queue phone booking reception access did not work",
    "insulin dose glucose diabetes chart pharmacist error syringe hypo barrier",
    "falls sensor alarm mobility hip fracture night slipper rounding improved",
    "discharge letter pharmacy transport bed flow delay family plan next",
    "sepsis antibiotics lactate screening fever triage bundle culture reduced",
)
SENTENCES = (
    "It worked well and falls went down.",
    "This did not work because nobody had time.",
    "A barrier was the rota.",
    "Next we will test it on nights.",
)


def records(themes: int, per_theme: int, seed: int, prefix: str) -> list[EntryRecord]:
    """``per_theme`` one-passage entries for each of ``themes`` vocabularies."""
    rng = random.Random(seed)
    out = []
    for t in range(themes):
        words = VOCABULARIES[t].split()
        for i in range(per_theme):
            body = " ".join(rng.choice(words) for _ in range(40)) + ". " + rng.choice(SENTENCES)
            network = f"net-{i % 6}"
            out.append(
                EntryRecord(
                    kind=EntryKind.REFLECTION,
                    title=f"theme {t} entry {i}",
                    body=body,
                    network=network,
                    organisation=f"{network}-org{i % 4}",
                    visibility=Visibility.PUBLIC if i % 3 else Visibility.NETWORK,
                    occurred_on=dt.date(2024 + i % 2, 1 + i % 12, 1),
                    source=SourceRef(external_id=f"{prefix}-{t}-{i}"),
                )
            )
    return out


def timed(func: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median and best wall time of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "best_ms": round(min(times), 1)}


def main() -> None:
    """Build the store, fit once, and time the theme operations."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-theme", type=int, default=2000)
    parser.add_argument("--themes", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="synth-bench-themes-"))
    config = EngineConfig(
        database_url=f"sqlite:///{folder / 'bench.db'}", data_dir=str(folder / "data"),
        redaction=RedactionConfig(enabled=False), outcomes=OutcomeConfig(method="cues"),
    )  # fmt: skip
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    migrate(engine.db)
    started = time.perf_counter()
    ingest_records(engine, records(args.themes, args.per_theme, 1, "a"), update_indexes=False)
    ingest_s = time.perf_counter() - started
    run = fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), folder / "data")
    result: dict[str, object] = {
        "passages": run.passages, "topics": run.topics, "fit_s": run.seconds,
        "ingest_s": round(ingest_s, 1), "outlier_share": run.outlier_share,
    }  # fmt: skip
    with engine.sessions() as session:
        views = list_themes(session, ThemeScope(Viewer.operator()), config.themes)
        largest = max(views, key=lambda v: v.profile.passages)
        result["largest_theme_passages"] = largest.profile.passages
        splitter = engine.splitter
        result["summary"] = timed(
            lambda: summarise_theme(
                session, largest.theme_id, ThemeScope(Viewer.operator()), config.themes, splitter
            ),
            args.repeat,
        )
        result["list_operator"] = timed(
            lambda: list_themes(session, ThemeScope(Viewer.operator()), config.themes), args.repeat
        )
        result["list_public"] = timed(
            lambda: list_themes(session, ThemeScope(Viewer.anonymous()), config.themes),
            args.repeat,
        )
    ingest_records(engine, records(1, 100, 2, "new"), update_indexes=False)
    with engine.sessions.begin() as session:  # ingest assigned them; time a fresh catch-up
        newest = list(session.scalars(select(Passage.id).order_by(Passage.id.desc()).limit(100)))
        session.query(PassageTopic).filter(PassageTopic.passage_id.in_(newest)).delete()
    with engine.sessions.begin() as session:
        start = time.perf_counter()
        report = assign_new_passages(session, TopicConfig())
        result["assign_100_new_ms"] = round((time.perf_counter() - start) * 1000, 1)
        result["assigned"] = report.assigned
    print(json.dumps(result))
    engine.close()


if __name__ == "__main__":
    main()
