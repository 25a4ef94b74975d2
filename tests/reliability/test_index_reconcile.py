"""Late commits below the index's high-water mark, and batches retried after a collision.

Concurrent writers get passage ids before they commit, so a lower id can become visible
after a higher one has been indexed; the index must still pick it up (and never raise).
A batch whose transaction collides with another writer is rolled back and retried whole,
and the report counts it once.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

import synth.services.ingest as ingest_module
from models import Passage
from synth.engine import Engine
from synth.services.ingest import ingest_records
from tests.reliability.checks import assert_searchable
from tests.reliability.corpus_gen import build_records


def test_a_lower_passage_id_committed_late_is_indexed(fake_engine: Engine) -> None:
    ingest_records(fake_engine, build_records(6), update_indexes=False)
    with fake_engine.sessions.begin() as session:
        first_entry = session.scalar(select(Passage.entry_id).order_by(Passage.id).limit(1))
        rows = [
            {c.name: getattr(p, c.name) for c in Passage.__table__.columns}
            for p in session.scalars(select(Passage).where(Passage.entry_id == first_entry))
        ]
        session.execute(delete(Passage).where(Passage.entry_id == first_entry))
    fake_engine.open_indexes()  # the high-water mark is now above the missing ids
    with fake_engine.sessions.begin() as session:
        session.execute(insert(Passage), rows)  # ... which "commit" late
    index_set = fake_engine.open_indexes()
    with fake_engine.sessions() as session:
        assert fake_engine.search_indexes.check_saved(session).ok
    assert {r["id"] for r in rows} <= set(index_set.table.ids.tolist())
    assert_searchable(fake_engine, range(6))


def test_a_collided_batch_is_retried_and_counted_once(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest_module._store_batch
    calls = {"n": 0}

    def collide_once(*args: Any) -> None:
        calls["n"] += 1
        real(*args)
        if calls["n"] == 1:
            raise IntegrityError("INSERT INTO networks", {}, Exception("duplicate key"))

    monkeypatch.setattr(ingest_module, "_store_batch", collide_once)
    report = ingest_records(fake_engine, build_records(3))
    assert calls["n"] == 2
    assert report.created == 3 and len(report.entry_ids) == 3
    assert_searchable(fake_engine, range(3))


def test_a_persistent_integrity_error_is_raised(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always(*args: Any) -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(ingest_module, "_store_batch", always)
    with pytest.raises(IntegrityError):
        ingest_records(fake_engine, build_records(2))
