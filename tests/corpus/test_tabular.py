from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus import ReaderLimits, iter_records
from synth.types import EntryKind, EntryRecord, RecordProblem, SourceRef, Visibility
from tests.corpus.files import DEFAULTS

GOOD = {
    "kind": "pdsa",
    "title": "Falls huddle",
    "network": "falls-prevention",
    "organisation": "westmoor-hospital",
    "plan": "Huddle at 7am",
    "study": "Falls fell",
}


def lines(*rows: object) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def problems(items: list[EntryRecord | RecordProblem]) -> list[RecordProblem]:
    return [item for item in items if isinstance(item, RecordProblem)]


# --- JSON Lines --------------------------------------------------------------------------


def test_jsonl_reads_records_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    second = {
        "id": "n-2",
        "kind": "Reflection",
        "title": " Night round ",
        "body": 'We met, at night; "quietly".\nThen slept.',
        "network": "falls-prevention",
        "organisation": "Westmoor-Hospital",
        "visibility": "public",
        "occurred_on": "2024-03-05",
        "tags": ["Huddles", "night", "huddles"],
        "url": "https://example.org/n2",
    }
    path.write_text(lines(GOOD, "", second))
    first, record = iter_records(path)
    assert isinstance(first, EntryRecord)
    assert first.kind is EntryKind.PDSA
    assert first.fields == (("plan", "Huddle at 7am"), ("study", "Falls fell"))
    assert first.body == "Plan: Huddle at 7am\n\nStudy: Falls fell"
    assert first.source == SourceRef(file=str(path), line=1)
    assert record == EntryRecord(
        kind=EntryKind.REFLECTION,
        title="Night round",
        body='We met, at night; "quietly".\nThen slept.',
        network="falls-prevention",
        organisation="westmoor-hospital",
        visibility=Visibility.PUBLIC,
        occurred_on=dt.date(2024, 3, 5),
        tags=("huddles", "night"),
        source=SourceRef(file=str(path), line=3, url="https://example.org/n2", external_id="n-2"),
    )


def test_jsonl_problems_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(
        lines(
            GOOD,
            GOOD,
            '{"kind": "story", "title": ',
            {**GOOD, "title": ""},
            {**GOOD, "kind": "anecdote"},
            {**GOOD, "occurred_on": "05/03/2024"},
            {**GOOD, "colour": "blue"},
            ["not", "an", "object"],
            '{"title": NaN}',
        )
    )
    items = list(iter_records(path))
    assert [type(item).__name__ for item in items[:2]] == ["EntryRecord", "EntryRecord"]
    found = [(p.source, p.field) for p in problems(items)]
    file = str(path)
    assert found == [
        (SourceRef(file=file, line=3), None),
        (SourceRef(file=file, line=4), "title"),
        (SourceRef(file=file, line=5), "kind"),
        (SourceRef(file=file, line=6), "occurred_on"),
        (SourceRef(file=file, line=7), "colour"),
        (SourceRef(file=file, line=8), None),
        (SourceRef(file=file, line=9), None),
    ]
    messages = [p.message for p in problems(items)]
    assert messages[0].startswith("is not valid JSON: Expecting value")
    assert messages[1] == "is required"
    assert "'anecdote' is not one of: reflection, story" in messages[2]
    assert "'05/03/2024' is not a date" in messages[3]
    assert messages[4].startswith("is not a known field")
    assert messages[5] == "must be a JSON object, not an array"
    assert messages[6] == "is not valid JSON: NaN is not valid JSON"
    assert (
        problems(items)[0].describe() == f"{file}:3: is not valid JSON: Expecting value (column 28)"
    )


def test_jsonl_streams_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(lines(*[GOOD] * 50))
    calls: list[str] = []
    real_loads = json.loads

    def counting_loads(text: str, **kwargs: object) -> object:
        calls.append(text)
        return real_loads(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("corpus.tabular.json.loads", counting_loads)
    items = iter_records(path)
    assert isinstance(items, Iterator)
    assert isinstance(next(items), EntryRecord)
    assert len(calls) == 1


def test_jsonl_tolerates_bom_and_crlf_and_applies_column_map(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    row = {"Team": "westmoor-hospital", "Notes": "Body text", "title": "T", "Ref": "x"}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(row).encode() + b"\r\n" + b"\r\n")
    column_map = {"Team": "organisation", "Notes": "body", "Ref": ""}
    (record,) = iter_records(path, defaults=DEFAULTS, column_map=column_map)
    assert isinstance(record, EntryRecord)
    assert (record.organisation, record.body, record.title) == (
        "westmoor-hospital",
        "Body text",
        "T",
    )


def test_jsonl_deeply_nested_line_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "\n" + json.dumps(GOOD) + "\n")
    first, second = iter_records(path)
    assert isinstance(first, RecordProblem)
    assert first.source.line == 1
    assert isinstance(second, EntryRecord)


# --- JSON --------------------------------------------------------------------------------


def test_json_array_entries_carry_their_start_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "title": None}, GOOD], indent=2))
    first, missing, third = iter_records(path)
    assert isinstance(first, EntryRecord)
    assert first.source.line == 2
    assert isinstance(missing, RecordProblem)
    assert (missing.source.line, missing.field) == (10, "title")
    assert isinstance(third, EntryRecord)
    assert third.source.line == 18


def test_json_object_with_entries(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        '{"exported": "2024-05-01", "meta": {"entries": 3},\n'
        ' "entries": [\n'
        f"  {json.dumps(GOOD)},\n"
        '  "not an object"\n'
        " ]}\n"
    )
    record, problem = iter_records(path)
    assert isinstance(record, EntryRecord)
    assert record.source.line == 3
    assert problem == RecordProblem(
        source=SourceRef(file=str(path), line=4),
        field=None,
        message="must be a JSON object, not a string",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"items": []}', 'expected a JSON array of entries or an object with an "entries" array'),
        ('{"entries": {"a": 1}}', "expected a JSON array of entries or an object"),
        ("42", 'expected a JSON array of entries or an object with an "entries" array'),
        (
            '[\n  {"a": 1},\n  {"a": 2\n]',
            "is not valid JSON: Expecting ',' delimiter (line 4 column 1)",
        ),
        ("[1, 2] [3]", "is not valid JSON: Extra data (line 1 column 8)"),
        ("[1, 2,]", "is not valid JSON: Expecting value (line 1 column 7)"),
        ("{'entries': []}", "is not valid JSON: Expecting property name enclosed in double quotes"),
        ("[Infinity]", "is not valid JSON: Infinity is not valid JSON"),
        ("[" * 100_000, "is not valid JSON: nested too deeply"),
    ],
)
def test_json_unreadable_file_is_one_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    (problem,) = iter_records(path)
    assert isinstance(problem, RecordProblem)
    assert (problem.source, problem.field) == (SourceRef(file=str(path)), None)
    assert problem.message.startswith(message)


def test_json_empty_array_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    path.write_text('{"entries": []}')
    assert list(iter_records(path)) == []


# --- CSV ---------------------------------------------------------------------------------

CSV_TEXT = (
    "Title,Team,kind,Notes,tags,occurred_on,Internal ref\n"
    'Huddle,westmoor-hospital,story,"Line one,\nline two ""quoted""",'
    '"Falls; night, huddles",2024-01-02,X1\n'
    "Rounding,harbourside-general,insight,Hourly rounds,,,X2\n"
    ",westmoor-hospital,story,No title,,,X3\n"
    "\n"
    "Odd kind,westmoor-hospital,anecdote,Body,,,X4\n"
    "Bad date,westmoor-hospital,story,Body,,2024-13-01,X5\n"
)
CSV_MAP = {"Title": "title", "Team": "organisation", "Notes": "body", "Internal ref": ""}


def test_csv_reads_rows_with_column_map(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV_TEXT)
    items = list(iter_records(path, defaults=DEFAULTS, column_map=CSV_MAP))
    huddle, rounding = items[:2]
    assert isinstance(huddle, EntryRecord)
    assert huddle.body == 'Line one,\nline two "quoted"'
    assert huddle.tags == ("falls", "night", "huddles")
    assert huddle.occurred_on == dt.date(2024, 1, 2)
    assert huddle.source == SourceRef(file=str(path), line=2)
    assert isinstance(rounding, EntryRecord)
    assert (rounding.organisation, rounding.kind) == ("harbourside-general", EntryKind.INSIGHT)
    assert rounding.source.line == 4
    found = [(p.source.line, p.field) for p in problems(items)]
    assert found == [(5, "title"), (7, "kind"), (8, "occurred_on")]


def test_csv_unknown_column_is_a_problem_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("title,body,Colour\nA,Body,\nB,Body,blue\n")
    first, second = iter_records(path, defaults=DEFAULTS)
    assert isinstance(first, EntryRecord)
    assert isinstance(second, RecordProblem)
    assert (second.source.line, second.field) == (3, "Colour")
    assert second.message.startswith("is not a known field (known: ")


def test_csv_extra_cells_and_duplicate_columns(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("title,body\nA,Body,surprise\nB,Body,,\n")
    extra, ok = iter_records(path, defaults=DEFAULTS)
    assert isinstance(extra, RecordProblem)
    assert (extra.source.line, extra.message) == (2, "has 3 cells but the header has 2 columns")
    assert isinstance(ok, EntryRecord)

    path = tmp_path / "dupes.csv"
    path.write_text("title,Notes,body\nA,x,y\n")
    (problem,) = iter_records(path, defaults=DEFAULTS, column_map={"Notes": "body"})
    assert isinstance(problem, RecordProblem)
    assert (problem.source.line, problem.field) == (None, "body")
    assert "more than one column ('Notes', 'body')" in problem.message


def test_csv_header_only_has_no_records_and_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(b"\xef\xbb\xbftitle,body\r\n")
    assert list(iter_records(path, defaults=DEFAULTS)) == []
    path.write_bytes(b"\xef\xbb\xbftitle,body\r\nA,B\r\n")
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert (record.title, record.body) == ("A", "B")


def test_csv_field_over_max_field_chars_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "body"])
        writer.writerow(["Big", "x\n" * 60])
        writer.writerow(["Small", "ok"])
    limits = ReaderLimits(max_field_chars=100)
    big, small = iter_records(path, defaults=DEFAULTS, limits=limits)
    assert isinstance(big, RecordProblem)
    assert (big.source.line, big.field) == (2, "body")
    assert big.message == "120 characters is over the max_field_chars limit (100 characters)"
    assert isinstance(small, EntryRecord)
    assert small.source.line == 63


def test_csv_field_larger_than_csv_module_default_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    body = "word " * 60_000  # 300,000 chars, over csv's default 131,072 field limit
    path.write_text(f"title,body\nLong,{body}\n")
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.body == body.strip()


def test_json_key_collision_after_column_map_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "clash.jsonl"
    path.write_text(lines({**GOOD, "Notes": "x", "body": "y"}))
    (problem,) = iter_records(path, column_map={"Notes": "body"})
    assert isinstance(problem, RecordProblem)
    assert (problem.source.line, problem.field) == (1, "body")
    assert "more than one key ('Notes', 'body')" in problem.message


def test_csv_blank_cells_fall_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text("title,body,network,kind\nA,Body,  ,\n")
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert (record.network, record.kind) == ("falls-prevention", EntryKind.STORY)
