"""Indexes follow other processes' writes within ``refresh_seconds``; shared folders stay whole.

Two engines on one store stand in for two processes (each keeps its own in-memory indexes);
the folder-lock test uses threads, each with its own lock file handle, which ``flock``
serialises exactly as it does separate processes.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

import synth.search.indexes as indexes_module
from models import Entry
from synth.config import IndexConfig
from synth.engine import Engine, build_engine
from synth.index.manifest import load_manifest
from synth.search.indexes import SearchIndexes
from synth.services.entries import delete_entry
from synth.services.ingest import ingest_records
from synth.services.keys import Principal, Scope
from tests.conftest import HashingEmbedder
from tests.reliability.corpus_gen import build_records


def _replica(writer: Engine, tmp_path: Path, *, refresh_seconds: float) -> Engine:
    """A second engine on the writer's store with its own data folder and indexes."""
    config = writer.config.model_copy(
        update={
            "data_dir": str(tmp_path / "replica"),
            "index": IndexConfig(refresh_seconds=refresh_seconds),
        }
    )
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    return engine


def _entry_ids(engine: Engine) -> set[int]:
    table = engine.indexes_for_search().table
    return {int(e) for e in table.entry_of(table.ids)}


def _stored_entry_ids(engine: Engine) -> set[int]:
    with engine.sessions() as session:
        return set(session.scalars(select(Entry.id)))


def test_a_write_elsewhere_shows_once_the_refresh_is_due(
    fake_engine: Engine, tmp_path: Path
) -> None:
    ingest_records(fake_engine, build_records(2))
    replica = _replica(fake_engine, tmp_path, refresh_seconds=3600)
    try:
        before = _entry_ids(replica)
        assert before == _stored_entry_ids(fake_engine)
        ingest_records(fake_engine, build_records(4)[2:])
        assert _entry_ids(replica) == before  # not due: the indexes in hand are served
        replica.search_indexes._checked_at = float("-inf")  # the interval has passed
        assert _entry_ids(replica) == _stored_entry_ids(fake_engine)
        assert len(_entry_ids(replica)) == 4
    finally:
        replica.close()


def test_writes_and_deletes_show_within_the_interval(fake_engine: Engine, tmp_path: Path) -> None:
    ingest_records(fake_engine, build_records(2))
    replica = _replica(fake_engine, tmp_path, refresh_seconds=0.3)
    try:
        _entry_ids(replica)
        report = ingest_records(fake_engine, build_records(3)[2:])
        new_id = report.entry_ids[0]
        deadline = time.monotonic() + 0.3 + 5.0  # the interval plus a margin for a busy machine
        while new_id not in _entry_ids(replica):
            assert time.monotonic() < deadline, "the new entry never became searchable"
            time.sleep(0.05)
        admin = Principal(key_id=None, name="admin", scopes=frozenset({Scope.ADMIN}))
        delete_entry(fake_engine, admin, new_id)
        deadline = time.monotonic() + 0.3 + 5.0
        while new_id in _entry_ids(replica):
            assert time.monotonic() < deadline, "the deleted entry stayed searchable"
            time.sleep(0.05)
    finally:
        replica.close()


def test_an_unchanged_store_costs_only_the_signature(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_records(fake_engine, build_records(3))
    fake_engine.open_indexes()
    reads = {"n": 0}
    real = indexes_module._read_rows

    def counted(*args: object, **kwargs: object) -> object:
        reads["n"] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(indexes_module, "_read_rows", counted)
    for _ in range(5):
        fake_engine.open_indexes()
    assert reads["n"] == 0
    ingest_records(fake_engine, build_records(4)[3:], update_indexes=False)
    fake_engine.open_indexes()
    assert reads["n"] == 1


def test_an_equal_generation_is_not_written_twice(fake_engine: Engine, tmp_path: Path) -> None:
    ingest_records(fake_engine, build_records(3))
    folder = fake_engine.search_indexes._folder
    saved = (folder / "CURRENT").read_text()
    other = SearchIndexes(folder, IndexConfig(), HashingEmbedder.name, HashingEmbedder.dim)
    with fake_engine.sessions() as session:
        other.open(session)  # same store state: loads, finds nothing to apply
        other.rebuild(session)  # rebuilt, equal content: the saved generation stays
    assert (folder / "CURRENT").read_text() == saved
    assert load_manifest(folder / saved).passage_count == len(other.current.table)  # type: ignore[union-attr]


def test_a_process_never_reads_a_generation_another_is_replacing(fake_engine: Engine) -> None:
    ingest_records(fake_engine, build_records(3))
    manager = fake_engine.search_indexes
    base = manager.current
    assert base is not None
    reader = SearchIndexes(
        manager._folder, IndexConfig(), HashingEmbedder.name, HashingEmbedder.dim
    )
    errors: list[BaseException] = []
    done = threading.Event()

    def read_repeatedly() -> None:
        while not done.is_set():
            try:
                assert reader._read_saved() is not None
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=read_repeatedly)
    thread.start()
    try:
        for k in range(1, 41):  # each save is a new generation; the old one is removed
            manifest = dataclasses.replace(base.manifest, last_deletion_id=k)
            manager._save(dataclasses.replace(base, manifest=manifest))
    finally:
        done.set()
        thread.join()
    assert errors == []
    assert len(list(manager._folder.glob("gen-*"))) == 1
