"""Authorisation matrix (a read key for network A, a write key for network B's organisation,
an admin key, anonymous) × every route, and a no-leak test over every text-returning route."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.stack import ENTRIES, PRINCIPALS, SEES, Stack, running_stack
from tests.api.test_actions import insert_theme, new_action

WHO = PRINCIPALS  # reader, writer, admin, anonymous


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("matrix")) as running:
        job = running.call(
            "writer", "POST", "/api/v1/entries/bulk", json=[_story("job", "net-b", "org-b1")]
        )
        running.extra["job"] = running.wait_job("writer", job.json()["id"])["id"]
        yield running


def _story(marker: str, network: str, org: str, visibility: str = "network") -> dict[str, Any]:
    return {
        "kind": "story",
        "title": f"Matrix {marker} {uuid.uuid4().hex[:6]}",
        "body": f"A ward team tried {marker} handovers {uuid.uuid4().hex} at shift change.",
        "network": network,
        "organisation": org,
        "visibility": visibility,
    }


def _fresh(stack: Stack, network: str, org: str, visibility: str = "network") -> int:
    made = stack.call(
        "admin", "POST", "/api/v1/entries", json=_story("t", network, org, visibility)
    )
    assert made.status_code == 201, made.text
    entry_id: int = made.json()["id"]
    return entry_id


@dataclass(frozen=True)
class Case:
    """One route: how to call it, and the status each principal gets."""

    route: str
    method: str
    url: Callable[[Stack], str]
    expect: tuple[int, int, int, int]
    kwargs: Callable[[Stack], dict[str, Any]] = lambda _: {}


def _entry(name: str, suffix: str = "") -> Callable[[Stack], str]:
    return lambda s: f"/api/v1/entries/{s.ids[name]}{suffix}"


def _new(network: str, org: str, visibility: str = "network") -> Callable[[Stack], str]:
    return lambda s: f"/api/v1/entries/{_fresh(s, network, org, visibility)}"


def _action_body(stack: Stack, network: str | None) -> dict[str, Any]:
    return {"theme_id": insert_theme(stack), "what": "Share the huddle script", "owner": "Ana",
            "agreed_at": "Spring event", "network": network}  # fmt: skip


def _action(network: str | None) -> Callable[[Stack], str]:
    return lambda s: f"/api/v1/actions/{new_action(s, network)}"


MD = b"---\nkind: story\n---\n# Upload\n\nWe tried a new handover sheet "
CASES = [
    Case("/health", "GET", lambda _: "/health", (200, 200, 200, 200)),
    Case("/ready", "GET", lambda _: "/ready", (200, 200, 200, 200)),
    Case("/metrics", "GET", lambda _: "/metrics", (200, 200, 200, 200)),
    Case("/api/v1/networks", "GET", lambda _: "/api/v1/networks", (200, 200, 200, 200)),
    Case("/api/v1/networks/{slug}", "GET", lambda _: "/api/v1/networks/net-a", (200,) * 4),
    Case("/api/v1/organisations", "GET", lambda _: "/api/v1/organisations", (200,) * 4),
    Case(
        "/api/v1/organisations/{slug}", "GET", lambda _: "/api/v1/organisations/org-a1", (200,) * 4
    ),
    Case("/api/v1/projects", "GET", lambda _: "/api/v1/projects", (200,) * 4),
    Case("/api/v1/projects/{slug}", "GET", lambda _: "/api/v1/projects/huddles-a", (200,) * 4),
    Case("/api/v1/entries", "GET", lambda _: "/api/v1/entries", (200,) * 4),
    Case("/api/v1/search", "GET", lambda _: "/api/v1/search?q=falls", (200,) * 4),
    Case("/api/v1/entries/{entry_id}", "GET", _entry("public_c"), (200,) * 4),
    Case("/api/v1/entries/{entry_id}", "GET", _entry("network_a"), (200, 404, 200, 404)),
    Case("/api/v1/entries/{entry_id}", "GET", _entry("private_a"), (404, 404, 200, 404)),
    Case("/api/v1/entries/{entry_id}", "GET", _entry("private_b"), (404, 200, 200, 404)),
    Case(
        "/api/v1/entries/{entry_id}/similar",
        "GET",
        _entry("network_a", "/similar"),
        (200, 404, 200, 404),
    ),
    Case(
        "/api/v1/entries/{entry_id}/similar",
        "GET",
        _entry("private_b", "/similar"),
        (404, 200, 200, 404),
    ),
    Case(
        "/api/v1/jobs/{job_id}",
        "GET",
        lambda s: f"/api/v1/jobs/{s.extra['job']}",
        (404, 200, 200, 404),
    ),
    Case(
        "/api/v1/jobs/{job_id}/retry",
        "POST",
        lambda s: f"/api/v1/jobs/{s.extra['job']}/retry",
        (403, 409, 409, 401),  # it succeeded: nothing to retry
    ),
    Case(
        "/api/v1/entries",
        "POST",
        lambda _: "/api/v1/entries",
        (403, 201, 201, 401),
        lambda _: {"json": _story("mine", "net-b", "org-b1")},
    ),
    Case(
        "/api/v1/entries",
        "POST",
        lambda _: "/api/v1/entries",
        (403, 403, 201, 401),
        lambda _: {"json": _story("theirs", "net-a", "org-a1")},
    ),
    Case(
        "/api/v1/entries/bulk",
        "POST",
        lambda _: "/api/v1/entries/bulk",
        (403, 202, 202, 401),
        lambda _: {"json": [_story("bulk", "net-b", "org-b1")]},
    ),
    Case(
        "/api/v1/entries/upload",
        "POST",
        lambda _: "/api/v1/entries/upload",
        (403, 202, 202, 401),
        lambda _: {
            "files": {"file": ("u.md", MD + uuid.uuid4().hex.encode(), "text/markdown")},
            "data": {"network": "net-b", "organisation": "org-b1"},
        },
    ),
    Case(
        "/api/v1/entries/{entry_id}",
        "PATCH",
        _new("net-b", "org-b1"),
        (403, 200, 200, 401),
        lambda _: {"json": {"tags": ["patched"]}},
    ),
    Case(
        "/api/v1/entries/{entry_id}",
        "PATCH",
        _new("net-a", "org-a1", "private"),
        (403, 404, 200, 401),
        lambda _: {"json": {"tags": ["patched"]}},
    ),
    Case(
        "/api/v1/entries/{entry_id}",
        "PATCH",
        _new("net-c", "org-c1", "public"),
        (403, 403, 200, 401),
        lambda _: {"json": {"tags": ["patched"]}},
    ),
    Case("/api/v1/entries/{entry_id}", "DELETE", _new("net-b", "org-b1"), (403, 204, 204, 401)),
    Case(
        "/api/v1/entries/{entry_id}",
        "DELETE",
        _new("net-a", "org-a1", "private"),
        (403, 404, 204, 401),
    ),
    Case("/api/v1/index/rebuild", "POST", lambda _: "/api/v1/index/rebuild", (403, 403, 202, 401)),
    # No topic run in this store: theme lists are empty, and a theme is a 404 to everyone
    # (tests/api/test_themes_routes.py covers visibility with fitted topics).
    Case("/api/v1/themes", "GET", lambda _: "/api/v1/themes", (200, 200, 200, 200)),
    Case("/api/v1/themes/{theme_id}", "GET", lambda _: "/api/v1/themes/1", (404, 404, 404, 404)),
    Case(
        "/api/v1/themes/{theme_id}/summary",
        "GET",
        lambda _: "/api/v1/themes/1/summary",
        (404, 404, 404, 404),
    ),
    Case("/api/v1/topics/runs", "GET", lambda _: "/api/v1/topics/runs", (200, 200, 200, 200)),
    Case("/api/v1/topics/fit", "POST", lambda _: "/api/v1/topics/fit", (403, 403, 202, 401)),
    # Actions: seen by their network's keys (none: everyone); written by their network's keys.
    Case("/api/v1/actions", "GET", lambda _: "/api/v1/actions", (200, 200, 200, 200)),
    Case("/api/v1/actions/{action_id}", "GET", _action("net-a"), (200, 404, 200, 404)),
    Case("/api/v1/actions/{action_id}", "GET", _action(None), (200, 200, 200, 200)),
    Case(
        "/api/v1/actions",
        "POST",
        lambda _: "/api/v1/actions",
        (403, 201, 201, 401),
        lambda s: {"json": _action_body(s, "net-b")},
    ),
    Case(
        "/api/v1/actions",
        "POST",
        lambda _: "/api/v1/actions",
        (403, 403, 201, 401),
        lambda s: {"json": _action_body(s, "net-a")},
    ),
    Case(
        "/api/v1/actions/{action_id}",
        "PATCH",
        _action("net-b"),
        (403, 200, 200, 401),
        lambda _: {"json": {"status": "done"}},
    ),
    Case(
        "/api/v1/actions/{action_id}",
        "PATCH",
        _action("net-a"),
        (403, 404, 200, 401),
        lambda _: {"json": {"status": "done"}},
    ),
    Case(
        "/api/v1/actions/{action_id}",
        "PATCH",
        _action(None),
        (403, 403, 200, 401),
        lambda _: {"json": {"status": "done"}},
    ),
    Case(
        "/api/v1/briefings",
        "POST",
        lambda _: "/api/v1/briefings",
        (200, 200, 200, 200),
        lambda _: {"json": {"networks": ["net-a"]}},
    ),
]
OUR_TAGS = {
    "health", "search", "networks", "organisations", "projects", "entries", "jobs", "index",
    "themes", "actions", "briefings",
}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url.__name__} {c.route}")
def test_authorisation_matrix(stack: Stack, case: Case) -> None:
    got = []
    for who in WHO:
        response = stack.call(who, case.method, case.url(stack), **case.kwargs(stack))
        got.append(response.status_code)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    assert tuple(got) == case.expect, dict(zip(WHO, got, strict=True))


def test_matrix_covers_every_route(stack: Stack) -> None:
    spec = stack.client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if set(operation.get("tags", [])) & OUR_TAGS
    }
    assert routes == {(c.method, c.route) for c in CASES}


def test_without_anonymous_reads_every_api_route_is_401(tmp_path: Path) -> None:
    with running_stack(tmp_path, allow_anonymous_read=False) as stack:
        stack.extra["job"] = uuid.uuid4().hex
        for case in CASES:
            if not case.route.startswith("/api/"):
                continue
            url = case.url(stack)
            response = stack.client.request(case.method, url, **case.kwargs(stack))
            assert response.status_code == 401, (case.method, url, response.status_code)


def _bodies(stack: Stack, who: str) -> list[str]:
    """Every text-returning answer ``who`` can get, including ones about hidden entries."""
    urls = [
        "/api/v1/entries?limit=100",
        "/api/v1/networks",
        "/api/v1/organisations",
        "/api/v1/projects",
        f"/api/v1/jobs/{stack.extra['job']}",
        "/metrics",
    ]
    for _, _, _, marker in ENTRIES.values():
        urls += [
            f"/api/v1/search?q={marker}&k=100&per_organisation=0",
            f"/api/v1/search?q={marker}&k=100&mode=bm25",
            f"/api/v1/search?q=falls+huddles+{marker}&k=100&mode=dense",
            f"/api/v1/entries?tag={marker}",
        ]
    for entry_id in stack.ids.values():
        urls += [
            f"/api/v1/entries/{entry_id}",
            f"/api/v1/entries/{entry_id}/similar?k=100",
            f"/api/v1/entries/{entry_id}/similar?k=100&other_networks=true",
        ]
    for network in ("net-a", "net-b", "net-c"):
        urls.append(f"/api/v1/entries?network={network}&visibility=private&visibility=network")
    bodies = []
    for url in urls:
        response = stack.call(who, "GET", url)
        if url.startswith("/api/v1/search"):
            bodies.append(json.dumps({**response.json(), "query": ""}))  # the query is echoed
        else:
            bodies.append(response.text)
    return bodies


@pytest.mark.parametrize("who", WHO)
def test_no_leak_of_hidden_entries(stack: Stack, who: str) -> None:
    text = "\n".join(_bodies(stack, who))
    for name, (_, _, _, marker) in ENTRIES.items():
        if name in SEES[who]:
            assert marker in text, f"{who} should see {name}"
        else:
            assert marker not in text, f"{who} saw hidden {name}"
            assert f'"entry_id":{stack.ids[name]},' not in text
            assert f'"id":{stack.ids[name]},' not in text


@pytest.mark.parametrize("who", WHO)
def test_hidden_entry_answers_exactly_like_a_missing_one(stack: Stack, who: str) -> None:
    for name in set(ENTRIES) - SEES[who]:
        hidden_id, missing_id = stack.ids[name], 987654
        for suffix in ("", "/similar"):
            hidden = stack.call(who, "GET", f"/api/v1/entries/{hidden_id}{suffix}")
            missing = stack.call(who, "GET", f"/api/v1/entries/{missing_id}{suffix}")
            assert hidden.status_code == missing.status_code == 404
            assert {
                k: v
                for k, v in hidden.headers.items()
                if k not in ("x-request-id", "content-length")
            } == {
                k: v
                for k, v in missing.headers.items()
                if k not in ("x-request-id", "content-length")
            }

            def masked(text: str, entry_id: int) -> str:
                return re.sub(rf"(entries/|entry ){entry_id}\b", r"\1N", text)

            assert masked(hidden.text, hidden_id) == masked(missing.text, missing_id)
