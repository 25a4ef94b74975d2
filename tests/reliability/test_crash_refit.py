"""Kill -9 a topic refit midway: the previous run stays current and the themes keep their ids.

The refit runs in a subprocess (``crash_worker refit``) on stored embeddings (the hashing
embedder from ``tests/conftest.py``; what is tested is the run's transactions, not the
model). It is killed at seeded random moments and just after each of its steps — after the
``fitting`` row is committed, and after the model is saved while the final transaction runs.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models import PassageTopic, Theme, TopicRun
from synth.config import EngineConfig, TopicConfig
from synth.engine import Engine
from synth.errors import SynthError
from synth.services.ingest import ingest_records
from synth.services.topics import current_run, fit_topic_run
from synth.store import migrate
from synth.types import EntryKind, EntryRecord, SourceRef, Visibility
from tests.reliability.crash_worker import build_test_engine
from tests.reliability.processes import kill, start_worker

pytestmark = [
    pytest.mark.slow,
    # A SIGKILLed worker's pipe can be collected after the test that made it; that is the
    # point of these tests, not a leak in synth.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SEED = 20260802
VOCABULARY = {
    "huddle": "huddle safety board morning briefing escalation risk ward nurses",
    "referral": "online referral form website queue phone booking reception access",
    "falls": "falls bed sensor alarm mobility hip fracture night slipper",
    "insulin": "insulin dose glucose diabetes chart pharmacist error syringe hypo",
}


def _records(per_topic: int) -> list[EntryRecord]:
    rng = random.Random(SEED)
    records = []
    for topic, words in VOCABULARY.items():
        for i in range(per_topic):
            network = ("net-a", "net-b", "net-c")[i % 3]
            body = " ".join(rng.choice(words.split()) for _ in range(18)) + "."
            records.append(
                EntryRecord(
                    kind=EntryKind.REFLECTION,
                    title=f"{topic} note {i}",
                    body=body,
                    network=network,
                    organisation=f"{network}-org",
                    visibility=Visibility.NETWORK,
                    occurred_on=dt.date(2025, 1 + i % 12, 10),
                    source=SourceRef(file="t.jsonl", external_id=f"{topic}-{i}"),
                )
            )
    return records


def _state(engine: Engine) -> tuple[int, list[tuple[int, str]], int]:
    """Current run id, live themes (id, name) and the current run's assignment count."""
    with engine.sessions() as session:
        run = current_run(session)
        assert run is not None, "no current run after the kill"
        themes = [
            (t.id, t.name)
            for t in session.scalars(select(Theme).where(Theme.archived_at.is_(None)))
        ]
        query = select(PassageTopic.passage_id).where(PassageTopic.run_id == run.id)
        assigned = len(list(session.scalars(query)))
        return run.id, sorted(themes), assigned


def test_refit_killed_midway_leaves_the_previous_run_current(tmp_path: Path) -> None:
    config = EngineConfig(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=str(tmp_path))
    engine = build_test_engine(config.database_url, config.data_dir)
    migrate(engine.db)
    ingest_records(engine, _records(15), update_indexes=False)
    fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), tmp_path)
    before = _state(engine)
    rng = random.Random(SEED)
    timings: list[str] = []
    args = ["refit", config.database_url, config.data_dir]
    # kill points: after the "fitting" row, during the final transaction, and at random
    for point in ("step 1", "step 2", "random 1", "random 2"):
        worker = start_worker(args, tmp_path)
        if point.startswith("step"):
            assert worker.wait_for(point), f"refit never reached {point}"
        else:
            time.sleep(rng.uniform(0.0, 4.0))
        finished = worker.process.poll() == 0
        kill(worker)
        timings.append(f"{point}: {'finished' if finished else 'killed'}")
        if finished:
            continue
        assert _state(engine) == before, f"killed at {point}: the current run changed"
    with engine.sessions() as session:
        statuses = [r.status for r in session.scalars(select(TopicRun).order_by(TopicRun.id))]
    assert statuses[0] == "current", timings
    assert sum("killed" in t for t in timings) == 4, timings
    assert set(statuses[1:]) <= {"fitting", "failed"}
    fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), tmp_path)  # still refits
    run_id, themes, assigned = _state(engine)
    assert run_id > before[0] and assigned == before[2]
    assert {t for t, _ in themes} == {t for t, _ in before[1]}, "a refit renumbered the themes"
    with engine.sessions() as session:
        runs = list(session.scalars(select(TopicRun).order_by(TopicRun.id)))
    assert "fitting" not in {r.status for r in runs}, "the next fit left a dead fit's run fitting"
    assert all(r.error for r in runs if r.status == "failed")
    engine.close()


class _PauseAfterFirstStep:
    """Progress reporter that holds the fit after its first step until released."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self.release = threading.Event()

    def start(self, total: int, description: str) -> None:
        """Nothing to do at the start."""

    def advance(self, units: int = 1) -> None:
        """Pause once, after the ``fitting`` row is committed."""
        if not self.paused.is_set():
            self.paused.set()
            self.release.wait(timeout=60)


def test_a_second_fit_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    config = EngineConfig(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=str(tmp_path))
    engine = build_test_engine(config.database_url, config.data_dir)
    migrate(engine.db)
    ingest_records(engine, _records(15), update_indexes=False)
    pause = _PauseAfterFirstStep()
    first = threading.Thread(
        target=fit_topic_run,
        args=(engine.sessions, engine.embedder, TopicConfig(), tmp_path),
        kwargs={"progress": pause},
    )
    first.start()
    try:
        assert pause.paused.wait(timeout=60), "the first fit never committed its run"
        with pytest.raises(SynthError, match="another topic fit is running"):
            fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), tmp_path)
    finally:
        pause.release.set()
        first.join(timeout=120)
    with engine.sessions() as session:
        assert [r.status for r in session.scalars(select(TopicRun))] == ["current"]
    engine.close()
