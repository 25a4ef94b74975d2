"""Probes and the one problem+json error shape."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from synth.engine import build_engine
from synth.store import migrate


def settings_for(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=tmp_path)


def assert_problem(response, status: int, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "instance", "code"}
    assert body["status"] == status and body["code"] == code
    return body  # type: ignore[no-any-return]


def test_health_answers_and_ready_waits_for_store(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        body = assert_problem(client.get("/ready"), 503, "store.unavailable")
        assert "synth init" in str(body["detail"])
        engine = build_engine(settings.engine_config())
        migrate(engine.db)
        engine.close()
        assert client.get("/ready").json() == {"status": "ready"}
        assert client.get("/health").headers["x-request-id"]


def test_unknown_route_and_method_are_problems(tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(tmp_path))) as client:
        assert_problem(client.get("/nope"), 404, "not_found")
        assert_problem(client.post("/health"), 405, "method_not_allowed")


def test_openapi_is_served(tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(tmp_path))) as client:
        spec = client.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.1")
        assert {"get_health", "get_ready"} <= {
            op["operationId"] for path in spec["paths"].values() for op in path.values()
        }
        assert client.get("/docs").status_code == 200
