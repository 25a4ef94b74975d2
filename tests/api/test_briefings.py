"""``POST /api/v1/briefings`` on the real stack: forms by Accept, and no leak of hidden entries."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from models import Passage, PassageTopic, Theme, Topic, TopicRun
from synth.reporting.pdf import find_chromium
from synth.store import build_db_engine, build_session_factory
from tests.api.stack import ENTRIES, PRINCIPALS, SEES, Stack, running_stack


def _one_theme_for_everything(stack: Stack) -> None:
    engine = build_db_engine(stack.settings.database_url)
    with build_session_factory(engine).begin() as session:
        run = TopicRun(status="current", embedding_model="test")
        session.add(run)
        session.flush()
        theme = Theme(name="falls, huddles", key_phrases=["falls", "huddles"], centroid=b"\0" * 4,
                      first_run_id=run.id, last_run_id=run.id)  # fmt: skip
        session.add(theme)
        session.flush()
        topic = Topic(run_id=run.id, theme_id=theme.id, model_topic=0, label=theme.name,
                      key_phrases=theme.key_phrases, size=5, centroid=b"\0" * 4)  # fmt: skip
        session.add(topic)
        session.flush()
        for passage_id in session.scalars(select(Passage.id)):
            session.add(
                PassageTopic(
                    run_id=run.id,
                    passage_id=passage_id,
                    topic_id=topic.id,
                    theme_id=theme.id,
                    similarity=0.9,
                    assigned_by="fit",
                )
            )
    engine.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("briefings")) as running:
        _one_theme_for_everything(running)
        yield running


@pytest.mark.parametrize("who", PRINCIPALS)
def test_a_briefing_holds_only_what_the_caller_may_see(stack: Stack, who: str) -> None:
    texts = []
    for accept in ("application/json", "text/html", "text/markdown"):
        for body in ({}, {"networks": ["net-a"]}, {"networks": ["net-b"], "top": 1}):
            answer = stack.call(
                who, "POST", "/api/v1/briefings", json=body, headers={"Accept": accept}
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith(accept)
            texts.append(answer.text)
    text = "\n".join(texts)
    for name, (_, _, _, marker) in ENTRIES.items():
        if name in SEES[who]:
            assert marker in text, f"{who} should see {name}"
        else:
            assert marker not in text, f"{who} saw hidden {name}"
            assert f"[entry {stack.ids[name]}]" not in text


def test_json_form_and_scope_errors(stack: Stack) -> None:
    answer = stack.call("admin", "POST", "/api/v1/briefings", json={"networks": ["net-a"]})
    body = answer.json()
    assert body["themes"][0]["theme"]["name"] == "falls, huddles"
    assert body["scope"]["networks"] == ["net-a"]
    assert {s["entry_id"] for s in body["sources"]} >= {
        q["entry_id"] for q in body["themes"][0]["overview"]
    }
    bad = stack.call("admin", "POST", "/api/v1/briefings", json={"networks": ["net-z"]})
    assert bad.status_code == 422 and bad.json()["code"] == "briefing.scope"
    extra = stack.call("admin", "POST", "/api/v1/briefings", json={"network": "net-a"})
    assert extra.status_code == 422 and extra.json()["code"] == "request.invalid"


def test_pdf_by_accept(stack: Stack) -> None:
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    answer = stack.call(
        "reader", "POST", "/api/v1/briefings", json={}, headers={"Accept": "application/pdf"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "zebracorn" in text and "quokkaflux" not in text
