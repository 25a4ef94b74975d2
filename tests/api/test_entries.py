"""``/api/v1/entries`` on the real stack: create, read, update, delete, list, pagination."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Passage, PassageDeletion
from synth.store import build_db_engine, build_session_factory
from tests.api.stack import Stack, running_stack
from tests.api.test_health_and_errors import assert_problem


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


def titles(response_json: dict[str, object], key: str = "results") -> list[str]:
    return [hit["title"] for hit in response_json[key]]  # type: ignore[attr-defined,index]


def search(stack: Stack, who: str, q: str) -> list[str]:
    response = stack.call(who, "GET", "/api/v1/search", params={"q": q, "per_organisation": 0})
    assert response.status_code == 200, response.text
    return titles(response.json())


def story(marker: str, **extra: object) -> dict[str, object]:
    return {
        "kind": "story",
        "title": f"Discharge lounge {marker}",
        "body": f"The {marker} discharge lounge freed beds before noon. Porters and "
        "pharmacy worked to one list, so patients left earlier with their medicines.",
        **extra,
    }


def test_create_is_201_and_searchable_on_return(stack: Stack) -> None:
    marker = f"m{uuid.uuid4().hex[:8]}"
    response = stack.call("writer", "POST", "/api/v1/entries", json=story(marker, tags=["Flow"]))
    assert response.status_code == 201, response.text
    entry = response.json()
    # The key's organisation and only network fill the record's gaps.
    assert entry["network"] == "net-b" and entry["organisation"] == "org-b1"
    assert entry["visibility"] == "network" and entry["tags"] == ["flow"]
    assert entry["links"]["self"] == f"/api/v1/entries/{entry['id']}"
    assert f"Discharge lounge {marker}" in search(stack, "writer", f"{marker} discharge lounge")
    assert f"Discharge lounge {marker}" not in search(stack, "reader", f"{marker} discharge")
    again = stack.call("writer", "POST", "/api/v1/entries", json=story(marker))
    assert_problem(again, 409, "entry.duplicate")
    assert not re.search(r"\d", again.json()["detail"])  # never names the other entry


def test_create_redacts_and_reposting_an_id_updates(stack: Stack) -> None:
    body = story("redact", id="src-1")
    body["body"] = str(body["body"]) + " Ring 07700 900123 or write to ward7@example.org."
    first = stack.call(
        "admin",
        "POST",
        "/api/v1/entries",
        json={**body, "network": "net-b", "organisation": "org-b1"},
    )
    assert first.status_code == 201
    assert "07700" not in first.json()["body"] and "[EMAIL]" in first.json()["body"]
    assert first.json()["redactions"] == {"email": 1, "phone": 1}
    changed = {**story("redact2", id="src-1"), "network": "net-b", "organisation": "org-b1"}
    second = stack.call("writer", "POST", "/api/v1/entries", json=changed)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    # A key that may not change the entry cannot take its id over.
    taken = stack.call(
        "admin",
        "POST",
        "/api/v1/entries",
        json={**story("z", id="seed-private_a"), "network": "net-a", "organisation": "org-a1"},
    )
    assert taken.status_code == 200  # the admin may
    stolen = stack.call(
        "writer", "POST", "/api/v1/entries", json=story("steal", id="seed-private_a")
    )
    assert_problem(stolen, 409, "entry.id_taken")


def test_write_key_writes_only_into_its_networks_and_known_slugs(stack: Stack) -> None:
    into_a = stack.call("writer", "POST", "/api/v1/entries", json=story("a", network="net-a"))
    assert_problem(into_a, 403, "auth.forbidden")
    as_other_org = stack.call(
        "writer", "POST", "/api/v1/entries", json=story("o", organisation="org-c1")
    )
    assert_problem(as_other_org, 403, "auth.forbidden")
    new_project = stack.call(
        "writer", "POST", "/api/v1/entries", json=story("p", project="brand-new")
    )
    body = assert_problem(new_project, 403, "auth.forbidden")
    assert "admin" in str(body["detail"])
    created = stack.call(
        "admin",
        "POST",
        "/api/v1/entries",
        json=story("n", network="net-new", organisation="org-new"),
    )
    assert created.status_code == 201
    assert stack.call("admin", "GET", "/api/v1/networks/net-new").status_code == 200


def test_validation_errors_name_field_paths(stack: Stack) -> None:
    response = stack.call("writer", "POST", "/api/v1/entries", json={"kind": "memo", "title": 3})
    body = assert_problem(response, 422, "request.invalid")
    paths = {tuple(e["loc"]) for e in body["errors"]}  # type: ignore[union-attr]
    assert ("body", "kind") in paths and ("body", "title") in paths
    no_body = stack.call("writer", "POST", "/api/v1/entries", json={"kind": "story", "title": "t"})
    assert [e["loc"] for e in assert_problem(no_body, 422, "request.invalid")["errors"]] == [  # type: ignore[union-attr]
        ["body", "body"]
    ]
    unknown = stack.call("writer", "POST", "/api/v1/entries", json={**story("u"), "colour": "red"})
    assert ["body", "colour"] in [e["loc"] for e in unknown.json()["errors"]]


def test_patch_rechunks_reembeds_and_feeds_deletions(stack: Stack) -> None:
    entry_id = stack.ids["network_b"]
    engine = build_db_engine(stack.settings.database_url)
    sessions = build_session_factory(engine)
    with sessions() as session:
        old = set(session.scalars(select(Passage.id).where(Passage.entry_id == entry_id)))
    new_body = "Volunteers phoned every patient the day after discharge about their tablets. " * 3
    response = stack.call(
        "writer",
        "PATCH",
        f"/api/v1/entries/{entry_id}",
        json={"body": new_body, "title": "Phone follow-up"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Phone follow-up" and response.json()["tags"] == [
        "falls",
        "narwhalix",
    ]
    with sessions() as session:
        new = set(session.scalars(select(Passage.id).where(Passage.entry_id == entry_id)))
        deleted = set(session.scalars(select(PassageDeletion.passage_id)))
    engine.dispose()
    assert old and new and not old & new and old <= deleted
    assert "Phone follow-up" in search(stack, "writer", "volunteers phoned patients tablets")
    assert "Falls huddles narwhalix" not in search(stack, "writer", "narwhalix")
    cleared = stack.call(
        "writer",
        "PATCH",
        f"/api/v1/entries/{entry_id}",
        json={"tags": None, "visibility": "private"},
    )
    assert cleared.json()["tags"] == [] and cleared.json()["visibility"] == "private"
    bad = stack.call("writer", "PATCH", f"/api/v1/entries/{entry_id}", json={"title": None})
    assert ["body", "title"] in [
        e["loc"] for e in assert_problem(bad, 422, "request.invalid")["errors"]
    ]  # type: ignore[union-attr]
    visible_not_mine = stack.call(
        "writer", "PATCH", f"/api/v1/entries/{stack.ids['public_c']}", json={"title": "x"}
    )
    assert_problem(visible_not_mine, 403, "auth.forbidden")


def test_delete_removes_from_reads_and_search(stack: Stack) -> None:
    entry_id = stack.ids["private_b"]
    assert stack.call("writer", "DELETE", f"/api/v1/entries/{entry_id}").status_code == 204
    assert_problem(stack.call("writer", "GET", f"/api/v1/entries/{entry_id}"), 404, "not_found")
    assert "Falls huddles quokkaflux" not in search(stack, "admin", "quokkaflux huddles")
    assert_problem(stack.call("writer", "DELETE", f"/api/v1/entries/{entry_id}"), 404, "not_found")
    engine = build_db_engine(stack.settings.database_url)
    with build_session_factory(engine)() as session:
        assert not session.scalar(
            select(func.count()).select_from(Passage).where(Passage.entry_id == entry_id)
        )
    engine.dispose()


def test_list_filters_and_cursor_pagination(stack: Stack) -> None:
    for i in range(5):
        made = stack.call(
            "admin",
            "POST",
            "/api/v1/entries",
            json=story(
                f"page{i}",
                network="net-c",
                organisation="org-c1",
                visibility="public",
                occurred_on=f"2024-0{i + 1}-15",
            ),
        )
        assert made.status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = stack.call("admin", "GET", "/api/v1/entries", params=params).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10 and seen == sorted(seen, reverse=True)
    filtered = stack.call(
        "reader",
        "GET",
        "/api/v1/entries",
        params={"network": "net-c", "since": "2024-03-01", "until": "2024-04-30"},
    )
    assert len(filtered.json()["items"]) == 2
    tagged = stack.call(
        "admin", "GET", "/api/v1/entries", params={"tag": "zebracorn", "project": "huddles-a"}
    )
    assert [e["id"] for e in tagged.json()["items"]] == [stack.ids["network_a"]]
    private = stack.call("writer", "GET", "/api/v1/entries", params={"visibility": "private"})
    assert [e["id"] for e in private.json()["items"]] == [stack.ids["private_b"]]
    bad = stack.call("admin", "GET", "/api/v1/entries", params={"cursor": "not-a-cursor"})
    assert ["query", "cursor"] in [
        e["loc"] for e in assert_problem(bad, 422, "request.invalid")["errors"]
    ]  # type: ignore[union-attr]


def test_directory_routes(stack: Stack) -> None:
    networks = stack.call("reader", "GET", "/api/v1/networks").json()["items"]
    assert [n["slug"] for n in networks] == ["net-a", "net-b", "net-c"]
    org = stack.call("reader", "GET", "/api/v1/organisations/org-a1").json()
    assert org["networks"] == ["net-a"]
    in_b = stack.call("reader", "GET", "/api/v1/organisations", params={"network": "net-b"}).json()
    assert [o["slug"] for o in in_b["items"]] == ["org-b1"]
    project = stack.call("reader", "GET", "/api/v1/projects/huddles-a").json()
    assert project["network"] == "net-a" and project["organisation"] == "org-a1"
    assert (
        stack.call("reader", "GET", "/api/v1/projects", params={"network": "net-b"}).json()["items"]
        == []
    )
    assert_problem(stack.call("reader", "GET", "/api/v1/networks/nope"), 404, "not_found")
