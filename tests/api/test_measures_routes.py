"""``/api/v1/measures`` over a real SQLite store loaded with the demo measures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from corpus.measures import DEMO_MEASURES, read_measures
from synth.engine import build_engine
from synth.services.measures import import_measures
from synth.store import migrate

TRUTH = json.loads((DEMO_MEASURES.parent / "measures_truth.json").read_text(encoding="utf-8"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        data_dir=tmp_path / "data",
        allow_anonymous_read=True,
    )
    engine = build_engine(settings.engine_config())
    migrate(engine.db)
    batch = read_measures(DEMO_MEASURES)
    with engine.sessions.begin() as session:
        import_measures(session, batch.records, batch.problems)
    engine.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_list_measures_with_verdicts(client: TestClient) -> None:
    response = client.get("/api/v1/measures")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["measure_id"]: i["verdict"] for i in items} == {
        k: v["expected"] for k, v in TRUTH.items()
    }
    one = client.get("/api/v1/measures", params={"project": "kingsway-physio-self-referral"})
    assert [i["measure_id"] for i in one.json()["items"]] == [
        "kingsway-physio-self-referral-m1",
        "kingsway-physio-self-referral-m2",
    ]


def test_one_measure_by_slug_or_number(client: TestClient) -> None:
    by_slug = client.get("/api/v1/measures/harbourside-falls-huddle-m1").json()
    assert len(by_slug["observations"]) == 30 and len(by_slug["annotations"]) == 3
    by_id = client.get(f"/api/v1/measures/{by_slug['id']}").json()
    assert by_id["measure_id"] == "harbourside-falls-huddle-m1"


def test_analysis(client: TestClient) -> None:
    data = client.get("/api/v1/measures/kingsway-physio-self-referral-m2/analysis").json()
    assert data["verdict"] == "deterioration" and data["chart"] == "p"
    assert all({"rule", "points", "effect"} <= set(s) for s in data["signals"])
    assert data["run_chart"]["baseline"]["points"] == 12
    assert data["points"][0]["upper"] > data["points"][0]["centre"] > data["points"][0]["lower"]


def test_charts(client: TestClient) -> None:
    png = client.get("/api/v1/measures/harbourside-falls-huddle-m1/chart.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:4] == b"\x89PNG"
    svg = client.get("/api/v1/measures/harbourside-falls-huddle-m1/chart.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


def test_unknown_measure_is_a_problem_404(client: TestClient) -> None:
    response = client.get("/api/v1/measures/nope/analysis")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
