"""Jobs on the PostgreSQL queue: run by ``synth worker`` processes, once each, same status API.

An API process (procrastinate backend) queues a bulk import and an index rebuild; with no
worker they stay queued, a worker subprocess runs them, and two workers racing for the same
jobs never run one twice (the job record counts attempts).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from models import Job
from synth.services.job_queue import ProcrastinateJobRunner
from synth.services.jobs import create_job
from tests.conftest import make_engine
from tests.scale.processes import environment, launch, prepare_store, servers, stop

pytestmark = [pytest.mark.slow, pytest.mark.pg]


def _story(marker: str) -> dict[str, str]:
    return {
        "kind": "story",
        "title": f"Ward huddle {marker}",
        "body": f"The {marker} huddle moved to the morning and escalations came sooner.",
        "network": "net-a",
        "organisation": "org-a",
    }


def _wait(client: httpx.Client, job_id: str, timeout_s: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(f"/api/v1/jobs/{job_id}").json()
        if body["state"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body}")


def test_jobs_wait_for_a_worker_and_run_there(pg_server_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_server_url, tmp_path)
    token = prepare_store(engine)
    engine.close()
    env = environment(
        pg_server_url,
        tmp_path / "data",
        SYNTH_JOBS__BACKEND="auto",
        SYNTH_INDEX__REFRESH_SECONDS="1",
    )
    with servers(1, env, tmp_path) as (server,):
        client = server.client(token)
        marker = f"qw{uuid.uuid4().hex[:8]}"
        queued = client.post("/api/v1/entries/bulk", json=[_story(marker)])
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["id"]
        rebuild = client.post("/api/v1/index/rebuild")
        assert rebuild.status_code == 202, rebuild.text
        time.sleep(3)  # no worker: nothing runs them
        assert client.get(f"/api/v1/jobs/{job_id}").json()["state"] == "queued"
        worker = launch(["worker", "--concurrency", "2"], env, tmp_path / "worker.log")
        try:
            done = _wait(client, job_id)
            assert done["state"] == "succeeded", done
            assert done["result"]["created"] == 1  # type: ignore[index]
            assert _wait(client, rebuild.json()["id"])["state"] == "succeeded"
        finally:
            stop(worker)
        deadline = time.monotonic() + 15  # the API process follows the feed
        while marker not in client.get("/api/v1/search", params={"q": marker}).text:
            assert time.monotonic() < deadline, "the imported entry never became searchable"
            time.sleep(0.2)
        client.close()


def test_two_workers_never_run_one_job(pg_server_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_server_url, tmp_path)
    prepare_store(engine)
    runner = ProcrastinateJobRunner(engine, {})
    runner.start()
    with engine.sessions.begin() as session:
        ids = [
            create_job(session, kind="index.rebuild", params={}, api_key_id=None).id
            for _ in range(6)
        ]
    for job_id in ids:
        runner.submit(job_id)
        runner.submit(job_id)  # a second submit of a queued job is a no-op
    runner.stop()
    with engine.db.connect() as connection:
        count = connection.scalar(text("SELECT count(*) FROM procrastinate.procrastinate_jobs"))
    assert count == len(ids)
    env = environment(pg_server_url, tmp_path / "data")
    workers = [
        launch(["worker", "--until-idle"], env, tmp_path / f"worker-{n}.log") for n in range(2)
    ]
    try:
        for worker in workers:
            assert worker.wait(180) == 0, (tmp_path / "worker-0.log").read_text()[-3000:]
    finally:
        for worker in workers:
            stop(worker)
    with engine.sessions() as session:
        jobs = list(session.scalars(select(Job).where(Job.id.in_(ids))))
    assert {j.state for j in jobs} == {"succeeded"}
    assert [j.attempts for j in jobs] == [1] * len(ids)
    engine.close()
