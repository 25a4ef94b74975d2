"""Serving speed-ups keep behaviour: the query cache, plain-ASGI middleware, `serve --workers`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import api.app
from api.imports import REBUILD_JOB
from models import Job
from synth.config import EngineConfig
from synth.embedding import QueryCachingEmbedder
from synth.engine import Engine, build_engine
from synth.services.jobs import create_job
from synth.store import build_db_engine, build_session_factory
from tests.api.stack import NO_NER, Stack, _record, seed, stack_settings
from tests.conftest import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]


def _cached_engine(config: EngineConfig) -> Engine:
    engine = build_engine(config)
    engine.__dict__["embedder"] = QueryCachingEmbedder(HashingEmbedder(), 16)
    return engine


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_a_repeated_query_is_served_from_the_cache_with_the_same_answer(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    keys, _ = seed(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", _cached_engine)
        with TestClient(api.app.create_app(settings)) as client:
            stack = Stack(client=client, settings=settings, keys=keys, ids={})
            first = stack.call("reader", "GET", "/api/v1/search", params={"q": "falls huddles"})
            again = stack.call(
                "reader",
                "GET",
                "/api/v1/search",
                params={"q": "  falls   huddles "},
                headers={"x-request-id": "abc123"},
            )
            metrics = client.get("/metrics").text
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert [h["entry_id"] for h in first.json()["results"]] == [
        h["entry_id"] for h in again.json()["results"]
    ]
    assert first.json()["results"], "the seeded entries match"
    assert again.headers["x-request-id"] == "abc123" and len(first.headers["x-request-id"]) == 32
    assert _metric(metrics, "synth_query_cache_hits_total") == 1
    assert _metric(metrics, "synth_query_cache_misses_total") == 1
    assert _metric(metrics, "synth_query_cache_entries") == 1
    route = 'synth_http_requests_total{method="GET",route="/api/v1/search",status="200"}'
    assert _metric(metrics, route) == 2


def test_errors_are_counted_under_their_route(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    seed(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", _cached_engine)
        with TestClient(api.app.create_app(settings)) as client:
            bad = client.get("/api/v1/search", params={"q": "x", "k": 0})
            missing = client.get("/no/such/page", headers={"accept": "application/json"})
            metrics = client.get("/metrics").text
    assert bad.status_code == 422 and bad.headers["x-request-id"]
    assert missing.status_code == 404
    assert _metric(
        metrics, 'synth_http_requests_total{method="GET",route="/api/v1/search",status="422"}'
    )
    assert _metric(
        metrics, 'synth_http_requests_total{method="GET",route="unmatched",status="404"}'
    )


def _stale_jobs(settings_url: str, api_key_id: int | None = None) -> tuple[str, str]:
    """A job left 'running' by a dead process, and one still queued; return their ids."""
    engine = build_db_engine(settings_url)
    with build_session_factory(engine).begin() as session:
        running = create_job(session, kind=REBUILD_JOB, params={}, api_key_id=api_key_id)
        queued = create_job(session, kind=REBUILD_JOB, params={}, api_key_id=api_key_id)
        job = session.get(Job, running.id)
        assert job is not None
        job.state = "running"
    engine.dispose()
    return running.id, queued.id


def _state(settings_url: str, job_id: str) -> str:
    engine = build_db_engine(settings_url)
    with build_session_factory(engine)() as session:
        job = session.get(Job, job_id)
        assert job is not None
        state = job.state
    engine.dispose()
    return state


def test_a_worker_app_leaves_job_recovery_to_its_parent(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    seed(settings)
    running, queued = _stale_jobs(settings.database_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", _cached_engine)
        with TestClient(api.app.create_app(settings, recover_jobs=False)) as client:
            assert client.get("/ready").status_code == 200
    assert _state(settings.database_url, running) == "running"  # maybe another worker's
    assert _state(settings.database_url, queued) == "queued"


@pytest.mark.slow
def test_serve_with_two_workers(tmp_path: Path) -> None:
    """`synth serve --workers 2`: both processes search the store; the parent recovers jobs."""
    settings = stack_settings(tmp_path, embedding_backend="torch")
    reader = _seed_real(build_engine(settings.engine_config()))  # torch: no ONNX export
    running, queued = _stale_jobs(settings.database_url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTH_")}
    env.update(
        {
            "SYNTH_DATABASE_URL": settings.database_url,
            "SYNTH_DATA_DIR": str(settings.data_dir),
            "SYNTH_EMBEDDING_BACKEND": "torch",
            "SYNTH_REDACTION__KINDS": json.dumps([k.value for k in NO_NER.kinds]),
            "SYNTH_RATE_LIMIT_PER_MINUTE": "0",
        }
    )
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "synth"),
                "serve",
                "--port",
                str(port),
                "--workers=2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, server, tmp_path / "serve.log")
        workers = _worker_pids(server.pid)
        assert len(workers) == 2, workers
        headers = {"Authorization": f"Bearer {reader}", "Connection": "close"}
        for _ in range(6):  # new connections: either worker may answer
            response = httpx.get(
                f"{base}/api/v1/search", params={"q": "falls huddles"}, headers=headers
            )
            assert response.status_code == 200
            assert response.json()["results"]
        assert _state(settings.database_url, running) == "failed"  # recovered once, by the parent
        deadline = time.monotonic() + 120
        while _state(settings.database_url, queued) in ("queued", "running"):
            assert time.monotonic() < deadline, "the queued job never ran"
            time.sleep(0.5)
        assert _state(settings.database_url, queued) == "succeeded"
    finally:
        server.terminate()
        server.wait(60)


def _seed_real(engine: Engine) -> str:
    """The stack's directory and entries, embedded by the real model; return a read key."""
    from synth.services.directory import load_directory
    from synth.services.ingest import ingest_records
    from synth.services.keys import create_key
    from synth.store import migrate
    from synth.types import DirectoryEntry
    from tests.api.stack import ENTRIES

    migrate(engine.db)
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=[DirectoryEntry(s, s.upper()) for s in ("net-a", "net-b", "net-c")],
            organisations=[DirectoryEntry(s, s.upper()) for s in ("org-a1", "org-b1", "org-c1")],
            projects=[DirectoryEntry("huddles-a", "Huddles A", "net-a", "org-a1")],
            memberships=[("org-a1", "net-a"), ("org-b1", "net-b"), ("org-c1", "net-c")],
        )
        reader = create_key(session, name="reader", scopes=["read"], networks=["net-a"])[1]
    ingest_records(engine, [_record(n, *spec) for n, spec in ENTRIES.items()])
    engine.close()
    return reader


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240
    answered = 0
    while answered < 8:  # several new connections: both workers must be up
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        try:
            ok = httpx.get(f"{base}/ready", headers={"Connection": "close"}).status_code == 200
        except httpx.HTTPError:
            ok = False
        answered = answered + 1 if ok else 0
        time.sleep(0.1 if ok else 0.5)


def _worker_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"multiprocessing.spawn" in cmdline:
            pids.append(int(entry.name))
    return pids
