"""The demo corpus end to end on the real stack: CLI load, stats, redaction, API readiness."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.settings import Settings
from corpus.demo_data import DEMO_DIR
from models import Entry
from synth.store import build_db_engine, build_session_factory
from tests.conftest import copy_demo

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_store(
    demo_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, object]]:
    demo = copy_demo(demo_base, tmp_path_factory.mktemp("demo"))
    again = runner.invoke(app, ["demo", "--if-empty", "--json"], env=demo.env)
    assert again.exit_code == 0 and json.loads(again.stdout)["created"] == 0
    stats = json.loads(runner.invoke(app, ["stats", "--json"], env=demo.env).stdout)
    return demo.url, {"report": demo.load_report, "stats": stats}


def test_demo_loads_everything(demo_store: tuple[str, dict[str, object]]) -> None:
    _, data = demo_store
    report, stats = data["report"], data["stats"]
    assert report["created"] >= 300 and report["skipped_invalid"] == []  # type: ignore[index]
    assert report["truncated_passages"] == 0  # type: ignore[index]
    assert stats["entries"] == report["created"]  # type: ignore[index]
    assert stats["networks"] == 8 and stats["organisations"] >= 30  # type: ignore[index]
    assert len(stats["kinds"]) == 6  # type: ignore[index, arg-type]


def test_demo_personal_data_is_redacted(demo_store: tuple[str, dict[str, object]]) -> None:
    url, _ = demo_store
    engine = build_db_engine(url)
    with build_session_factory(engine)() as session:
        stored = {e.external_id: e.title + "\n" + e.body for e in session.scalars(select(Entry))}
    engine.dispose()
    total: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    for path in sorted((DEMO_DIR / "ground_truth").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for item in row["personal_data"]:
                total[item["type"]] += 1
                leaked[item["type"]] += item["text"] in stored[row["id"]]
    for kind in total:
        recall = 1 - leaked[kind] / total[kind]
        floor = 0.85 if kind == "PERSON" else 1.0
        assert recall >= floor, (
            f"{kind}: recall {recall:.2f} ({leaked[kind]} of {total[kind]} leaked)"
        )


def test_api_ready_on_demo_store(demo_store: tuple[str, dict[str, object]], tmp_path: Path) -> None:
    url, _ = demo_store
    with TestClient(create_app(Settings(database_url=url, data_dir=tmp_path))) as client:
        assert client.get("/ready").status_code == 200


def test_search_cli_and_index_check(
    demo_store: tuple[str, dict[str, object]], tmp_path: Path
) -> None:
    url, _ = demo_store
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTH_DATABASE_URL", url)
        mp.setenv("SYNTH_DATA_DIR", str(Path(url.removeprefix("sqlite:///")).parent / "data"))
        result = runner.invoke(
            app, ["search", "safety huddles on night shift", "--json", "-k", "8"]
        )
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert len(data["results"]) == 8
        top = data["results"][0]
        assert top["passage"]["highlights"] and "huddle" in top["passage"]["text"].lower()
        orgs = Counter(r["organisation"] for r in data["results"])
        assert max(orgs.values()) <= 2  # diversity cap
        outside = runner.invoke(
            app, ["search", "safety huddles", "--exclude-network", "falls-prevention", "--json"]
        )
        assert all(
            r["network"] != "falls-prevention" for r in json.loads(outside.stdout)["results"]
        )
        check = runner.invoke(app, ["index", "check", "--json"])
        assert check.exit_code == 0, check.stdout
        assert json.loads(check.stdout)["ok"] is True


def test_search_api_shows_public_only(demo_store: tuple[str, dict[str, object]]) -> None:
    url, _ = demo_store
    data_dir = Path(url.removeprefix("sqlite:///")).parent / "data"
    engine = build_db_engine(url)
    with build_session_factory(engine)() as session:
        visibility = {e.id: e.visibility for e in session.scalars(select(Entry))}
    engine.dispose()
    settings = Settings(database_url=url, data_dir=data_dir, allow_anonymous_read=True)
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/v1/search", params={"q": "digital self-referral", "k": 20}).json()
        assert body["results"]
        assert {visibility[r["entry_id"]] for r in body["results"]} == {"public"}
        first = body["results"][0]["entry_id"]
        similar = client.get(f"/api/v1/entries/{first}/similar", params={"other_networks": True})
        assert similar.status_code == 200
        results = similar.json()["results"]
        assert results and first not in [r["entry_id"] for r in results]
        assert all(r["network"] != body["results"][0]["network"] for r in results)
        hidden = next(i for i, v in visibility.items() if v == "private")
        problem = client.get(f"/api/v1/entries/{hidden}/similar")
        assert problem.status_code == 404
        assert problem.headers["content-type"].startswith("application/problem+json")
