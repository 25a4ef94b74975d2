"""Measures on the real stores (SQLite, PostgreSQL): import, re-import, verdicts, bright spots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from corpus.measures import DEMO_MEASURES, read_measures
from models import Entry, Measure, Observation, Project
from synth.core.signals import Verdict
from synth.engine import Engine
from synth.errors import IngestError, NotFoundError
from synth.services.measures import (
    analyse_measure,
    bright_spots,
    get_measure,
    import_measures,
    project_verdicts,
)
from tests.conftest import make_engine

TRUTH = json.loads((DEMO_MEASURES.parent / "measures_truth.json").read_text(encoding="utf-8"))


@pytest.fixture
def engine(store_url: str, tmp_path: Path) -> Iterator[Engine]:
    built = make_engine(store_url, tmp_path)
    yield built
    built.close()


def load_demo(engine: Engine) -> None:
    batch = read_measures(DEMO_MEASURES)
    with engine.sessions.begin() as session:
        import_measures(session, batch.records, batch.problems)


def test_demo_import_reproduces_every_truth_verdict(engine: Engine) -> None:
    load_demo(engine)
    with engine.sessions() as session:
        verdicts = {
            slug: analyse_measure(get_measure(session, slug)).verdict.value for slug in TRUTH
        }
        assert session.scalar(select(func.count()).select_from(Observation)) == 800
    assert verdicts == {slug: item["expected"] for slug, item in TRUTH.items()}


def test_reimport_replaces_and_does_not_duplicate(engine: Engine) -> None:
    load_demo(engine)
    batch = read_measures(DEMO_MEASURES)
    with engine.sessions.begin() as session:
        report = import_measures(session, batch.records)
    assert report.measures_created == 0 and report.measures_updated == 28
    with engine.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 28
        assert session.scalar(select(func.count()).select_from(Observation)) == 800


def test_unknown_project_rejects_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "measure_id,project,measure,unit,type,better,period,value\n"
        "m1,no-such-project,Falls,count,count,down,2025-01-01,3\n",
        encoding="utf-8",
    )
    batch = read_measures(path)
    good = read_measures(DEMO_MEASURES).records[:2]
    with pytest.raises(IngestError) as caught, engine.sessions.begin() as session:
        import_measures(session, [*good, *batch.records], batch.problems)
    assert caught.value.problems == (
        f"{path}:2: field 'project': unknown project 'no-such-project' (create it first, or give "
        "network and organisation columns so the import can)",
    )
    with engine.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 0
        assert session.scalar(select(func.count()).select_from(Project)) == 0


def test_reader_problems_store_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "measure_id,project,network,organisation,measure,unit,type,better,period,value\n"
        "m1,p1,n1,o1,Falls,count,count,down,2025-01-01,3\n"
        "m1,p1,n1,o1,Falls,count,count,down,2025-02-01,x\n",
        encoding="utf-8",
    )
    batch = read_measures(path)
    with pytest.raises(IngestError, match="nothing was stored"), engine.sessions.begin() as s:
        import_measures(s, batch.records, batch.problems)
    with engine.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 0


def test_project_verdicts_and_bright_spots(engine: Engine) -> None:
    load_demo(engine)
    with engine.sessions() as session:
        projects = {p.slug: p.id for p in session.scalars(select(Project))}
        kingsway = projects["kingsway-physio-self-referral"]
        verdicts = project_verdicts(session, [kingsway, projects["thornbury-night-falls"], 99999])
        assert [v.verdict for v in verdicts[kingsway]] == [
            Verdict.IMPROVEMENT,
            Verdict.DETERIORATION,
        ]
        assert [v.verdict for v in verdicts[projects["thornbury-night-falls"]]] == [
            Verdict.NO_SIGNAL
        ]
        assert verdicts[99999] == []
        spots = {s.project: s for s in bright_spots(session)}
    improving = {
        slug.rsplit("-m", 1)[0] for slug, t in TRUTH.items() if t["expected"] == "improvement"
    }
    assert set(spots) == improving
    assert spots["kingsway-physio-self-referral"].entry_ids == ()  # no entries loaded here


def test_bright_spots_carry_the_projects_entries(engine: Engine) -> None:
    load_demo(engine)
    with engine.sessions.begin() as session:
        project = session.scalar(select(Project).where(Project.slug == "harbourside-falls-huddle"))
        assert project is not None
        entry = Entry(
            kind="story",
            title="Huddles",
            body="We started huddles.",
            network=project.network,
            organisation=project.organisation,
            project_id=project.id,
            visibility="public",
            content_hash="x" * 64,
        )
        session.add(entry)
    with engine.sessions() as session:
        spot = next(s for s in bright_spots(session) if s.project == "harbourside-falls-huddle")
    assert len(spot.entry_ids) == 1


def test_unknown_measure_is_not_found(engine: Engine) -> None:
    with engine.sessions() as session, pytest.raises(NotFoundError):
        get_measure(session, "nope")
