"""Four processes ingest into one PostgreSQL store while searches run: nothing lost or doubled.

Each writer is a separate process (``crash_worker ingest-range``) with its own index folder,
as separate API replicas would have; all of them create the same networks and organisations
on first use. The test process keeps refreshing its own indexes from the store's change feed
and searching for entries the writers have reported committed. Embeddings come from the
hashing embedder in ``tests/conftest.py`` (the subject is concurrency, not the model).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from synth.engine import Engine
from synth.search.query import SearchQuery, Viewer
from synth.search.service import search_entries
from synth.store import migrate
from tests.conftest import _truncate_all
from tests.reliability.checks import (
    assert_no_partial_entry,
    assert_searchable,
    stored_external_ids,
)
from tests.reliability.corpus_gen import external_id, marker
from tests.reliability.crash_worker import build_test_engine
from tests.reliability.processes import Worker, errors, kill, start_worker

pytestmark = [pytest.mark.slow, pytest.mark.pg]

WRITERS = 4
PER_WRITER = 150


def _search_while_writing(engine: Engine, workers: list[Worker]) -> int:
    """Refresh and search until every writer has ended; return the searches made."""
    rng = random.Random(3)
    searches = 0
    while any(w.process.poll() is None for w in workers):
        committed = sorted(set().union(*(w.committed() for w in workers)))
        index_set = engine.open_indexes()
        for source_id in rng.sample(committed, min(5, len(committed))):
            number = int(source_id.split("-")[1])
            with engine.sessions() as session:
                hits = search_entries(
                    session,
                    index_set,
                    engine.embedder,
                    SearchQuery(text=marker(number), k=1, mode="bm25", per_organisation=0),
                    viewer=Viewer.operator(),
                    config=engine.config.search,
                )
            assert hits, f"{source_id} was committed but is not found"
            searches += 1
        time.sleep(0.2)
    return searches


def test_four_writers_and_a_searcher_lose_and_double_nothing(
    pg_server_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    engine = build_test_engine(pg_server_url, str(tmp_path / "reader"))
    migrate(engine.db)
    _truncate_all(engine)
    workers = [
        start_worker(
            [
                "ingest-range",
                pg_server_url,
                str(tmp_path / f"writer-{n}"),
                str(n * PER_WRITER),
                str(PER_WRITER),
            ],
            tmp_path,
            wait=False,
        )
        for n in range(WRITERS)
    ]
    try:
        searches = _search_while_writing(engine, workers)
    finally:
        for worker in workers:
            worker.process.wait(600)
            kill(worker)
    for worker in workers:
        assert worker.process.returncode == 0, errors(worker)
        assert "Traceback" not in errors(worker), errors(worker)
    expected = {external_id(i) for i in range(WRITERS * PER_WRITER)}
    assert set().union(*(w.committed() for w in workers)) == expected
    stored = stored_external_ids(engine)
    assert sorted(stored) == sorted(expected), "lost or duplicated entries"
    assert_no_partial_entry(engine)
    engine.open_indexes()
    assert engine.search_indexes.check_saved(engine.sessions()).ok
    assert_searchable(engine, range(WRITERS * PER_WRITER))
    assert searches > 0
    retries = sum(errors(w).count("retrying") for w in workers)
    note(
        "%d writers, %d entries, %d searches during the writes, %d batch retries, %.0f s",
        WRITERS, len(stored), searches, retries, time.monotonic() - started,
    )  # fmt: skip
    engine.close()


def note(template: str, *args: object) -> None:
    """Report a figure (shown with ``pytest -s``; the numbers in docs/benchmarks.md)."""
    sys.stderr.write(template % args + "\n")
