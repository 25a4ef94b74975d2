"""``synth eval topics`` through the CLI on 200 BBC documents (real model, real UMAP + HDBSCAN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

pytestmark = pytest.mark.slow

BBC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bbc_news"


def test_eval_topics_json_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not BBC.exists():
        pytest.skip(f"BBC evaluation data not found at {BBC}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    args = ["eval", "topics", "--dataset", str(BBC), "--limit", "200", "--nr-topics", "6"]
    result = CliRunner().invoke(app, [*args, "--seed", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"npmi", "diversity", "nmi", "ari", "baseline", "runs"}
    assert set(report["baseline"]) >= {"npmi", "diversity", "nmi", "ari"}
    assert report["documents"] == 200 and len(report["runs"]) == 3
    missing = CliRunner().invoke(app, ["eval", "topics", "--dataset", str(tmp_path)])
    assert missing.exit_code == 2
