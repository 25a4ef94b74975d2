"""Subprocess for the crash tests: ingest (or refit topics) and report each commit on stdout.

Run as ``python -m tests.reliability.crash_worker ingest DB_URL DATA_DIR COUNT``. It prints
``ready`` once the engine is built, then ``committed <external id>`` for every entry whose
transaction has committed (the ingest progress callback runs after each batch's commit), and
``done`` at the end. The test kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from synth.config import EngineConfig, OutcomeConfig, RedactionConfig, TopicConfig
from synth.engine import Engine, build_engine
from synth.services.ingest import ingest_records
from synth.services.topics import fit_topic_run
from synth.store import migrate
from tests.conftest import HashingEmbedder
from tests.reliability.corpus_gen import build_records

#: Records per ingest call: the indexes are brought up to date after each call.
CHUNK = 100
#: Entries per transaction inside one ingest call.
BATCH = 10
NO_NER = RedactionConfig(kinds=frozenset(k for k in RedactionConfig().kinds if k.value != "person"))


def build_test_engine(url: str, data_dir: str) -> Engine:
    """The real engine with the hashing embedder and no NER (durability, not models)."""
    config = EngineConfig(
        database_url=url,
        data_dir=data_dir,
        redaction=NO_NER,
        outcomes=OutcomeConfig(method="cues"),
        ingest_batch_size=BATCH,
    )
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    return engine


class CommitPrinter:
    """Progress reporter printing the ids of the records whose batch has just committed."""

    def __init__(self, ids: Sequence[str]) -> None:
        self._ids = ids
        self._done = 0

    def start(self, total: int, description: str) -> None:
        """Nothing to do at the start."""

    def advance(self, units: int = 1) -> None:
        """Print the ids of the next ``units`` records: their transaction has committed."""
        lines = [f"committed {i}\n" for i in self._ids[self._done : self._done + units]]
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        self._done += units


def run_ingest(
    engine: Engine, count: int, skip: frozenset[str] = frozenset(), first: int = 0
) -> None:
    """Ingest synthetic entries ``first`` to ``count - 1``, leaving out the ids in ``skip``."""
    records = [r for r in build_records(count)[first:] if r.source.external_id not in skip]
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        ids = [str(r.source.external_id) for r in chunk]
        ingest_records(engine, chunk, progress=CommitPrinter(ids))


class StepPrinter:
    """Progress reporter printing ``step N`` as a refit passes each of its steps."""

    def __init__(self) -> None:
        self._step = 0

    def start(self, total: int, description: str) -> None:
        """Nothing to do at the start."""

    def advance(self, units: int = 1) -> None:
        """Print the step just finished."""
        self._step += units
        sys.stdout.write(f"step {self._step}\n")
        sys.stdout.flush()


def run_refit(engine: Engine) -> None:
    """Refit topics on the whole store."""
    report = fit_topic_run(
        engine.sessions, engine.embedder, TopicConfig(), engine.data_dir, progress=StepPrinter()
    )
    sys.stdout.write(f"fitted {report.run_id}\n")


def main(argv: list[str]) -> None:
    """``ingest DB_URL DATA_DIR COUNT [SKIP_FILE]``, ``ingest-range DB_URL DATA_DIR FIRST
    COUNT`` or ``refit DB_URL DATA_DIR``."""
    mode, url, data_dir = argv[:3]
    engine = build_test_engine(url, data_dir)
    migrate(engine.db)
    engine.splitter  # noqa: B018  (load spaCy before reporting ready)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if mode == "ingest":
        skip = Path(argv[4]).read_text().split() if len(argv) > 4 else []
        run_ingest(engine, int(argv[3]), frozenset(skip))
    elif mode == "ingest-range":
        first, count = int(argv[3]), int(argv[4])
        run_ingest(engine, first + count, first=first)
    else:
        run_refit(engine)
    sys.stdout.write("done\n")
    sys.stdout.flush()
    engine.close()


if __name__ == "__main__":
    main(sys.argv[1:])
