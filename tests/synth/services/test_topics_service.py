"""Topic runs on the real stack (BERTopic, UMAP, HDBSCAN; SQLite and PostgreSQL).

Entries are written from four distinct vocabularies so the true topics are known; the
hashing embedder makes texts that share words similar, which is all clustering needs here.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from models import PassageTopic, Theme, Topic, TopicRun
from synth.config import ThemeConfig, TopicConfig
from synth.engine import Engine
from synth.errors import NotFoundError, SynthError
from synth.search.query import Viewer
from synth.services.ingest import ingest_records
from synth.services.themes import ThemeScope, get_theme, list_themes
from synth.services.topics import assign_new_passages, current_run, fit_topic_run
from synth.types import EntryKind, EntryRecord, SourceRef, Visibility

pytestmark = pytest.mark.slow

VOCABULARY = {
    "huddle": "huddle safety board morning briefing escalation risk ward nurses",
    "referral": "online referral form website queue phone booking reception access",
    "falls": "falls bed sensor alarm mobility hip fracture night slipper",
    "insulin": "insulin dose glucose diabetes chart pharmacist error syringe hypo",
    "sepsis": "sepsis antibiotics lactate screening fever triage bundle culture",
}
NETWORKS = ("net-a", "net-b", "net-c")


def _text(topic: str, rng: random.Random) -> str:
    words = VOCABULARY[topic].split()
    return " ".join(rng.choice(words) for _ in range(18)) + "."


def _records(topics: tuple[str, ...], per_topic: int, seed: int, prefix: str) -> list[EntryRecord]:
    rng = random.Random(seed)
    records = []
    for topic in topics:
        for i in range(per_topic):
            network = NETWORKS[i % 3]
            records.append(
                EntryRecord(
                    kind=EntryKind.REFLECTION,
                    title=f"{topic} note {i}",
                    body=_text(topic, rng),
                    network=network,
                    organisation=f"{network}-org{i % 2}",
                    visibility=Visibility.PUBLIC if i % 2 else Visibility.PRIVATE,
                    occurred_on=dt.date(2025, 1 + i % 12, 10),
                    source=SourceRef(file="t.jsonl", external_id=f"{prefix}-{topic}-{i}"),
                )
            )
    return records


def _setup(engine: Engine, topics: tuple[str, ...], per_topic: int = 14) -> None:
    ingest_records(engine, _records(topics, per_topic, 1, "a"), update_indexes=False)


def _fit(engine: Engine, tmp_path: Path) -> object:
    return fit_topic_run(engine.sessions, engine.embedder, TopicConfig(), tmp_path)


def _theme_words(engine: Engine) -> dict[int, str]:
    """Theme id → the vocabulary its members were written from (majority)."""
    with engine.sessions() as session:
        run = current_run(session)
        assert run is not None
        rows = session.execute(
            select(PassageTopic.theme_id, Topic.key_phrases)
            .join(Topic, Topic.id == PassageTopic.topic_id)
            .where(PassageTopic.run_id == run.id)
        ).all()
    out = {}
    for theme_id, phrases in rows:
        for name, words in VOCABULARY.items():
            if set(" ".join(phrases).split()) & set(words.split()):
                out[theme_id] = name
    return out


def test_fit_finds_the_topics_and_refit_keeps_theme_ids(
    fake_engine: Engine, tmp_path: Path
) -> None:
    _setup(fake_engine, ("huddle", "referral", "falls", "insulin"))
    first = _fit(fake_engine, tmp_path)
    assert first.topics == 4  # type: ignore[attr-defined]
    assert first.outlier_share <= 0.15  # type: ignore[attr-defined]
    before = _theme_words(fake_engine)
    assert sorted(before.values()) == ["falls", "huddle", "insulin", "referral"]
    second = _fit(fake_engine, tmp_path)
    assert (second.themes_kept, second.themes_new) == (4, 0)  # type: ignore[attr-defined]
    assert _theme_words(fake_engine) == before
    with fake_engine.sessions() as session:
        statuses = session.scalars(select(TopicRun.status).order_by(TopicRun.id)).all()
    assert statuses == ["superseded", "current"]
    assert (tmp_path / "topics" / "run-2").is_dir()


def test_new_topic_becomes_a_new_theme_and_vanished_one_is_archived(
    fake_engine: Engine, tmp_path: Path
) -> None:
    _setup(fake_engine, ("huddle", "referral", "falls"))
    _fit(fake_engine, tmp_path)
    before = {v: k for k, v in _theme_words(fake_engine).items()}
    ingest_records(fake_engine, _records(("sepsis",), 14, 2, "b"), update_indexes=False)
    with fake_engine.sessions.begin() as session:  # delete every falls entry
        from models import Entry

        for entry in session.scalars(select(Entry).where(Entry.title.like("falls%"))):
            session.delete(entry)
    report = _fit(fake_engine, tmp_path)
    after = {v: k for k, v in _theme_words(fake_engine).items()}
    assert after["huddle"] == before["huddle"] and after["referral"] == before["referral"]
    assert after["sepsis"] not in before.values()
    assert report.themes_archived == 1  # type: ignore[attr-defined]
    with fake_engine.sessions() as session:
        archived = session.get_one(Theme, before["falls"])
        assert archived.archived_at is not None


def test_new_passages_are_assigned_without_a_refit(fake_engine: Engine, tmp_path: Path) -> None:
    _setup(fake_engine, ("huddle", "referral", "insulin"))
    _fit(fake_engine, tmp_path)
    themes = {v: k for k, v in _theme_words(fake_engine).items()}
    ingest_records(fake_engine, _records(("insulin",), 3, 9, "c"), update_indexes=False)
    with fake_engine.sessions.begin() as session:
        assert assign_new_passages(session, TopicConfig()).assigned == 0  # ingest did it
        rows = session.execute(
            select(PassageTopic.theme_id, PassageTopic.assigned_by).where(
                PassageTopic.assigned_by == "ingest"
            )
        ).all()
    assert len(rows) == 3
    assert {theme for theme, _ in rows} == {themes["insulin"]}


def test_a_failed_fit_leaves_the_previous_run_current(
    fake_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(fake_engine, ("huddle", "referral", "falls"))
    _fit(fake_engine, tmp_path)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed midway")

    monkeypatch.setattr("synth.services.topics.fit_topics", explode)
    with pytest.raises(RuntimeError, match="killed midway"):
        _fit(fake_engine, tmp_path)
    with fake_engine.sessions() as session:
        runs = session.execute(select(TopicRun.id, TopicRun.status, TopicRun.error)).all()
        assigned = session.scalar(select(func.count()).select_from(PassageTopic))
    assert [(r.id, r.status) for r in runs] == [(1, "current"), (2, "failed")]
    assert "killed midway" in (runs[1].error or "")
    assert assigned == 14 * 3


def test_too_small_a_store_is_a_clear_error(fake_engine: Engine, tmp_path: Path) -> None:
    _setup(fake_engine, ("huddle",), per_topic=3)
    with pytest.raises(SynthError, match="at least 20"):
        _fit(fake_engine, tmp_path)


def test_themes_count_only_what_the_viewer_may_see(fake_engine: Engine, tmp_path: Path) -> None:
    _setup(fake_engine, ("huddle", "referral", "falls"))
    _fit(fake_engine, tmp_path)
    config = ThemeConfig(min_networks=3, min_organisations=3, min_quarters=2)
    with fake_engine.sessions() as session:
        everything = list_themes(session, ThemeScope(Viewer.operator()), config)
        public = list_themes(session, ThemeScope(Viewer.anonymous()), config)
        one_network = list_themes(
            session, ThemeScope(Viewer.operator(), networks=("net-a",)), config
        )
        assert len(everything) == len(public) == 3
        assert sum(v.profile.entries for v in everything) == 42
        assert sum(v.profile.entries for v in public) == 21  # odd-numbered entries are public
        assert all(set(v.profile.networks) == {"net-a"} for v in one_network)
        assert {v.profile.theme_class for v in everything} == {"generalisable"}
        with pytest.raises(NotFoundError):
            get_theme(session, 999, ThemeScope(Viewer.operator()), config)
    vectors = np.stack([np.ones(3)])
    assert vectors.shape == (1, 3)
