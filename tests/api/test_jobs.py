"""Background jobs: bulk JSON/JSONL and uploads as 202 + job, restart recovery, retry, rebuild."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.app
from models import Job
from synth.config import EngineConfig
from synth.engine import Engine, build_engine
from synth.services.jobs import (
    JobProgress,
    JobState,
    JobStateError,
    ThreadJobRunner,
    create_job,
    get_job,
    recover_jobs,
    retry_job,
    run_job,
)
from synth.store import build_db_engine, build_session_factory, migrate
from tests.api.stack import Stack, hashing_engine, running_stack
from tests.api.test_health_and_errors import assert_problem


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


def record(i: int, **extra: object) -> dict[str, object]:
    return {
        "kind": "pdsa",
        "title": f"Sepsis screen cycle {i}",
        "plan": f"Screen every admission with the tool, cycle {i} on ward {i}.",
        "study": f"Screening reached {60 + i} per cent of admissions.",
        **extra,
    }


def search_titles(stack: Stack, who: str, q: str) -> list[str]:
    response = stack.call(
        who, "GET", "/api/v1/search", params={"q": q, "k": 20, "per_organisation": 0}
    )
    return [h["title"] for h in response.json()["results"]]


def test_bulk_json_is_a_job_and_lands_in_search(stack: Stack) -> None:
    response = stack.call(
        "writer", "POST", "/api/v1/entries/bulk", json={"entries": [record(i) for i in range(3)]}
    )
    assert response.status_code == 202, response.text
    job = stack.wait_job("writer", response.json()["id"])
    assert job["state"] == "succeeded" and job["result"]["created"] == 3
    assert job["progress"] == {"done": 3, "total": 3} and job["attempts"] == 1
    assert "Sepsis screen cycle 1" in search_titles(stack, "writer", "sepsis screening admissions")
    # The job is the writer's: another key sees a 404, the admin sees it.
    assert_problem(stack.call("reader", "GET", f"/api/v1/jobs/{job['id']}"), 404, "not_found")
    assert stack.call("admin", "GET", f"/api/v1/jobs/{job['id']}").status_code == 200


def test_bulk_jsonl_and_per_record_errors(stack: Stack) -> None:
    lines = "\n".join(json.dumps(record(i)) for i in range(10, 12))
    ok = stack.call(
        "writer",
        "POST",
        "/api/v1/entries/bulk",
        content=lines,
        headers={"content-type": "application/x-ndjson"},
    )
    assert stack.wait_job("writer", ok.json()["id"])["result"]["created"] == 2
    bad = [
        record(20),
        {"kind": "memo", "title": "x", "body": "y"},
        record(21, id="a"),
        record(22, id="a"),
    ]
    response = stack.call("writer", "POST", "/api/v1/entries/bulk", json=bad)
    body = assert_problem(response, 422, "request.invalid")
    assert ["body", 1, "kind"] in [e["loc"] for e in body["errors"]]  # type: ignore[union-attr]
    dup = stack.call("writer", "POST", "/api/v1/entries/bulk", json=bad[2:])
    assert ["body", 1, "id"] in [e["loc"] for e in dup.json()["errors"]]
    forbidden = stack.call(
        "writer", "POST", "/api/v1/entries/bulk", json=[record(30, network="net-a")]
    )
    assert_problem(forbidden, 403, "auth.forbidden")
    not_json = stack.call(
        "writer",
        "POST",
        "/api/v1/entries/bulk",
        content=b"{",
        headers={"content-type": "application/json"},
    )
    assert_problem(not_json, 422, "request.invalid")


def test_upload_csv_and_markdown(stack: Stack) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "kind", "title", "body"])
    writer.writeheader()
    writer.writerow(
        {
            "id": "csv-1",
            "kind": "insight",
            "title": "Red bags",
            "body": "Red bags kept medicines with patients moving from care homes to hospital.",
        }
    )
    writer.writerow(
        {
            "id": "csv-2",
            "kind": "insight",
            "title": "Blue folders",
            "body": "Blue folders held the care plan so ambulance crews could read it.",
        }
    )
    response = stack.call(
        "writer",
        "POST",
        "/api/v1/entries/upload",
        files={"file": ("team notes.csv", out.getvalue().encode(), "text/csv")},
    )
    assert response.status_code == 202, response.text
    assert stack.wait_job("writer", response.json()["id"])["result"]["created"] == 2
    assert "Red bags" in search_titles(stack, "writer", "red bags medicines care homes")
    md = (
        b"---\nkind: story\nvisibility: public\n---\n# Night huddle\n\n"
        b"We met at 2am to review early warning scores.\n"
    )
    response = stack.call(
        "writer",
        "POST",
        "/api/v1/entries/upload",
        files={"file": ("huddle.md", md, "text/markdown")},
    )
    assert stack.wait_job("writer", response.json()["id"])["state"] == "succeeded"
    assert "Night huddle" in search_titles(stack, "anonymous", "early warning scores night")
    invalid = b"id,kind,title,body\n1,memo,T,B\n"
    response = stack.call(
        "writer", "POST", "/api/v1/entries/upload", files={"file": ("bad.csv", invalid, "text/csv")}
    )
    body = assert_problem(response, 422, "corpus.invalid")
    assert body["problems"] == [
        "bad.csv:2: field 'kind': 'memo' is not one of: "
        "reflection, story, case_study, pdsa, evaluation, insight"
    ]
    assert not list((stack.settings.data_dir / "uploads").glob("*/bad.csv"))


def test_index_rebuild_is_an_admin_job(stack: Stack) -> None:
    assert_problem(stack.call("writer", "POST", "/api/v1/index/rebuild"), 403, "auth.forbidden")
    response = stack.call("admin", "POST", "/api/v1/index/rebuild")
    assert response.status_code == 202
    job = stack.wait_job("admin", response.json()["id"])
    assert job["state"] == "succeeded" and job["result"]["passages"] >= 5
    assert_problem(stack.call("admin", "POST", f"/api/v1/jobs/{job['id']}/retry"), 409, "job.state")
    assert 'synth_jobs{state="succeeded"}' in stack.client.get("/metrics").text


def test_interrupted_job_is_failed_at_start_up_and_can_be_retried(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        job_id = stack.call("writer", "POST", "/api/v1/entries/bulk", json=[record(40)]).json()[
            "id"
        ]
        stack.wait_job("writer", job_id)
    engine = build_db_engine(stack.settings.database_url)
    with build_session_factory(engine).begin() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.state = "running"  # as if the process died mid-job
        queued = create_job(
            session,
            kind="entries.import",
            params={
                "records": [record(41)],
                "defaults": {"network": "net-b", "organisation": "org-b1"},
            },
            api_key_id=job.api_key_id,
        )
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:  # the same store, served again
        patch.setattr(api.app, "build_engine", hashing_engine)
        with TestClient(api.app.create_app(stack.settings)) as client:
            restarted = Stack(
                client=client, settings=stack.settings, keys=stack.keys, ids=stack.ids
            )
            failed = restarted.call("writer", "GET", f"/api/v1/jobs/{job_id}").json()
            assert failed["state"] == "failed" and "retry" in failed["error"]
            # A job still queued at shutdown runs after the restart.
            late = restarted.wait_job("writer", queued.id)
            assert late["state"] == "succeeded", late["error"]
            assert late["result"]["created"] == 1
            retried = restarted.call("writer", "POST", f"/api/v1/jobs/{job_id}/retry")
            assert retried.status_code == 202 and retried.json()["state"] == "queued"
            done = restarted.wait_job("writer", job_id)
            assert done["state"] == "succeeded" and done["attempts"] == 2
            assert done["result"]["duplicates"] == 1  # same text again: stored once


def _boom(engine: Engine, params: Mapping[str, Any], progress: JobProgress) -> dict[str, Any]:
    progress.start(2, "exploding")
    raise RuntimeError("secret internals")


def test_runner_records_failures_without_internals(tmp_path: Path) -> None:
    engine = build_engine(
        EngineConfig(database_url=f"sqlite:///{tmp_path / 'j.db'}", data_dir=str(tmp_path))
    )
    migrate(engine.db)
    with engine.sessions.begin() as session:
        job = create_job(session, kind="boom", params={}, api_key_id=None)
        other = create_job(session, kind="unknown", params={}, api_key_id=None)
    runner = ThreadJobRunner(engine, {"boom": _boom})
    runner.start()
    runner.submit(job.id)
    runner.submit(other.id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.sessions() as session:
            if get_job(session, other.id).state == JobState.FAILED:
                break
        time.sleep(0.02)
    runner.stop()
    with engine.sessions() as session:
        failed = get_job(session, job.id)
        assert failed.state == JobState.FAILED and failed.total == 2
        assert "secret" not in (failed.error or "") and "logged" in (failed.error or "")
        assert "no handler" in (get_job(session, other.id).error or "")
    with engine.sessions.begin() as session:
        waiting = create_job(session, kind="boom", params={}, api_key_id=None)
        with pytest.raises(JobStateError):
            retry_job(session, waiting.id)
    run_job(engine, "missing", {})  # a vanished job is ignored
    with engine.sessions.begin() as session:
        assert recover_jobs(session) == [waiting.id]
    engine.close()
