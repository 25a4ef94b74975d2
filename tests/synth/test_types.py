from __future__ import annotations

import datetime as dt

import pytest

from synth.types import EntryKind, RecordInvalidError, SourceRef, Visibility, build_entry_record

SRC = SourceRef(file="x.jsonl", line=4)
BASE = {"kind": "story", "title": "T", "body": "B", "network": "n", "organisation": "o"}


def test_valid_record_with_defaults() -> None:
    rec = build_entry_record({**BASE, "id": "7", "tags": "a, b;a"}, source=SRC)
    assert rec.kind is EntryKind.STORY
    assert rec.visibility is Visibility.NETWORK
    assert rec.tags == ("a", "b")
    assert rec.source.external_id == "7" and rec.source.line == 4


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "memo"}, "kind", "not one of: reflection, story"),
        ({"title": " "}, "title", "is required"),
        ({"network": None}, "network", "is required"),
        ({"visibility": "secret"}, "visibility", "private, network, public"),
        ({"occurred_on": "31/02/2025"}, "occurred_on", "not a date"),
        ({"organisation": "Bad Slug!"}, "organisation", "not a slug"),
        ({"colour": "red"}, "colour", "not a known field"),
        ({"tags": {"a": 1}}, "tags", "list"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(RecordInvalidError) as info:
        build_entry_record({**BASE, **change}, source=SRC)
    assert info.value.field == field
    assert message in info.value.message


def test_pdsa_body_composed_from_fields() -> None:
    rec = build_entry_record(
        {**BASE, "kind": "pdsa", "body": None, "plan": "P.", "study": "S."}, source=SRC
    )
    assert rec.body == "Plan: P.\n\nStudy: S."
    assert rec.fields == (("plan", "P."), ("study", "S."))


def test_defaults_fill_missing_fields_and_dates_parse() -> None:
    rec = build_entry_record(
        {"kind": "insight", "title": "T", "body": "B", "occurred_on": "2025-03-04T10:00:00"},
        source=SRC,
        defaults={"network": "n", "organisation": "o", "visibility": "public"},
    )
    assert rec.occurred_on == dt.date(2025, 3, 4)
    assert rec.visibility is Visibility.PUBLIC
