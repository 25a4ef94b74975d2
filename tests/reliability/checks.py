"""What every restart after a crash must find: complete entries, searchable, indexes in step."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import api.cli_common
from api.cli import app
from models import Entry, Passage
from synth.config import EngineConfig
from synth.core.chunking import with_title
from synth.engine import Engine
from synth.search.query import SearchQuery, Viewer
from synth.search.service import search_entries
from tests.conftest import HashingEmbedder
from tests.reliability.corpus_gen import external_id, marker


def stored_external_ids(engine: Engine) -> list[str]:
    """Every entry's source id (duplicates kept, so a test can count them)."""
    with engine.sessions() as session:
        return [str(e) for e in session.scalars(select(Entry.external_id))]


def assert_no_partial_entry(engine: Engine) -> None:
    """Every entry has passages that tile its whole body, each with a full embedding."""
    with engine.sessions() as session:
        bodies = {r.id: r.body for r in session.execute(select(Entry.id, Entry.body))}
        rows = session.execute(
            select(
                Passage.entry_id,
                Passage.ordinal,
                Passage.start,
                Passage.end,
                Passage.text,
                func.length(Passage.embedding),
            ).order_by(Passage.entry_id, Passage.ordinal)
        ).all()
    passages: dict[int, list[tuple[int, int, int, str, int]]] = {}
    for entry_id, *rest in rows:
        passages.setdefault(entry_id, []).append(tuple(rest))  # type: ignore[arg-type]
    assert set(passages) == set(bodies), "an entry without passages, or passages without entry"
    for entry_id, body in bodies.items():
        parts = passages[entry_id]
        assert [p[0] for p in parts] == list(range(len(parts))), f"entry {entry_id}: ordinals"
        covered = 0
        for _, start, end, text, blob_len in parts:
            assert blob_len == HashingEmbedder.dim * 4, f"entry {entry_id}: truncated vector"
            assert body[start:end] == text, f"entry {entry_id}: passage text"
            assert not body[covered:start].strip(), f"entry {entry_id}: text missing"
            covered = end
        assert not body[covered:].strip(), f"entry {entry_id}: the body's end has no passage"


def assert_searchable(engine: Engine, numbers: Iterable[int]) -> None:
    """Each entry is found first by BM25 (its marker word) and by dense search (its text)."""
    index_set = engine.search_indexes.current
    assert index_set is not None
    with engine.sessions() as session:
        first = {
            r.external_id: (r.id, with_title(r.title, r.text))
            for r in session.execute(
                select(Entry.external_id, Entry.id, Entry.title, Passage.text)
                .join(Passage, Passage.entry_id == Entry.id)
                .where(Passage.ordinal == 0)
            )
        }
        for number in numbers:
            wanted, text = first[external_id(number)]
            for mode, query_text in (("bm25", marker(number)), ("dense", text)):
                query = SearchQuery(text=query_text, k=1, per_organisation=0, mode=mode)
                hits = search_entries(
                    session,
                    index_set,
                    engine.embedder,
                    query,
                    viewer=Viewer.operator(),
                    config=engine.config.search,
                )
                found = [hit.entry_id for hit in hits]
                assert found == [wanted], f"{mode} search misses {external_id(number)}: {found}"


def index_check(config: EngineConfig, engine_factory: object) -> dict[str, object]:
    """Run ``synth index check --json`` on the store of ``config`` with the test embedder."""
    runner = CliRunner()
    env = {"SYNTH_DATABASE_URL": config.database_url, "SYNTH_DATA_DIR": config.data_dir}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.cli_common, "build_engine", engine_factory)
        result = runner.invoke(app, ["index", "check", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report
