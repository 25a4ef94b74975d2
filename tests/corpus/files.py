"""Builders for real PDF and DOCX files used by the corpus tests."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import docx
from fpdf import FPDF

DEFAULTS = {"network": "falls-prevention", "organisation": "westmoor-hospital", "kind": "story"}


def write_pdf(path: Path, pages: Sequence[str], *, title: str | None = None) -> Path:
    """Write a PDF with one page per text (a blank page for "")."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title is not None:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 10, text=text)
    pdf.output(str(path))
    return path


def write_docx(
    path: Path,
    paragraphs: Sequence[str],
    *,
    title: str | None = None,
    table: Sequence[Sequence[str]] = (),
) -> Path:
    """Write a DOCX with the paragraphs, then a table of the given rows."""
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    document.save(str(path))
    return path


def add_zip_member(path: Path, name: str, size: int) -> None:
    """Append a highly compressible member of ``size`` zero bytes to a zip (a small bomb)."""
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, bytes(size))
