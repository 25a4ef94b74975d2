"""Three API processes on one PostgreSQL: a write through one is searchable through the others.

Each process keeps its own in-memory indexes and follows the store's change feed every
``SYNTH_INDEX__REFRESH_SECONDS``; the three share one data folder, so their saved index
generations also go through the folder lock. A write must show through every other process
within the refresh interval plus a margin for a busy test machine; a delete likewise.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_engine
from tests.scale.processes import environment, prepare_store, servers

pytestmark = [pytest.mark.slow, pytest.mark.pg]

REFRESH_S = 1.0
#: Allowance for scheduling on a loaded 2-core machine (a refresh itself takes milliseconds).
MARGIN_S = 10.0


def _found(client: httpx.Client, marker: str) -> bool:
    response = client.get("/api/v1/search", params={"q": marker, "per_organisation": 0})
    assert response.status_code == 200, response.text
    return any(marker in hit["title"] for hit in response.json()["results"])


def _seconds_until(clients: list[httpx.Client], marker: str, *, present: bool) -> float:
    """Poll every client until the marker is (or is no longer) found; return the slowest."""
    start = time.monotonic()
    waiting = list(clients)
    while waiting:
        waiting = [c for c in waiting if _found(c, marker) != present]
        elapsed = time.monotonic() - start
        assert elapsed < REFRESH_S + MARGIN_S, f"{len(waiting)} process(es) still stale"
        if waiting:
            time.sleep(0.05)
    return time.monotonic() - start


def test_writes_and_deletes_reach_every_process(pg_server_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_server_url, tmp_path)
    token = prepare_store(engine)
    engine.close()
    env = environment(
        pg_server_url,
        tmp_path / "shared-data",
        SYNTH_INDEX__REFRESH_SECONDS=str(REFRESH_S),
        SYNTH_JOBS__BACKEND="thread",
    )
    with servers(3, env, tmp_path) as running:
        clients = [s.client(token) for s in running]
        for writer in range(3):  # a write through each process in turn
            marker = f"qz{uuid.uuid4().hex[:10]}"
            body = {
                "kind": "story",
                "title": f"Discharge lounge {marker}",
                "body": f"The {marker} lounge freed beds before noon; porters used one list.",
                "network": "net-a",
                "organisation": "org-a",
            }
            created = clients[writer].post("/api/v1/entries", json=body)
            assert created.status_code == 201, created.text
            own = clients[writer].get("/api/v1/search", params={"q": marker, "per_organisation": 0})
            assert marker in own.text, f"not searchable through its writer: {own.text[:2000]}"
            others = [c for i, c in enumerate(clients) if i != writer]
            assert not any(_found(c, "qznotthere") for c in others)
            _seconds_until(others, marker, present=True)
            deleter = (writer + 1) % 3
            deleted = clients[deleter].delete(f"/api/v1/entries/{created.json()['id']}")
            assert deleted.status_code == 204, deleted.text
            assert not _found(clients[deleter], marker)
            _seconds_until(
                [c for i, c in enumerate(clients) if i != deleter], marker, present=False
            )
        for client in clients:
            client.close()
    assert sorted(p.name for p in (tmp_path / "shared-data").rglob("CURRENT"))  # saved once
