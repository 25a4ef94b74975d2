from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from corpus import (
    ReaderLimits,
    SourceFormatError,
    available_formats,
    detect_format,
    iter_records,
)
from synth.types import EntryRecord
from tests.corpus.files import DEFAULTS

ALL_FORMATS = ("csv", "docx", "json", "jsonl", "md", "pdf", "txt")


def test_available_formats_lists_every_registered_name_sorted() -> None:
    assert available_formats() == ALL_FORMATS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "json"),
        ("a.csv", "csv"),
        ("a.md", "md"),
        ("a.markdown", "md"),
        ("a.txt", "txt"),
        ("a.pdf", "pdf"),
        ("a.docx", "docx"),
        ("dir.v2/REPORT.PDF", "pdf"),
        ("Notes.Markdown", "md"),
    ],
)
def test_detect_format_by_extension(name: str, expected: str) -> None:
    assert detect_format(Path(name)) == expected


@pytest.mark.parametrize("name", ["notes.xlsx", "README", "archive.tar.gz", "notes.doc"])
def test_unknown_extension_raises_listing_formats(name: str) -> None:
    with pytest.raises(SourceFormatError) as info:
        detect_format(Path(name))
    err = info.value
    assert isinstance(err, ValueError)
    assert err.file == name
    assert err.code == "corpus.format"
    for fmt in ALL_FORMATS:
        assert fmt in err.message
    assert str(err).startswith(f"{name}: ")


def test_iter_records_unknown_fmt_raises_before_iteration(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text("{}\n")
    with pytest.raises(SourceFormatError, match="unknown format 'xlsx'") as info:
        iter_records(path, fmt="xlsx")
    assert info.value.file == str(path)
    assert "csv, docx, json, jsonl, md, pdf, txt" in info.value.message


def test_iter_records_unknown_extension_raises_before_iteration(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match="pass fmt="):
        iter_records(tmp_path / "missing.xlsx")


def test_fmt_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "ward-7.log"
    path.write_text("Night shift handover\n\nWe moved the huddle to 7am.\n")
    (record,) = iter_records(path, fmt="txt", defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Night shift handover"


def test_reader_limits_defaults_and_frozen() -> None:
    limits = ReaderLimits()
    assert limits.max_file_bytes == 50_000_000
    assert limits.max_pdf_pages == 500
    assert limits.max_docx_uncompressed_bytes == 200_000_000
    assert limits.max_field_chars == 1_000_000
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_pdf_pages = 1  # type: ignore[misc]


@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_reader_limits_reject_non_positive_integers(value: object) -> None:
    with pytest.raises(ValueError, match="max_pdf_pages must be a positive integer"):
        ReaderLimits(max_pdf_pages=value)  # type: ignore[arg-type]
