"""Readers for one-entry binary documents: PDF (pypdf) and DOCX (python-docx)."""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docx
from docx.table import Table
from pypdf import PdfReader, apply_configuration

from corpus.documents import build_document
from corpus.formats import Item, ReadRequest

__all__ = ["iter_docx", "iter_pdf"]

logger = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 200
_ENCRYPTED = "is an encrypted PDF; save an unprotected copy and read that"


@dataclass(frozen=True, slots=True)
class _Extracted:
    """Text and title taken out of a binary document."""

    text: str
    title: str | None


def iter_pdf(request: ReadRequest) -> Iterator[Item]:
    """Yield the one record of a PDF: page texts joined by blank lines, title from metadata.

    A PDF with more than ``max_pdf_pages`` pages, an encrypted or damaged PDF, or one with no
    extractable text (a scan) is a problem.
    """
    extracted = _extract_pdf(request)
    if not isinstance(extracted, _Extracted):
        yield extracted
        return
    yield _document(request, extracted, "PDF has no extractable text (is it a scan? OCR it first)")


def iter_docx(request: ReadRequest) -> Iterator[Item]:
    """Yield the one record of a DOCX: paragraphs and table cells joined by blank lines.

    The title comes from the document's core properties. The zip's declared uncompressed size
    is checked against ``max_docx_uncompressed_bytes`` before python-docx opens it.
    """
    problem = _check_docx_archive(request)
    if problem is not None:
        yield problem
        return
    extracted = _extract_docx(request)
    if not isinstance(extracted, _Extracted):
        yield extracted
        return
    yield _document(request, extracted, "document has no text")


def _document(request: ReadRequest, extracted: _Extracted, empty: str) -> Item:
    if not extracted.text.strip():
        return request.problem(empty, field_name="body")
    fields = {"title": extracted.title} if extracted.title else {}
    return build_document(request, fields, extracted.text)


def _extract_pdf(request: ReadRequest) -> _Extracted | Item:
    limits = request.limits
    deadline = time.monotonic() + limits.max_seconds
    bound = limits.max_pdf_stream_bytes
    try:
        with apply_configuration(
            maximum_declared_stream_length=bound,
            array_based_stream_maximum_output_length=bound,
            brotli_maximum_output_length=bound,
            lzw_maximum_output_length=bound,
            run_length_maximum_output_length=bound,
            zlib_maximum_output_length=bound,
        ):
            reader = PdfReader(io.BytesIO(request.path.read_bytes()))
            if reader.is_encrypted and not reader.decrypt(""):
                return request.problem(_ENCRYPTED)
            pages = len(reader.pages)
            if pages > limits.max_pdf_pages:
                return request.problem(limits.exceeded("max_pdf_pages", pages, "pages"))
            metadata = reader.metadata
            title = metadata.title if metadata is not None else None
            texts = _page_texts(request, reader, deadline)
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    except Exception as err:  # pypdf raises many exception types on damaged input
        return _damaged(request, "PDF", err)
    if not isinstance(texts, list):
        return texts
    text = "\n\n".join(page.strip() for page in texts if page.strip())
    return _Extracted(text=text, title=_clean_title(title))


def _page_texts(request: ReadRequest, reader: PdfReader, deadline: float) -> list[str] | Item:
    """Extract each page's text, giving up once the time budget is spent."""
    texts = []
    for number, page in enumerate(reader.pages, start=1):
        if time.monotonic() > deadline:
            return _too_slow(request, f"page {number}")
        texts.append(page.extract_text())
    return texts


def _too_slow(request: ReadRequest, where: str) -> Item:
    seconds = request.limits.max_seconds
    return request.problem(
        f"took longer than the max_seconds limit ({seconds:g} s) to read, stopped at {where}"
    )


def _check_docx_archive(request: ReadRequest) -> Item | None:
    try:
        with zipfile.ZipFile(request.path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as err:
        return _damaged(request, "DOCX", err)
    limit = request.limits.max_docx_uncompressed_bytes
    if total > limit:
        message = request.limits.exceeded("max_docx_uncompressed_bytes", total, "bytes")
        return request.problem(f"unpacks to {message}")
    return None


def _extract_docx(request: ReadRequest) -> _Extracted | Item:
    deadline = time.monotonic() + request.limits.max_seconds
    try:
        document = docx.Document(str(request.path))
        title = document.core_properties.title
        blocks = []
        for number, block in enumerate(_blocks(document), start=1):
            if time.monotonic() > deadline:
                return _too_slow(request, f"paragraph {number}")
            if block.strip():
                blocks.append(block.strip())
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    except Exception as err:  # python-docx/lxml raise many exception types on damaged input
        return _damaged(request, "DOCX", err)
    return _Extracted(text="\n\n".join(blocks), title=_clean_title(title))


def _blocks(container: Any) -> Iterator[str]:
    """Yield the text of each paragraph in document order, descending into table cells."""
    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for cell in _unique_cells(block):
                yield from _blocks(cell)
        else:
            yield str(block.text)


def _unique_cells(table: Any) -> Iterator[Any]:
    """Yield each cell once: python-docx repeats merged cells for every grid position."""
    seen: dict[int, Any] = {}  # id -> cell element, held so ids are not reused
    for row in table.rows:
        for cell in row.cells:
            element = cell._tc
            if id(element) not in seen:
                seen[id(element)] = element
                yield cell


def _clean_title(title: object) -> str | None:
    if not isinstance(title, str) or not title.strip():
        return None
    return " ".join(title.split())


def _damaged(request: ReadRequest, kind: str, err: BaseException) -> Item:
    detail = str(err).strip() or type(err).__name__
    if len(detail) > _MAX_ERROR_CHARS:
        detail = detail[:_MAX_ERROR_CHARS] + "…"
    logger.debug("unreadable %s %s", kind, request.path, exc_info=err)
    return request.problem(f"is not a readable {kind} file ({detail})")
