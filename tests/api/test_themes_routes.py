"""``/api/v1/themes`` and ``/api/v1/topics``: visibility, no leaks, Markdown, refit job.

A store with three topics: huddles (public, plus network entries of net-b that carry a marker
word), referral (public) and insulin (private to org-b1, with another marker). The reader key
(net-a) and anonymous callers must never see either marker — not in names, key phrases,
counts' entries, summaries or Markdown — and the insulin theme is a 404 to them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.app
from api.app import create_app
from synth.config import TopicConfig
from synth.services.ingest import ingest_records
from synth.services.topics import fit_topic_run
from synth.types import EntryKind, EntryRecord, SourceRef, Visibility
from tests.api.stack import Stack, hashing_engine, seed, stack_settings

pytestmark = pytest.mark.slow

WORDS = {
    "huddle": "huddle safety board morning briefing escalation risk ward nurses",
    "referral": "online referral form website queue phone booking reception access",
    "insulin": "insulin dose glucose diabetes chart pharmacist error syringe hypo",
}
NETWORK_MARKER, PRIVATE_MARKER = "narwhalix", "quokkaflux"


def _records() -> list[EntryRecord]:
    rng = random.Random(3)
    out = []
    for topic, words in WORDS.items():
        for i in range(15):
            network = ("net-a", "net-b", "net-c")[i % 3]
            visibility, marker = Visibility.PUBLIC, ""
            if topic == "insulin":
                network, visibility, marker = "net-b", Visibility.PRIVATE, PRIVATE_MARKER
            elif topic == "huddle" and network == "net-b":
                visibility, marker = Visibility.NETWORK, NETWORK_MARKER
            body = " ".join(rng.choice(words.split()) for _ in range(16))
            out.append(
                EntryRecord(
                    kind=EntryKind.REFLECTION,
                    title=f"{topic} {marker} note {i}",
                    body=f"{body} {marker} {marker}. We saw the {marker} work well.",
                    network=network,
                    organisation=f"org-{network[-1]}1",
                    visibility=visibility,
                    occurred_on=dt.date(2025, 1 + i % 12, 1),
                    source=SourceRef(external_id=f"theme-{topic}-{i}"),
                )
            )
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp_path = tmp_path_factory.mktemp("themes-api")
    settings = stack_settings(tmp_path)
    keys, ids = seed(settings)
    engine = hashing_engine(settings.engine_config())
    ingest_records(engine, _records())
    fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), tmp_path / "data")
    engine.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", hashing_engine)
        with TestClient(create_app(settings)) as client:
            yield Stack(client=client, settings=settings, keys=keys, ids=ids)


def _themes(stack: Stack, who: str) -> list[dict[str, object]]:
    response = stack.call(who, "GET", "/api/v1/themes")
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def _insulin_id(stack: Stack) -> int:
    for theme in _themes(stack, "admin"):
        if "insulin" in str(theme["key_phrases"]) or "glucose" in str(theme["key_phrases"]):
            return int(str(theme["id"]))
    raise AssertionError("no insulin theme")


def test_admin_sees_every_theme_and_markers(stack: Stack) -> None:
    themes = _themes(stack, "admin")
    assert len(themes) >= 3
    everything = stack.call("admin", "GET", "/api/v1/themes").text
    assert PRIVATE_MARKER in everything or NETWORK_MARKER in everything


@pytest.mark.parametrize("who", ["reader", "anonymous"])
def test_no_route_leaks_hidden_text(stack: Stack, who: str) -> None:
    urls = ["/api/v1/themes", "/api/v1/topics/runs"]
    for theme in _themes(stack, who):
        urls += [
            f"/api/v1/themes/{theme['id']}",
            f"/api/v1/themes/{theme['id']}?period=month",
            f"/api/v1/themes/{theme['id']}/summary",
        ]
    for url in urls:
        response = stack.call(who, "GET", url)
        assert response.status_code == 200, (url, response.text)
        for marker in (NETWORK_MARKER, PRIVATE_MARKER):
            assert marker not in response.text.lower(), (who, url)
    markdown = stack.call(
        who, "GET", f"/api/v1/themes/{_themes(stack, who)[0]['id']}/summary",
        headers={"Accept": "text/markdown"},
    )  # fmt: skip
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## Overview" in markdown.text and NETWORK_MARKER not in markdown.text


def test_a_theme_with_nothing_visible_is_the_same_404_as_none(stack: Stack) -> None:
    insulin = _insulin_id(stack)
    hidden = stack.call("reader", "GET", f"/api/v1/themes/{insulin}")
    missing = stack.call("reader", "GET", "/api/v1/themes/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]
    assert stack.call("writer", "GET", f"/api/v1/themes/{insulin}").status_code == 200


def test_counts_are_what_the_caller_may_see(stack: Stack) -> None:
    def entries(who: str) -> int:
        return sum(int(str(t["entries"])) for t in _themes(stack, who))

    assert entries("anonymous") < entries("reader") <= entries("admin")
    assert entries("writer") > entries("reader")  # org-b1 sees its private insulin entries


def test_summary_json_cites_entries_and_scopes_by_network(stack: Stack) -> None:
    theme = _themes(stack, "admin")[0]
    summary = stack.call(
        "admin", "GET", f"/api/v1/themes/{theme['id']}/summary", params={"network": "net-c"}
    ).json()
    cited = summary["overview"] + summary["worked"]
    assert cited and {c["network"] for c in cited} == {"net-c"}
    assert all({"entry_id", "organisation", "date", "start", "end"} <= set(c) for c in cited)


def test_refit_is_an_admin_job_and_keeps_theme_ids(stack: Stack) -> None:
    before = sorted(int(str(t["id"])) for t in _themes(stack, "admin"))
    assert stack.call("reader", "POST", "/api/v1/topics/fit").status_code == 403
    accepted = stack.call("admin", "POST", "/api/v1/topics/fit")
    assert accepted.status_code == 202
    job = stack.wait_job("admin", accepted.json()["id"], timeout_s=180)
    assert job["state"] == "succeeded", job
    assert job["result"]["themes_kept"] == len(before)
    assert sorted(int(str(t["id"])) for t in _themes(stack, "admin")) == before
    runs = stack.call("admin", "GET", "/api/v1/topics/runs").json()["items"]
    assert [r["status"] for r in runs[:2]] == ["current", "superseded"]


def test_unknown_period_is_a_validation_error(stack: Stack) -> None:
    theme = _themes(stack, "admin")[0]
    response = stack.call("admin", "GET", f"/api/v1/themes/{theme['id']}?period=year")
    assert response.status_code == 422


def test_data_dir_holds_the_saved_model(stack: Stack) -> None:
    assert any(Path(stack.settings.data_dir, "topics").iterdir())
