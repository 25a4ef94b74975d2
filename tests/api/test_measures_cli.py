"""``synth measures`` end to end on a real SQLite store: import, list, show, analyse, chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from corpus.measures import DEMO_MEASURES

runner = CliRunner()
BASELINE = [20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19, 21]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def series_csv(path: Path, values: list[float], header: str = "date,value") -> Path:
    lines = [header] + [f"{2023 + i // 12}-{i % 12 + 1:02d}-01,{v}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_show_and_list(env: Path) -> None:
    result = runner.invoke(app, ["measures", "import", str(DEMO_MEASURES), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["measures_created"] == 28
    chart = env / "out.png"
    shown = runner.invoke(
        app,
        ["measures", "show", "greywater-structured-handover-m1", "--chart", str(chart), "--json"],
    )
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["verdict"] == "improvement" and data["chart"] == "xmr"
    assert {"shift", "beyond_limits"} <= {s["rule"] for s in data["signals"]}
    assert all(s["points"] and "period" in s["points"][0] for s in data["signals"])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listed = json.loads(runner.invoke(app, ["measures", "list", "--json"]).stdout)
    assert len(listed["measures"]) == 28
    spots = json.loads(runner.invoke(app, ["measures", "bright-spots", "--json"]).stdout)
    truth = json.loads((DEMO_MEASURES.parent / "measures_truth.json").read_text(encoding="utf-8"))
    improving = {k.rsplit("-m", 1)[0] for k, v in truth.items() if v["expected"] == "improvement"}
    assert {s["project"] for s in spots["bright_spots"]} == improving


def test_show_unknown_measure_exits_2(env: Path) -> None:
    runner.invoke(app, ["init"])
    result = runner.invoke(app, ["measures", "show", "nope"])
    assert result.exit_code == 2 and "no measure 'nope'" in result.stderr


def test_import_error_names_row_and_column_and_stores_nothing(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        "measure_id,project,measure,unit,type,better,period,value\n"
        "m1,ghost,Falls,count,count,down,2025-01-01,3\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["measures", "import", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv:2: field 'project': unknown project 'ghost'" in result.stderr
    assert json.loads(runner.invoke(app, ["measures", "list", "--json"]).stdout)["measures"] == []


def test_analyse_contract(env: Path) -> None:
    path = series_csv(env / "s.csv", [*BASELINE, 16, 17, 15, 16.5, 17, 15.5, 16])
    svg = env / "s.svg"
    result = runner.invoke(
        app,
        ["measures", "analyse", str(path), "--direction", "down", "--chart", str(svg), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "improvement"
    shift = next(s for s in data["signals"] if s["rule"] == "shift")
    assert [p["index"] for p in shift["points"]] == list(range(12, 19))
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    up = json.loads(
        runner.invoke(app, ["measures", "analyse", str(path), "--direction", "up", "--json"]).stdout
    )
    assert up["verdict"] == "deterioration"


def test_analyse_proportions_short_series_and_bad_input(env: Path) -> None:
    rows = [
        f"{2024 + i // 12}-{i % 12 + 1:02d}-01,{n / 50:.4f},{n},50"
        for i, n in enumerate([12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22])
    ]
    path = env / "p.csv"
    path.write_text("date,value,numerator,denominator\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = json.loads(
        runner.invoke(
            app, ["measures", "analyse", str(path), "--direction", "down", "--json"]
        ).stdout
    )
    assert data["chart"] == "p" and data["type"] == "proportion"
    short = series_csv(env / "short.csv", [1, 2, 3])
    data = json.loads(
        runner.invoke(
            app, ["measures", "analyse", str(short), "--direction", "up", "--json"]
        ).stdout
    )
    assert data["verdict"] == "not enough data" and data["signals"] == []
    bad = series_csv(env / "bad.csv", [1, "x"])  # type: ignore[list-item]
    result = runner.invoke(app, ["measures", "analyse", str(bad), "--direction", "up"])
    assert result.exit_code == 2 and "bad.csv:3: field 'value'" in result.stderr
    wrong = runner.invoke(app, ["measures", "analyse", str(short), "--direction", "left"])
    assert wrong.exit_code == 2


def test_project_small_multiples(env: Path) -> None:
    runner.invoke(app, ["measures", "import", str(DEMO_MEASURES)])
    out = env / "k.svg"
    result = runner.invoke(
        app, ["measures", "chart", "kingsway-physio-self-referral", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("improvement") >= 1
