from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from corpus import iter_records
from synth.types import EntryKind, EntryRecord, RecordProblem, SourceRef
from tests.corpus.files import DEFAULTS

# --- Markdown ----------------------------------------------------------------------------

FRONT_MATTER = """---
title: Falls huddle at Westmoor
kind: case_study
network: falls-prevention
organisation: westmoor-hospital
occurred_on: 2024-02-01
tags: [huddles, night-shift]
---
# A heading that is not the title

We met at 7am.
"""


def test_markdown_front_matter_gives_fields_and_is_stripped_from_body(tmp_path: Path) -> None:
    path = tmp_path / "huddle.md"
    path.write_text(FRONT_MATTER)
    (record,) = iter_records(path)
    assert record == EntryRecord(
        kind=EntryKind.CASE_STUDY,
        title="Falls huddle at Westmoor",
        body="# A heading that is not the title\n\nWe met at 7am.",
        network="falls-prevention",
        organisation="westmoor-hospital",
        occurred_on=dt.date(2024, 2, 1),
        tags=("huddles", "night-shift"),
        source=SourceRef(file=str(path), external_id="huddle.md"),
    )


def test_markdown_front_matter_id_wins_and_column_map_applies(tmp_path: Path) -> None:
    path = tmp_path / "huddle.markdown"
    path.write_text("---\nid: ward-7/huddle\nteam: harbourside-general\n...\nBody only.\n")
    (record,) = iter_records(path, defaults=DEFAULTS, column_map={"team": "organisation"})
    assert isinstance(record, EntryRecord)
    assert record.source.external_id == "ward-7/huddle"
    assert record.organisation == "harbourside-general"
    assert (record.title, record.body) == ("Body only.", "Body only.")


def test_markdown_without_front_matter_uses_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    text = "Intro line\n\n```\n# not a heading\n```\n\n## Real heading ##\n\nText\n"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Real heading"
    assert record.body == text.strip()
    assert record.source == SourceRef(file=str(path), external_id="notes.md")


def test_markdown_title_falls_back_to_short_line_then_stem(tmp_path: Path) -> None:
    path = tmp_path / "short.md"
    path.write_text("\n\nA short first line\nmore text\n")
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "A short first line"

    path = tmp_path / "ward-7-notes.md"
    path.write_text("word " * 40)
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "ward-7-notes"


def test_markdown_default_title_beats_fallbacks(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("# Heading\n\nText\n")
    (record,) = iter_records(path, defaults={**DEFAULTS, "title": "Given"})
    assert isinstance(record, EntryRecord)
    assert record.title == "Given"


@pytest.mark.parametrize(
    ("front", "line", "field", "message"),
    [
        ("title: [unclosed\n", 3, None, "front matter is not valid YAML: "),
        ("- just\n- a list\n", None, None, "front matter must be a YAML mapping"),
        ("title: {nested: map}\n", None, "title", "must be text, a number, a date"),
        ("1: one\n", None, None, "front matter key 1 must be text"),
        ("occurred_on: 2024-13-45\n", None, None, "front matter is not valid YAML: "),
        ("colour: blue\n", None, "colour", "is not a known field"),
        ("kind: anecdote\n", None, "kind", "'anecdote' is not one of"),
    ],
)
def test_markdown_front_matter_problems(
    tmp_path: Path, front: str, line: int | None, field: str | None, message: str
) -> None:
    path = tmp_path / "bad.md"
    path.write_text(f"---\n{front}---\nBody\n")
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(problem, RecordProblem)
    assert (problem.source.file, problem.source.line) == (str(path), line)
    assert problem.field == field
    assert problem.message.startswith(message) or message in problem.message


def test_markdown_front_matter_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for depth in range(1, 9):
        ref = "*" + chr(ord("a") + depth - 1)
        levels.append(f"{chr(ord('a') + depth)}: &{chr(ord('a') + depth)} [{', '.join([ref] * 9)}]")
    path = tmp_path / "bomb.md"
    path.write_text("---\n" + "\n".join(levels) + "\ntags: *i\n---\nBody\n")
    started = time.perf_counter()
    items = list(iter_records(path, defaults=DEFAULTS))
    assert time.perf_counter() - started < 2
    assert [(type(p), getattr(p, "field", None)) for p in items] == [(RecordProblem, "b")]


# --- plain text --------------------------------------------------------------------------


def test_text_file_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "handover.txt"
    path.write_bytes(b"\r\n  Night handover  \r\nPatient safety huddle moved.\r\n")
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Night handover"
    assert record.body == "Night handover  \nPatient safety huddle moved."
    assert record.source == SourceRef(file=str(path), external_id="handover.txt")


def test_whitespace_only_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n")
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert problem == RecordProblem(SourceRef(file=str(path)), None, "is empty")


def test_markdown_front_matter_key_collision_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "clash.md"
    path.write_text("---\nteam: westmoor-hospital\norganisation: harbourside-general\n---\nBody\n")
    (problem,) = iter_records(path, defaults=DEFAULTS, column_map={"team": "organisation"})
    assert isinstance(problem, RecordProblem)
    assert problem.field == "organisation"
    assert "more than one key ('team', 'organisation')" in problem.message
