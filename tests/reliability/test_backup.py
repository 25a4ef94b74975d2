"""``synth export`` / ``synth import``: a lossless round trip, refusals, and damage detection.

The end-to-end test loads the demo corpus (directory, 320 entries, 28 measures) through the
CLI with the hashing embedder from ``tests/conftest.py`` (no model download; what matters is
that every stored byte comes back), fits topics, creates a key, exports, imports into a fresh
store (SQLite, and PostgreSQL when reachable), exports again and compares the folders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

import api.cli_common
from api.cli import app
from models import Entry, Passage, PassageDeletion, PassageTopic, Theme
from synth.config import EngineConfig
from synth.engine import Engine
from synth.services.backup import BackupError, export_store, import_store
from synth.services.ingest import ingest_records
from synth.store import migrate
from tests.reliability.checks import assert_searchable
from tests.reliability.corpus_gen import build_records
from tests.reliability.crash_worker import build_test_engine

runner = CliRunner()
#: The only manifest field that differs between two exports of the same store.
VOLATILE = ("exported_at",)


def hashing_cli_engine(config: EngineConfig) -> Engine:
    return build_test_engine(config.database_url, config.data_dir)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(api.cli_common, "build_engine", hashing_cli_engine)
    monkeypatch.setenv("SYNTH_REDACTION__KINDS", '["email","phone","postcode","nhs_number"]')
    yield


def invoke(url: str, data: Path, *args: str) -> dict[str, object]:
    env = {"SYNTH_DATABASE_URL": url, "SYNTH_DATA_DIR": str(data)}
    as_json = args[0] != "init"
    result = runner.invoke(app, [*args, "--json"] if as_json else list(args), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if as_json else {}


def folder_bytes(folder: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    manifest = json.loads(files.pop("manifest.json"))
    for key in VOLATILE:
        manifest.pop(key)
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return files


@pytest.mark.slow
@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_demo_store_round_trips_byte_for_byte(
    cli: None, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    invoke(source, tmp_path / "d1", "init")
    invoke(source, tmp_path / "d1", "demo")
    invoke(source, tmp_path / "d1", "topics", "fit")
    invoke(source, tmp_path / "d1", "keys", "create", "--name", "ops", "--scopes", "read")
    first = invoke(source, tmp_path / "d1", "export", str(tmp_path / "one"))
    tables = first["tables"]
    assert isinstance(tables, dict)
    assert tables["entries"] == 320 and tables["measures"] == 28 and tables["api_keys"] == 1
    assert tables["topic_runs"] == 1 and tables["themes"] > 0 and tables["sentence_outcomes"] > 0
    url = f"sqlite:///{tmp_path / 'target.db'}"
    if target == "postgresql":
        from tests.conftest import _truncate_all

        url = request.getfixturevalue("pg_server_url")
        engine = hashing_cli_engine(EngineConfig(database_url=url))
        migrate(engine.db)
        _truncate_all(engine)
        engine.close()
    invoke(url, tmp_path / "d2", "init")
    imported = invoke(url, tmp_path / "d2", "import", str(tmp_path / "one"))
    assert imported["tables"] == tables
    invoke(url, tmp_path / "d2", "export", str(tmp_path / "two"))
    assert folder_bytes(tmp_path / "one") == folder_bytes(tmp_path / "two")
    search = invoke(url, tmp_path / "d2", "search", "safety huddle falls at night", "-k", "3")
    assert search["results"]
    assert invoke(url, tmp_path / "d2", "index", "check")["ok"] is True


def test_entries_passages_embeddings_and_feed_survive(fake_engine: Engine, tmp_path: Path) -> None:
    records = build_records(12)
    ingest_records(fake_engine, records)
    changed = records[3].__class__(**{**_fields(records[3]), "body": records[3].body + " More."})
    ingest_records(fake_engine, [changed])  # an update: old passage ids in the deletion feed
    with fake_engine.sessions.begin() as session:  # a near duplicate pointing at a later entry
        first, last = session.scalars(select(Entry.id).order_by(Entry.id)).all()[::11]
        session.execute(update(Entry).where(Entry.id == first).values(near_duplicate_of=last))
    export_store(fake_engine.db, tmp_path / "one")
    target = build_test_engine(f"sqlite:///{tmp_path / 't.db'}", str(tmp_path / "t"))
    migrate(target.db)
    import_store(target.db, tmp_path / "one")
    with fake_engine.sessions() as a, target.sessions() as b:
        for column in (Passage.id, Passage.embedding, Passage.text, Entry.near_duplicate_of):
            query = select(column)
            assert sorted(map(repr, a.scalars(query))) == sorted(map(repr, b.scalars(query)))
        assert b.scalar(select(func.count()).select_from(PassageDeletion)) > 0
    target.open_indexes()
    assert_searchable(target, range(12))
    ingest_records(target, build_records(14)[12:])  # new ids continue after the restored ones
    assert_searchable(target, range(14))
    target.close()


def _fields(record: object) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


def test_non_empty_store_is_refused_unless_replace(fake_engine: Engine, tmp_path: Path) -> None:
    ingest_records(fake_engine, build_records(3), update_indexes=False)
    export_store(fake_engine.db, tmp_path / "one")
    with pytest.raises(BackupError, match="not empty"):
        import_store(fake_engine.db, tmp_path / "one")
    ingest_records(fake_engine, build_records(5)[3:], update_indexes=False)
    report = import_store(fake_engine.db, tmp_path / "one", replace=True)
    assert report.tables["entries"] == 3
    with fake_engine.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 3


def test_export_refuses_a_non_empty_folder(fake_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        export_store(fake_engine.db, tmp_path / "one")


def test_damaged_or_foreign_backup_changes_nothing(fake_engine: Engine, tmp_path: Path) -> None:
    ingest_records(fake_engine, build_records(3), update_indexes=False)
    export_store(fake_engine.db, tmp_path / "one")
    target = build_test_engine(f"sqlite:///{tmp_path / 't.db'}", str(tmp_path / "t"))
    migrate(target.db)
    entries = tmp_path / "one" / "entries.jsonl"
    original = entries.read_bytes()
    entries.write_bytes(original.replace(b"Note", b"Nope", 1))
    with pytest.raises(BackupError, match="checksum"):
        import_store(target.db, tmp_path / "one")
    entries.write_bytes(original)
    with pytest.raises(BackupError, match=r"no manifest\.json"):
        import_store(target.db, tmp_path)
    manifest = tmp_path / "one" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_revision"] = "0000"
    manifest.write_text(json.dumps(data))
    with pytest.raises(BackupError, match="schema revision 0000"):
        import_store(target.db, tmp_path / "one")
    with target.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0
    target.close()


def test_a_failure_midway_rolls_the_whole_import_back(fake_engine: Engine, tmp_path: Path) -> None:
    ingest_records(fake_engine, build_records(3), update_indexes=False)
    export_store(fake_engine.db, tmp_path / "one")
    passages = tmp_path / "one" / "passages.jsonl"
    lines = passages.read_bytes().splitlines(keepends=True)
    passages.write_bytes(b"".join([*lines, lines[0]]))  # a repeated primary key, late on
    manifest = tmp_path / "one" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["tables"]["passages"]["sha256"] = hashlib.sha256(passages.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data))
    target = build_test_engine(f"sqlite:///{tmp_path / 't.db'}", str(tmp_path / "t"))
    migrate(target.db)
    with pytest.raises(Exception, match=r"(?i)unique"):
        import_store(target.db, tmp_path / "one")
    with target.sessions() as session:
        for model in (Entry, Passage, Theme, PassageTopic):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    target.close()
