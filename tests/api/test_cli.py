"""The synth CLI contracts: --json output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_stats_before_init_is_a_clear_error(env: Path) -> None:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 2
    assert "run `synth init`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_init_then_stats_json_contract(env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"entries", "passages", "networks", "organisations", "network_slugs", "kinds"} <= set(
        data
    )
    assert data["entries"] == 0 and data["network_slugs"] == [] and data["kinds"] == {}


def test_bad_setting_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_CHUNK__MAX_WORDS", "5")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert "SYNTH_CHUNK__MAX_WORDS" in result.stderr


def test_ingest_missing_path_exits_2(env: Path) -> None:
    result = runner.invoke(app, ["ingest", str(env / "missing.jsonl")])
    assert result.exit_code == 2
    assert "missing.jsonl" in result.stderr


def test_ingest_invalid_record_rejects_batch_and_names_line(env: Path) -> None:
    src = env / "in.jsonl"
    src.write_text(
        '{"id": "1", "kind": "story", "title": "Ok", "body": "Fine text."}\n'
        '{"id": "2", "kind": "memo", "title": "Bad", "body": "Bad kind."}\n'
    )
    result = runner.invoke(
        app, ["ingest", str(src), "--network", "n", "--organisation", "o", "--json"]
    )
    assert result.exit_code == 2
    assert "in.jsonl:2: field 'kind'" in result.stderr
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["entries"] == 0
