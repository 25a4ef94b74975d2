"""The BM25 index follows ingests and deletions without a full rebuild, scoring as one would."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from models import Entry
from synth.config import IndexConfig
from synth.engine import Engine, build_engine
from synth.index.dense import DENSE_HNSW
from synth.index.lexical import LexicalIndex
from synth.services.entries import delete_entry
from synth.services.ingest import ingest_records
from synth.services.keys import Principal, Scope
from synth.types import SourceRef, build_entry_record
from tests.conftest import HashingEmbedder
from tests.synth.search.test_search_service import records

ADMIN = Principal(key_id=None, name="admin", scopes=frozenset({Scope.ADMIN}))


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the passage count of every full BM25 build from now on."""
    builds: list[int] = []
    original = LexicalIndex.build

    def counting(self: LexicalIndex, ids: object, texts: list[str]) -> LexicalIndex:
        builds.append(len(texts))
        return original(self, ids, texts)  # type: ignore[arg-type]

    monkeypatch.setattr(LexicalIndex, "build", counting)
    return builds


def test_one_new_entry_is_added_to_bm25_without_a_rebuild(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_records(fake_engine, records())
    builds = _count_builds(monkeypatch)
    new = build_entry_record(
        {
            "id": "e1",
            "kind": "story",
            "title": "Tea rounds",
            "body": "Afternoon tea rounds got patients walking on the night ward.",
            "network": "care-at-home",
            "organisation": "hillcrest-home-support",
            "visibility": "public",
        },
        source=SourceRef(file="t.jsonl", line=20),
    )
    ingest_records(fake_engine, [new])
    with fake_engine.sessions() as session:
        gone = session.scalar(select(Entry.id).where(Entry.external_id == "a2"))
    assert gone is not None
    delete_entry(fake_engine, ADMIN, gone)
    incremental = fake_engine.open_indexes().lexical
    assert builds == []  # only the new passages were tokenised
    fake_engine.search_indexes._current = None  # a cold build, from the store's texts
    with fake_engine.sessions() as session:
        rebuilt = fake_engine.search_indexes.rebuild(session).lexical
    assert builds  # the rebuild did build
    assert sorted(incremental.ids().tolist()) == sorted(rebuilt.ids().tolist())
    for query in ("night huddles", "tea rounds", "ward", "hydration prompts"):
        got, want = dict(incremental.search(query, 50)), dict(rebuilt.search(query, 50))
        assert got.keys() == want.keys(), query
        assert [got[i] for i in sorted(got)] == pytest.approx([want[i] for i in sorted(want)])


def test_compacting_the_graph_keeps_the_bm25_index(
    fake_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fake_engine.config.model_copy(
        update={
            "data_dir": str(tmp_path / "hnsw"),
            "index": IndexConfig(hnsw_threshold=0, hnsw_m=8, rebuild_tombstone_share=0.01),
        }
    )
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    try:
        ingest_records(engine, records())
        assert engine.open_indexes().dense.kind == DENSE_HNSW
        builds: list[int] = []
        original = LexicalIndex.build

        def counting(self: LexicalIndex, ids: object, texts: list[str]) -> LexicalIndex:
            builds.append(len(texts))
            return original(self, ids, texts)  # type: ignore[arg-type]

        monkeypatch.setattr(LexicalIndex, "build", counting)
        with engine.sessions() as session:
            gone = session.scalar(select(Entry.id).where(Entry.external_id == "a2"))
        assert gone is not None
        delete_entry(engine, ADMIN, gone)
        compacted = engine.open_indexes()
        assert compacted.dense.tombstones == 0  # rebuilt without the deleted passages
        assert builds == []  # BM25 followed the deletion instead of being rebuilt
        assert sorted(compacted.lexical.ids().tolist()) == compacted.table.ids.tolist()
    finally:
        engine.close()


def test_a_rebuild_catches_up_the_bm25_index_it_holds(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_records(fake_engine, records()[:5])
    held = fake_engine.open_indexes().lexical
    original = LexicalIndex.build
    builds = _count_builds(monkeypatch)
    with fake_engine.search_indexes._lock:  # written behind the indexes' back
        fake_engine.search_indexes._applied = None
        ingest_records(fake_engine, records()[5:])
    with fake_engine.sessions() as session:
        caught_up = fake_engine.search_indexes.rebuild(session).lexical
    assert caught_up is not held and builds == []
    monkeypatch.setattr(LexicalIndex, "build", original)
    with fake_engine.sessions() as session:
        fake_engine.search_indexes._current = None
        cold = fake_engine.search_indexes.rebuild(session).lexical
    for query in ("night huddles", "hydration prompts", "ward"):
        got, want = dict(caught_up.search(query, 50)), dict(cold.search(query, 50))
        assert got.keys() == want.keys(), query
        assert [got[i] for i in sorted(got)] == pytest.approx([want[i] for i in sorted(want)])
