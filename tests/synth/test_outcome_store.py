"""Sentence outcome labels in the store: written at ingest, backfilled, read for themes."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from models import Entry, OutcomeSentence, Passage
from synth.config import OutcomeConfig
from synth.engine import Engine
from synth.services.ingest import ingest_records
from synth.services.outcomes import (
    classify_stored_passages,
    iter_outcome_sentences,
    outcome_counts,
)
from synth.types import EntryRecord, SourceRef, build_entry_record

STORY = (
    "We started a lunchtime huddle on the ward in March. "
    "The huddle worked well and falls fell from nine to four a month. "
    "The main barrier was a lack of cover on night shifts. "
    "Next we will test a second huddle at nine in the evening."
)
PDSA = {
    "plan": "Put an orange sticker on every chart for two weeks.",
    "study": "Done in 16 of 30 within a day. Several nurses had never been shown the technique.",
    "act": "Ask the educator for a teaching slot. Repeat the audit next month.",
}


def record(external_id: str, **fields: object) -> EntryRecord:
    data: dict[str, object] = {
        "id": external_id,
        "kind": "story",
        "title": "Huddles",
        "body": STORY,
        "network": "falls-prevention",
        "organisation": "westmoor-hospital",
    }
    data.update(fields)
    return build_entry_record(data, source=SourceRef(file="t.jsonl", line=1))


def rows(engine: Engine) -> list[OutcomeSentence]:
    with engine.sessions() as session:
        return list(session.scalars(select(OutcomeSentence).order_by(OutcomeSentence.id)))


def test_ingest_labels_sentences_inside_their_passages(fake_engine: Engine) -> None:
    ingest_records(
        fake_engine,
        [record("s-1"), record("p-1", kind="pdsa", body=None, title="Stickers", **PDSA)],
        update_indexes=False,
    )
    stored = rows(fake_engine)
    with fake_engine.sessions() as session:
        passages = {p.id: p for p in session.scalars(select(Passage))}
        bodies = {e.id: e.body for e in session.scalars(select(Entry))}
        for row in stored:
            passage = passages[row.passage_id]
            assert passage.entry_id == row.entry_id
            assert passage.start <= row.start < row.end <= passage.end
            assert 0 < row.confidence < 1
        texts = {bodies[r.entry_id][r.start : r.end]: r.label for r in stored}
        assert texts["The main barrier was a lack of cover on night shifts."] == "barrier"
        assert texts["Next we will test a second huddle at nine in the evening."] == "next_step"
        assert texts["Repeat the audit next month."] == "next_step"
        assert not any(t.startswith("Plan:") for t in texts)
        counts = outcome_counts(session, list(passages))
        assert set(counts) == {"worked", "did_not_work", "barrier", "enabler", "next_step"}
        assert sum(counts.values()) == len(stored)
        assert outcome_counts(session, []) == dict.fromkeys(counts, 0)
        found = list(iter_outcome_sentences(session, list(passages), labels=["next_step"]))
        assert {o.label for o in found} == {"next_step"} and len(found) == counts["next_step"]
        for item in iter_outcome_sentences(session, list(passages)):
            assert item.text == bodies[item.entry_id][item.start : item.end]


def test_reingest_replaces_labels_and_delete_cascades(fake_engine: Engine) -> None:
    ingest_records(fake_engine, [record("s-1")], update_indexes=False)
    before = rows(fake_engine)
    changed = STORY.replace("Next we will test", "We have stopped testing")
    ingest_records(fake_engine, [record("s-1", body=changed)], update_indexes=False)
    after = rows(fake_engine)
    assert len(after) == len(before) - 1
    with fake_engine.sessions() as session:
        current = set(session.scalars(select(Passage.id)))
    assert {r.passage_id for r in after} <= current
    assert "next_step" not in {r.label for r in after}
    with fake_engine.sessions.begin() as session:
        session.execute(delete(Entry))
    assert rows(fake_engine) == []


def test_backfill_labels_a_store_ingested_without_labels(fake_engine: Engine) -> None:
    fake_engine.config = fake_engine.config.model_copy(
        update={"outcomes": OutcomeConfig(enabled=False)}
    )
    records = [record("s-1"), record("s-2", body=STORY + " It mattered.")]
    ingest_records(fake_engine, records, update_indexes=False)
    assert rows(fake_engine) == []
    with fake_engine.sessions.begin() as session:
        report = classify_stored_passages(session, fake_engine.outcome_classifier)
    assert report.entries == 2 and report.sentences == len(rows(fake_engine)) > 0
    assert report.to_dict()["labels"]["barrier"] == 2  # type: ignore[index]
    encoded = len(fake_engine.embedder.encoded)  # type: ignore[attr-defined]
    with fake_engine.sessions.begin() as session:
        again = classify_stored_passages(session, fake_engine.outcome_classifier)
        everything = classify_stored_passages(
            session, fake_engine.outcome_classifier, only_missing=False
        )
        total = session.scalar(select(func.count()).select_from(OutcomeSentence))
    assert again.entries == 0
    assert everything.entries == 2 and total == report.sentences
    assert len(fake_engine.embedder.encoded) == encoded  # type: ignore[attr-defined]  # cached
