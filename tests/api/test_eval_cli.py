"""``synth eval retrieval`` on a tiny BEIR folder with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

pytestmark = pytest.mark.slow

DOCS = {
    "d1": (
        "Vitamin D and bone density",
        "Vitamin D supplements increased bone mineral density in older women.",
    ),
    "d2": (
        "Hand hygiene",
        "Alcohol hand rub reduced hospital-acquired infections on surgical wards.",
    ),
    "d3": ("Statins", "Statin therapy lowered LDL cholesterol and cardiovascular events."),
    "d4": ("Sleep and memory", "Poor sleep impaired memory consolidation in adolescents."),
    "d5": ("Exercise in depression", "Aerobic exercise reduced symptoms of depression in adults."),
}
QUERIES = {
    "q1": ("vitamin D improves bone density", "d1"),
    "q2": ("hand rub prevents infections in hospital", "d2"),
    "q3": ("statins reduce heart attacks", "d3"),
    "q4": ("exercise helps depression", "d5"),
}


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in DOCS.items())
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": t}) + "\n" for k, (t, _) in QUERIES.items())
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{k}\t{d}\t1\n" for k, (_, d) in QUERIES.items())
    )
    return folder


def test_eval_retrieval_contract_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    dataset = write_beir(tmp_path / "tiny")
    first = runner_json(["eval", "retrieval", "--dataset", str(dataset), "--json"])
    for mode in ("bm25", "dense", "hybrid"):
        assert set(first[mode]) >= {"ndcg@10", "recall@100", "mrr@10"}
        assert 0.0 <= first[mode]["ndcg@10"] <= 1.0
        assert first[mode]["recall@100"] == 1.0
    assert first["dense"]["mrr@10"] >= 0.75 and first["hybrid"]["mrr@10"] >= 0.75
    assert first["dataset"]["embedded_now"] > 0
    second = runner_json(["eval", "retrieval", "--dataset", str(dataset), "--json"])
    assert second["dataset"]["embedded_now"] == 0
    assert second["hybrid"] == first["hybrid"]


def runner_json(args: list[str]) -> dict[str, dict[str, float]]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]
