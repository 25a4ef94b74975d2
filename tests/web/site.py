"""A running app over the API tests' store, plus a theme and a measure, and page helpers.

The store is tests/api/stack.py's: five entries of every visibility, each with a marker word
only it contains, and reader / writer / admin keys. A current topic run puts every passage in
one theme whose key phrases include a hidden entry's marker, so pages must filter it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import Passage, PassageTopic, Theme, Topic, TopicRun
from synth.engine import Engine
from synth.services.measures import import_measures
from synth.types import MeasureAnnotationRecord, MeasureRecord, MeasureType, ObservationRecord
from tests.api.stack import Stack, hashing_engine, running_stack

__all__ = ["csrf_of", "running_site", "sign_in"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, token: str | None) -> None:
    """Start a fresh cookie session; sign in with ``token`` unless it is None (anonymous)."""
    client.cookies.clear()
    if token is None:
        return
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"key": token, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def add_theme(engine: Engine) -> int:
    """A current topic run with one theme holding every passage; returns the theme id."""
    with engine.sessions.begin() as session:
        passages = list(session.scalars(select(Passage).order_by(Passage.id)))
        run = TopicRun(
            status="current", embedding_model="test-hashing-embedder",
            corpus_size=len(passages), last_passage_id=passages[-1].id,
        )  # fmt: skip
        session.add(run)
        session.flush()
        theme = Theme(
            name="falls, huddles", key_phrases=["falls", "huddles", "quokkaflux", "bed alarms"],
            centroid=b"\0" * 256, first_run_id=run.id, last_run_id=run.id,
        )  # fmt: skip
        session.add(theme)
        session.flush()
        topic = Topic(
            run_id=run.id, theme_id=theme.id, model_topic=0, label=theme.name,
            key_phrases=theme.key_phrases, size=len(passages), centroid=b"\0" * 256,
            representatives=[p.id for p in passages[:3]],
        )  # fmt: skip
        session.add(topic)
        session.flush()
        for i, passage in enumerate(passages):
            session.add(
                PassageTopic(
                    run_id=run.id,
                    passage_id=passage.id,
                    topic_id=topic.id,
                    theme_id=theme.id,
                    similarity=0.8,
                    x=float(i),
                    y=float(i % 3),
                    assigned_by="fit",
                )
            )
        return theme.id


def add_measure(engine: Engine) -> None:
    """A falling count measure for project huddles-a, with an annotation."""
    start = dt.date(2025, 1, 1)
    points = tuple(
        ObservationRecord(dt.date(start.year + (start.month + i - 1) // 12, (i % 12) + 1, 1), v)
        for i, v in enumerate([9, 8, 9, 10, 8, 9, 9, 10, 8, 9, 4, 3, 4, 3, 2, 3, 4, 3, 2, 3])
    )
    record = MeasureRecord(
        measure_id="huddles-a-falls", project="huddles-a", name="Falls per month",
        unit="falls", type=MeasureType.COUNT, better="down", observations=points,
        annotations=(MeasureAnnotationRecord(dt.date(2025, 11, 1), "Huddles started"),),
    )  # fmt: skip
    with engine.sessions.begin() as session:
        import_measures(session, [record])


@contextmanager
def running_site(tmp_path: Path, **overrides: Any) -> Iterator[Stack]:
    """The API tests' stack with a theme and a measure; ``extra`` has their ids."""
    with running_stack(tmp_path, **overrides) as stack:
        engine = hashing_engine(stack.settings.engine_config())
        stack.extra["theme"] = add_theme(engine)
        add_measure(engine)
        engine.close()
        measures = stack.call("admin", "GET", "/api/v1/measures").json()["items"]
        stack.extra["measure"] = measures[0]["id"]
        yield stack


def page(client: TestClient, url: str) -> httpx.Response:
    """GET a page without following redirects."""
    return client.get(url, follow_redirects=False)
