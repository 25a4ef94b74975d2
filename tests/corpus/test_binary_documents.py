from __future__ import annotations

from pathlib import Path

import docx
import pytest

from corpus import ReaderLimits, iter_records
from synth.types import EntryRecord, RecordProblem, SourceRef
from tests.corpus.files import DEFAULTS, add_zip_member, write_docx, write_pdf

# --- PDF ---------------------------------------------------------------------------------


def test_pdf_pages_join_with_blank_lines_and_title_from_metadata(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "report.pdf", ["Falls fell by a third.", "Next: roll out."], title="Falls report"
    )
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Falls report"
    assert record.body == "Falls fell by a third.\n\nNext: roll out."
    assert record.source == SourceRef(file=str(path), external_id="report.pdf")


def test_pdf_without_title_uses_first_short_line(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "untitled.pdf", ["Ward 7 audit\nAll beds checked."])
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Ward 7 audit"


def test_pdf_over_page_limit(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "long.pdf", ["one", "two", "three"])
    (problem,) = iter_records(path, defaults=DEFAULTS, limits=ReaderLimits(max_pdf_pages=2))
    assert problem == RecordProblem(
        SourceRef(file=str(path)), None, "3 pages is over the max_pdf_pages limit (2 pages)"
    )


def test_pdf_without_text_is_a_body_problem(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [""])
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(problem, RecordProblem)
    assert problem.field == "body"
    assert "no extractable text" in problem.message


@pytest.mark.parametrize("content", [b"%PDF-1.7\n garbage", b"not a pdf at all", b"%PDF-"])
def test_corrupt_pdf_is_one_problem(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(problem, RecordProblem)
    assert (problem.source.line, problem.field) == (None, None)
    assert problem.message.startswith("is not a readable PDF file (")


def test_truncated_pdf_never_raises(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "full.pdf", ["Some text"]).read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    items = list(iter_records(path, defaults=DEFAULTS))
    assert len(items) == 1


# --- DOCX --------------------------------------------------------------------------------


def test_docx_paragraphs_and_table_cells(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "case.docx",
        ["Intro paragraph.", "", "Second paragraph."],
        title="Case study: huddles",
        table=[["Measure", "Result"], ["Falls", "down 30%"]],
    )
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Case study: huddles"
    assert record.body == (
        "Intro paragraph.\n\nSecond paragraph.\n\nMeasure\n\nResult\n\nFalls\n\ndown 30%"
    )
    assert record.source.external_id == "case.docx"


def test_docx_merged_cells_read_once_and_title_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "merged.docx"
    document = docx.Document()
    document.add_paragraph("Short opening line")
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(1, 1))
    merged.text = "Merged"
    table.cell(0, 2).text = "Right"
    document.save(str(path))
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord)
    assert record.title == "Short opening line"
    assert record.body == "Short opening line\n\nMerged\n\nRight"


def test_docx_zip_bomb_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_docx(tmp_path / "bomb.docx", ["Hello"])
    add_zip_member(path, "word/media/zeros.bin", 5_000_000)
    assert path.stat().st_size < 100_000

    def refuse(*_args: object) -> None:
        raise AssertionError("python-docx must not open a file over the limit")

    monkeypatch.setattr("corpus.binary_documents.docx.Document", refuse)
    limits = ReaderLimits(max_docx_uncompressed_bytes=1_000_000)
    (problem,) = iter_records(path, defaults=DEFAULTS, limits=limits)
    assert isinstance(problem, RecordProblem)
    assert (problem.source.line, problem.field) == (None, None)
    assert problem.message.startswith("unpacks to ")
    assert "over the max_docx_uncompressed_bytes limit (1,000,000 bytes)" in problem.message


@pytest.mark.parametrize("kind", ["not-zip", "zip-not-docx", "truncated"])
def test_corrupt_docx_is_one_problem(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "broken.docx"
    if kind == "not-zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    elif kind == "zip-not-docx":
        add_zip_member(path, "hello.txt", 10)
    else:
        data = write_docx(tmp_path / "full.docx", ["Text"]).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(problem, RecordProblem)
    assert (problem.source.line, problem.field) == (None, None)
    assert problem.message.startswith("is not a readable DOCX file (")


def test_docx_without_text_is_a_body_problem(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "empty.docx", [])
    (problem,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(problem, RecordProblem)
    assert (problem.field, problem.message) == ("body", "document has no text")
