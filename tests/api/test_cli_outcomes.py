"""``synth outcomes classify`` and ``synth eval outcomes`` end to end, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()

ENTRIES = [
    {
        "id": "o-1",
        "kind": "story",
        "title": "Evening huddle",
        "body": "We started an evening huddle on the ward. It worked well and handovers were "
        "shorter. The main barrier was a lack of cover on nights. Next we will try it at weekends.",
        "network": "falls-prevention",
        "organisation": "westmoor-hospital",
    },
    {
        "id": "o-2",
        "kind": "pdsa",
        "title": "Stickers",
        "plan": "Put a sticker on every chart.",
        "study": "Done in 16 of 30. Nobody had been trained in the technique.",
        "act": "Ask the educator for a teaching slot.",
        "network": "falls-prevention",
        "organisation": "westmoor-hospital",
    },
]
TRUTH = [
    {
        "id": "o-1",
        "sentences": [
            {"text": "The main barrier was a lack of cover on nights.", "label": "barrier"},
            {"text": "Next we will try it at weekends.", "label": "next_step"},
        ],
    },
    {
        "id": "o-2",
        "sentences": [{"text": "Ask the educator for a teaching slot.", "label": "next_step"}],
    },
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTH_REDACTION__KINDS", '["email"]')
    for folder, rows in (("entries", ENTRIES), ("ground_truth", TRUTH)):
        (tmp_path / "set" / folder).mkdir(parents=True)
        (tmp_path / "set" / folder / "a.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows)
        )
    return tmp_path


def run_json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_backfill_labels_entries_ingested_without_labels(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNTH_OUTCOMES__ENABLED", "false")
    run_json(["ingest", str(env / "set" / "entries")])
    monkeypatch.setenv("SYNTH_OUTCOMES__ENABLED", "true")
    first = run_json(["outcomes", "classify"])
    assert first["entries"] == 2 and first["method"] == "hybrid"
    labels = first["labels"]
    assert isinstance(labels, dict) and labels["next_step"] >= 2 and labels["barrier"] >= 1
    assert run_json(["outcomes", "classify"])["entries"] == 0
    assert run_json(["outcomes", "classify", "--all"])["sentences"] == first["sentences"]


def test_eval_outcomes_contract(env: Path) -> None:
    data = run_json(["eval", "outcomes", "--dataset", str(env / "set")])
    for method in ("cues", "prototypes", "hybrid"):
        scores = data[method]
        assert isinstance(scores, dict)
        assert set(scores) == {"worked", "did_not_work", "barrier", "enabler", "next_step", "macro"}
        assert set(scores["macro"]) == {"precision", "recall", "f1", "support"}
    assert data["labelled"] == 3 and data["matched"] == 3 and data["sentences"] >= 8
    assert data["hybrid"]["next_step"]["recall"] == 1.0  # type: ignore[index]


def test_eval_outcomes_bad_truth_exits_2(env: Path) -> None:
    (env / "set" / "ground_truth" / "a.jsonl").write_text("{not json\n")
    result = runner.invoke(app, ["eval", "outcomes", "--dataset", str(env / "set")])
    assert result.exit_code == 2
    assert "a.jsonl:1" in result.stderr
