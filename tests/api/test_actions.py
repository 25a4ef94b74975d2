"""``/api/v1/actions`` on the real stack: create, read, update, list; visibility and rights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models import Theme, TopicRun
from synth.store import build_db_engine, build_session_factory
from tests.api.stack import Stack, running_stack


def insert_theme(stack: Stack, name: str = "falls, huddles") -> int:
    """Add a theme (and a superseded topic run) straight into the stack's store."""
    if "theme" in stack.extra:
        return int(stack.extra["theme"])
    engine = build_db_engine(stack.settings.database_url)
    with build_session_factory(engine).begin() as session:
        run = TopicRun(status="superseded", embedding_model="test")
        session.add(run)
        session.flush()
        theme = Theme(
            name=name, key_phrases=["falls"], centroid=b"\0" * 4, first_run_id=run.id,
            last_run_id=run.id,
        )  # fmt: skip
        session.add(theme)
        session.flush()
        theme_id = theme.id
    engine.dispose()
    stack.extra["theme"] = theme_id
    return theme_id


def new_action(stack: Stack, network: str | None, **fields: Any) -> int:
    """Create an action as admin; return its id."""
    body = {"theme_id": insert_theme(stack), "what": "Share the huddle script", "owner": "Ana",
            "agreed_at": "Spring network event", "network": network, **fields}  # fmt: skip
    made = stack.call("admin", "POST", "/api/v1/actions", json=body)
    assert made.status_code == 201, made.text
    action_id: int = made.json()["id"]
    return action_id


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("actions")) as running:
        yield running


def test_writer_records_and_updates_an_action_of_its_network(stack: Stack) -> None:
    theme = insert_theme(stack)
    body = {
        "theme_id": theme, "what": "Try the huddle script on two wards", "owner": "Ben",
        "agreed_at": "Autumn event", "agreed_on": "2025-10-01", "due_on": "2025-12-01",
        "entry_ids": [stack.ids["network_b"], stack.ids["public_c"]],
    }  # fmt: skip
    made = stack.call("writer", "POST", "/api/v1/actions", json=body)
    assert made.status_code == 201, made.text
    action = made.json()
    assert action["network"] == "net-b"  # the key's only network
    assert action["status"] == "open" and action["created_by"] == "writer"
    assert action["entry_ids"] == [stack.ids["network_b"], stack.ids["public_c"]]
    patched = stack.call(
        "writer", "PATCH", f"/api/v1/actions/{action['id']}",
        json={"status": "done", "outcome": "Both wards use it.", "due_on": None},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "done" and patched.json()["due_on"] is None
    assert patched.json()["outcome"] == "Both wards use it."
    # a reader of net-a cannot see it; an admin sees it, minus nothing
    assert stack.call("reader", "GET", f"/api/v1/actions/{action['id']}").status_code == 404
    seen = stack.call("anonymous", "GET", f"/api/v1/actions?theme={theme}").json()["items"]
    assert action["id"] not in [a["id"] for a in seen]


def test_entry_ids_are_shown_only_where_the_reader_may_see_them(stack: Stack) -> None:
    ids = [stack.ids["private_a"], stack.ids["public_c"]]
    action_id = new_action(stack, None, entry_ids=ids)
    assert stack.call("admin", "GET", f"/api/v1/actions/{action_id}").json()["entry_ids"] == ids
    shown = stack.call("anonymous", "GET", f"/api/v1/actions/{action_id}").json()
    assert shown["entry_ids"] == [stack.ids["public_c"]]


def test_bad_values_are_422_and_nothing_is_stored(stack: Stack) -> None:
    before = len(stack.call("admin", "GET", "/api/v1/actions").json()["items"])
    base = {"theme_id": insert_theme(stack), "what": "x", "owner": "y", "agreed_at": "z"}
    for change, code in (
        ({"theme_id": 999999}, "action.invalid"),
        ({"project": "no-such-project"}, "action.invalid"),
        ({"network": "net-z"}, "action.invalid"),
        ({"entry_ids": [987654]}, "action.invalid"),
        ({"status": "finished"}, "request.invalid"),
        ({"what": ""}, "request.invalid"),
    ):
        answer = stack.call("admin", "POST", "/api/v1/actions", json={**base, **change})
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["code"] == code
    action_id = new_action(stack, "net-a")
    cleared = stack.call("admin", "PATCH", f"/api/v1/actions/{action_id}", json={"what": None})
    assert cleared.status_code == 422
    after = len(stack.call("admin", "GET", "/api/v1/actions").json()["items"])
    assert after == before + 1


def test_writer_may_not_use_entries_it_cannot_see(stack: Stack) -> None:
    body = {"theme_id": insert_theme(stack), "what": "x", "owner": "y", "agreed_at": "z",
            "entry_ids": [stack.ids["private_a"]]}  # fmt: skip
    answer = stack.call("writer", "POST", "/api/v1/actions", json=body)
    assert answer.status_code == 422
    assert f"entry {stack.ids['private_a']} not found" in answer.json()["detail"]


def test_filters(stack: Stack) -> None:
    action_id = new_action(stack, "net-a", status="in_progress", project="huddles-a")
    for query in ("status=in_progress", "network=net-a", "project=huddles-a"):
        items = stack.call("admin", "GET", f"/api/v1/actions?{query}").json()["items"]
        assert action_id in [a["id"] for a in items], query
    none = stack.call("admin", "GET", "/api/v1/actions?status=dropped").json()["items"]
    assert action_id not in [a["id"] for a in none]


def test_without_a_store_theme_the_route_list_is_empty(tmp_path: Path) -> None:
    with running_stack(tmp_path) as fresh:
        assert fresh.call("anonymous", "GET", "/api/v1/actions").json() == {"items": []}
