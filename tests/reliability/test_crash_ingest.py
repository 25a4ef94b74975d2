"""Kill -9 an ingest at random moments; after each restart nothing committed is lost.

A subprocess ingests 2,000 entries (``tests/reliability/crash_worker.py``), printing the
source id of each entry once its transaction has committed. The test kills it with SIGKILL
at a seeded random point (after a random number of commits, then a random delay),
"restarts" (builds the engine and opens the indexes, as the API and CLI do at start-up),
checks the store and indexes, and starts the worker again with the entries it has not yet
seen acknowledged — as a client that retries what was not confirmed.

The worker embeds with the deterministic hashing embedder from ``tests/conftest.py``, not the
real model: the subject here is durability (transactions, the index change feed and start-up
reconciliation), and 2,000 entries x 20 restarts with the real model would take far too long.
Everything else is the product's code path (spaCy sentences, redaction, chunking, outcome
cues, SQLite in WAL mode, FAISS and BM25 generations on disk).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from synth.config import EngineConfig
from synth.engine import Engine
from tests.reliability.checks import (
    assert_no_partial_entry,
    assert_searchable,
    index_check,
    stored_external_ids,
)
from tests.reliability.corpus_gen import external_id
from tests.reliability.crash_worker import build_test_engine
from tests.reliability.processes import kill, start_worker

pytestmark = [
    pytest.mark.slow,
    # A SIGKILLed worker's pipe can be collected after the test that made it; that is the
    # point of these tests, not a leak in synth.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

ENTRIES = 2_000
TRIALS = 20
SEED = 20260801


@pytest.fixture
def store(tmp_path: Path) -> EngineConfig:
    """A fresh SQLite store and data folder."""
    return EngineConfig(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=str(tmp_path / "d"))


def restart(config: EngineConfig) -> Engine:
    """What a process does at start-up: connect and open (reconcile) the indexes."""
    engine = build_test_engine(config.database_url, config.data_dir)
    engine.open_indexes()
    return engine


def saved_index_lag(config: EngineConfig) -> int:
    """Passages the saved indexes lack right after the kill (before any reconciliation)."""
    engine = build_test_engine(config.database_url, config.data_dir)
    with engine.sessions() as session:
        lag = engine.search_indexes.check_saved(session).missing
    engine.close()
    return lag


def verify(config: EngineConfig, acknowledged: set[str], newly: set[str]) -> set[str]:
    """Check the store after a restart; return the source ids it holds."""
    engine = restart(config)
    try:
        stored = stored_external_ids(engine)
        assert len(stored) == len(set(stored)), "an entry was stored twice"
        missing = acknowledged - set(stored)
        assert not missing, f"acknowledged entries lost: {sorted(missing)[:5]}"
        assert_no_partial_entry(engine)
        assert_searchable(engine, sorted(int(i.split("-")[1]) for i in newly))
    finally:
        engine.close()
    report = index_check(config, lambda c: build_test_engine(c.database_url, c.data_dir))
    assert report["ok"] is True, report
    return set(stored)


def ingest_args(config: EngineConfig, acknowledged: set[str], tmp_path: Path) -> list[str]:
    """Worker arguments: ingest every entry not yet acknowledged."""
    skip = tmp_path / "acknowledged.txt"
    skip.write_text("\n".join(sorted(acknowledged)))
    return ["ingest", config.database_url, config.data_dir, str(ENTRIES), str(skip)]


def test_ingest_killed_at_random_points_loses_nothing(store: EngineConfig, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    acknowledged: set[str] = set()
    kills = 0
    started = time.monotonic()
    while kills < TRIALS:
        worker = start_worker(ingest_args(store, acknowledged, tmp_path), tmp_path)
        # A random point in the run, independent of the machine's speed: a random number of
        # commits (spread so the kills cover all 2,000 entries), then a random delay.
        step = (ENTRIES - len(acknowledged)) / (TRIALS - kills + 1)
        worker.wait_committed(rng.randint(0, int(2 * step)))
        time.sleep(rng.uniform(0.0, 0.5))
        if worker.process.poll() == 0:
            break  # finished before the kill: the final run below has nothing left to do
        kill(worker)
        kills += 1
        newly = worker.committed() - acknowledged
        acknowledged |= newly
        lag = saved_index_lag(store)
        held = verify(store, acknowledged, newly)
        note(
            "kill %d: %d newly acknowledged, %d stored (%d committed unacknowledged), "
            "saved index %d passages behind before the restart",
            kills, len(newly), len(held), len(held - acknowledged), lag,
        )  # fmt: skip
    assert kills == TRIALS, "the ingest finished before every kill: lengthen it"
    worker = start_worker(ingest_args(store, acknowledged, tmp_path), tmp_path)
    assert worker.process.wait(600) == 0
    kill(worker)
    newly = worker.committed() - acknowledged
    final = verify(store, acknowledged | newly, newly)
    assert final == {external_id(i) for i in range(ENTRIES)}
    note("%d kills, %d entries, none lost: %.0f s", kills, len(final), _elapsed(started))


def _elapsed(started: float) -> float:
    return time.monotonic() - started


def note(template: str, *args: object) -> None:
    """Report a figure (shown with ``pytest -s``; the numbers in docs/benchmarks.md)."""
    sys.stderr.write(template % args + "\n")
