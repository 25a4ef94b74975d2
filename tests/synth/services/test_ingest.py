"""The ingestion pipeline on SQLite and PostgreSQL, with the hashing test embedder."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from models import EmbeddingCacheItem, Entry, Passage, PassageDeletion
from synth.engine import Engine
from synth.errors import IngestError
from synth.services.ingest import ingest_records
from synth.types import EntryRecord, RecordProblem, SourceRef, build_entry_record

BODY = (
    "We ran a ten minute safety huddle at 10am on ward 7 every weekday. "
    "Falls dropped from nine to four a month. Night staff felt left out at first. "
    "Call the ward on 01632 960123 or email sam.jones@westmoor.nhs.uk for the template."
)


def record(external_id: str = "e-1", body: str = BODY, **extra: object) -> EntryRecord:
    data: dict[str, object] = {
        "id": external_id,
        "kind": "story",
        "title": "Huddles on ward 7",
        "body": body,
        "network": "falls-prevention",
        "organisation": "westmoor-hospital",
        "occurred_on": "2025-04-01",
        "tags": ["huddles", "falls"],
    }
    data.update(extra)
    return build_entry_record(data, source=SourceRef(file="test.jsonl", line=1))


def count(engine: Engine, model: type[object]) -> int:
    with engine.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_ingest_stores_redacted_entry_with_passages_and_offsets(fake_engine: Engine) -> None:
    report = ingest_records(fake_engine, [record()])
    assert report.created == 1
    with fake_engine.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert "01632" not in entry.body and "sam.jones" not in entry.body
        assert "[PHONE]" in entry.body and "[EMAIL]" in entry.body
        assert entry.redactions == {"phone": 1, "email": 1}
        assert entry.occurred_on == dt.date(2025, 4, 1)
        assert [t.name for t in entry.tags] == ["falls", "huddles"]
        assert entry.network.slug == "falls-prevention"
        for passage in entry.passages:
            assert entry.body[passage.start : passage.end] == passage.text
            vector = np.frombuffer(passage.embedding, dtype="<f4")
            assert vector.shape == (passage.embedding_dim,)
            assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
            assert passage.embedding_model == "test-hashing-embedder"


def passage_ids(engine: Engine) -> set[int]:
    with engine.sessions() as session:
        return set(session.scalars(select(Passage.id)))


def test_reingest_same_id_is_unchanged_then_updates_in_place(fake_engine: Engine) -> None:
    first = ingest_records(fake_engine, [record()])
    old_ids = passage_ids(fake_engine)
    again = ingest_records(fake_engine, [record()])
    assert again.unchanged == 1 and again.created == 0
    changed = ingest_records(fake_engine, [record(body=BODY + " We now run it on nights too.")])
    assert changed.updated == 1
    assert count(fake_engine, Entry) == 1
    assert changed.entry_ids == first.entry_ids
    assert count(fake_engine, PassageDeletion) >= 1
    assert min(passage_ids(fake_engine)) > max(old_ids), "passage ids must never be reused"
    with fake_engine.sessions() as session:
        assert "nights too" in session.scalars(select(Entry.body)).one()


def test_same_text_is_never_embedded_twice(fake_engine: Engine) -> None:
    embedder = fake_engine.embedder
    ingest_records(fake_engine, [record()])
    calls = len(embedder.encoded)  # type: ignore[attr-defined]
    report = ingest_records(fake_engine, [record(tags=["nights"])])  # same text, new metadata
    assert report.updated == 1
    assert len(embedder.encoded) == calls  # type: ignore[attr-defined]
    assert count(fake_engine, EmbeddingCacheItem) == calls
    ingest_records(fake_engine, [record(title="A new title")])  # passages embed "title. text"
    assert len(embedder.encoded) > calls  # type: ignore[attr-defined]


def test_exact_duplicate_from_another_source_is_skipped(fake_engine: Engine) -> None:
    ingest_records(fake_engine, [record("a")])
    report = ingest_records(fake_engine, [record("b", body=BODY.upper())])
    assert report.created == 0
    assert len(report.duplicates) == 1 and "test.jsonl:1" in report.duplicates[0]
    assert count(fake_engine, Entry) == 1


def test_near_duplicate_is_stored_and_flagged(fake_engine: Engine) -> None:
    ingest_records(fake_engine, [record("a")])
    near = BODY.replace("every weekday", "each weekday")
    report = ingest_records(fake_engine, [record("b", body=near)])
    assert report.created == 1
    assert report.near_duplicates == [(report.entry_ids[0], 1)] or report.near_duplicates
    with fake_engine.sessions() as session:
        flagged = session.scalars(select(Entry).where(Entry.external_id == "b")).one()
        assert flagged.near_duplicate_of is not None


def test_invalid_batch_stores_nothing(fake_engine: Engine) -> None:
    problem = RecordProblem(SourceRef(file="bad.jsonl", line=3), "kind", "'memo' is not one of")
    with pytest.raises(IngestError) as info:
        ingest_records(fake_engine, [record("a"), problem, record("c", body="Other text.")])
    assert info.value.problems == ("bad.jsonl:3: field 'kind': 'memo' is not one of",)
    assert count(fake_engine, Entry) == 0
    assert count(fake_engine, Passage) == 0


def test_skip_invalid_stores_the_rest_and_reports(fake_engine: Engine) -> None:
    problem = RecordProblem(SourceRef(file="bad.jsonl", line=3), "title", "is required")
    report = ingest_records(fake_engine, [record("a"), problem], skip_invalid=True)
    assert report.created == 1
    assert report.skipped_invalid == ["bad.jsonl:3: field 'title': is required"]


def test_repeated_id_in_one_batch_is_a_problem(fake_engine: Engine) -> None:
    with pytest.raises(IngestError, match="1 invalid"):
        ingest_records(fake_engine, [record("a"), record("a", body="Different.")])
    assert count(fake_engine, Entry) == 0


def test_structured_pdsa_fields_are_redacted_and_composed(fake_engine: Engine) -> None:
    pdsa = build_entry_record(
        {
            "id": "p-1",
            "kind": "pdsa",
            "title": "Huddle PDSA 1",
            "network": "falls-prevention",
            "organisation": "westmoor-hospital",
            "plan": "Try a huddle at 10am.",
            "do": "Ran it for a week; questions to sam.jones@westmoor.nhs.uk.",
            "study": "Falls fell from 9 to 4.",
            "act": "Adopt.",
        },
        source=SourceRef(file="p.jsonl", line=1),
    )
    ingest_records(fake_engine, [pdsa])
    with fake_engine.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.fields["do"] == "Ran it for a week; questions to [EMAIL]."
        assert entry.body.startswith("Plan: Try a huddle at 10am.\n\nDo: Ran it")
        assert entry.kind == "pdsa"


def test_author_is_stored_only_as_a_pseudonym(fake_engine: Engine) -> None:
    ingest_records(fake_engine, [record(author="Priya Natarajan")])
    with fake_engine.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.author_pseudonym is not None
        assert entry.author_pseudonym.startswith("author-")
        assert "Priya" not in entry.author_pseudonym


def test_project_network_and_membership_created_on_first_use(fake_engine: Engine) -> None:
    ingest_records(fake_engine, [record(project="westmoor-huddles")])
    with fake_engine.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.project is not None
        assert entry.project.organisation.slug == "westmoor-hospital"
        assert [n.slug for n in entry.organisation.networks] == ["falls-prevention"]
