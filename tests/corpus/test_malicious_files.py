"""Hostile files are refused within the reader limits: size, pages, decompressed bytes, time.

Every bomb is built here, in the test's temporary folder: a DOCX with a member that unpacks
to 300 MB (honest and lying zip headers), PDFs with 5,000 pages, a page tree claiming two
billion pages and a content stream that inflates to 200 MB, and a CSV with a 100 MB field.
Each read must end with one clear problem (or a record, for the lying page count) quickly.
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pypdf import PdfWriter

from corpus import ReaderLimits, iter_records
from synth.types import EntryRecord, RecordProblem
from tests.corpus.files import DEFAULTS, write_docx, write_pdf

MB = 1_000_000
#: Generous wall-clock bound for refusing one bomb on a busy two-core machine.
SECONDS = 30.0


@contextmanager
def quickly(seconds: float = SECONDS) -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < seconds, "the reader took too long to refuse the file"


def only_problem(path: Path, limits: ReaderLimits | None = None) -> str:
    with quickly():
        items = list(iter_records(path, defaults=DEFAULTS, limits=limits or ReaderLimits()))
    assert len(items) == 1 and isinstance(items[0], RecordProblem), items
    return items[0].message


# -- DOCX ---------------------------------------------------------------------------------


def deflated_zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Stream ``size`` zero bytes into a deflated member without holding them in memory."""
    chunk = bytes(MB)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=False) as member:
        for _ in range(size // MB):
            member.write(chunk)


def docx_bomb(tmp_path: Path, *, member: str) -> Path:
    """A real DOCX with ``member`` replaced by (or added as) 300 MB of zeros, deflated."""
    source = write_docx(tmp_path / "plain.docx", ["Hello"])
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != member:
                new.writestr(info, old.read(info))
        deflated_zeros(new, member, 300 * MB)
    return path


def lie_about_size(path: Path, member: str, size: int) -> None:
    """Rewrite ``member``'s uncompressed size in both zip headers to ``size``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        struct.pack_into("<I", data, info.header_offset + 22, size)  # local file header
        position = archive.start_dir  # type: ignore[attr-defined]
    while data[position : position + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        name = data[position + 46 : position + 46 + name_len].decode()
        if name == member:
            struct.pack_into("<I", data, position + 24, size)  # central directory
        position += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


def test_docx_bomb_is_refused_by_its_unpacked_size(tmp_path: Path) -> None:
    path = docx_bomb(tmp_path, member="word/media/zeros.bin")
    assert path.stat().st_size < 2 * MB
    message = only_problem(path)
    assert "over the max_docx_uncompressed_bytes limit (200,000,000 bytes)" in message


def test_docx_bomb_with_lying_headers_stops_at_the_declared_size(tmp_path: Path) -> None:
    path = docx_bomb(tmp_path, member="word/document.xml")
    lie_about_size(path, "word/document.xml", 4_000)
    message = only_problem(path)
    assert message.startswith("is not a readable DOCX file")


def test_docx_time_budget(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "long.docx", ["A paragraph of text."] * 200)
    message = only_problem(path, ReaderLimits(max_seconds=1e-6))
    assert "max_seconds limit" in message


# -- PDF ----------------------------------------------------------------------------------


def raw_pdf(path: Path, objects: list[bytes]) -> Path:
    """Write a PDF from object bodies (object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def page_objects(content: bytes, *, count: int = 1, filters: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s>>\nstream\n" % (len(content), filters) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def test_raw_pdf_builder_makes_a_readable_pdf(tmp_path: Path) -> None:
    content = b"BT /F1 12 Tf 72 720 Td (Falls huddle) Tj ET"
    path = raw_pdf(tmp_path / "ok.pdf", page_objects(content))
    (record,) = iter_records(path, defaults=DEFAULTS)
    assert isinstance(record, EntryRecord) and "Falls huddle" in record.body


def test_pdf_with_thousands_of_pages_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter()
    for _ in range(5_000):
        writer.add_blank_page(width=72, height=72)
    path = tmp_path / "pages.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    message = only_problem(path)
    assert "5,000 pages is over the max_pdf_pages limit (500 pages)" in message


def test_pdf_claiming_two_billion_pages_reads_its_real_page(tmp_path: Path) -> None:
    content = b"BT /F1 12 Tf 72 720 Td (Falls huddle at night) Tj ET"
    path = raw_pdf(tmp_path / "count.pdf", page_objects(content, count=2_000_000_000))
    with quickly():
        items = list(iter_records(path, defaults=DEFAULTS))
    assert len(items) == 1
    assert isinstance(items[0], EntryRecord) and "Falls huddle" in items[0].body


def test_pdf_stream_that_inflates_to_200_mb_is_refused(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9)
    chunk = b"0 0 Td " * (MB // 7)
    bomb = b"".join(compressor.compress(chunk) for _ in range(200 * MB // len(chunk)))
    bomb += compressor.flush()
    assert len(bomb) < 2 * MB
    objects = page_objects(bomb, filters=b"/Filter /FlateDecode ")
    message = only_problem(raw_pdf(tmp_path / "inflate.pdf", objects))
    assert message.startswith("is not a readable PDF file"), message


def test_pdf_stream_limit_is_configurable(tmp_path: Path) -> None:
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (Falls huddle) Tj ET " * 5_000)
    path = raw_pdf(tmp_path / "ok.pdf", page_objects(content, filters=b"/Filter /FlateDecode "))
    assert isinstance(next(iter_records(path, defaults=DEFAULTS)), EntryRecord)
    message = only_problem(path, ReaderLimits(max_pdf_stream_bytes=10_000))
    assert message.startswith("is not a readable PDF file")


def test_pdf_time_budget(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "long.pdf", ["Falls huddle notes, page after page."] * 60)
    message = only_problem(path, ReaderLimits(max_seconds=0.01))
    assert "took longer than the max_seconds limit (0.01 s)" in message


# -- CSV ----------------------------------------------------------------------------------


def csv_with_field(path: Path, size: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("title,body\nHuddle,")
        for _ in range(size // MB):
            handle.write("x" * MB)
        handle.write("\nOther,Short body.\n")
    return path


def test_csv_with_a_100_mb_field_is_refused_by_file_size(tmp_path: Path) -> None:
    path = csv_with_field(tmp_path / "big.csv", 100 * MB)
    message = only_problem(path)
    assert "over the max_file_bytes limit (50,000,000 bytes)" in message


@pytest.mark.slow
def test_csv_with_a_100_mb_field_under_a_raised_size_limit_is_refused_by_field(
    tmp_path: Path,
) -> None:
    path = csv_with_field(tmp_path / "big.csv", 100 * MB)
    limits = ReaderLimits(max_file_bytes=200 * MB)
    with quickly():
        items = list(iter_records(path, defaults=DEFAULTS, limits=limits))
    problem, record = items
    assert isinstance(problem, RecordProblem) and problem.field == "body"
    assert "over the max_field_chars limit (1,000,000 characters)" in problem.message
    assert isinstance(record, EntryRecord) and record.title == "Other"
