"""Shared vocabulary of the source readers: limits, read requests, the reader protocol, errors."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Protocol, TypeAlias

from synth.types import (
    EntryRecord,
    RecordInvalidError,
    RecordProblem,
    SourceRef,
    build_entry_record,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Item",
    "ReadRequest",
    "Reader",
    "ReaderLimits",
    "SourceFormatError",
]

#: What a reader yields: a validated record, or a problem saying where and why one failed.
Item: TypeAlias = EntryRecord | RecordProblem

_UTF8_CHUNK_BYTES = 1 << 20


class SourceFormatError(ValueError):
    """A path or format name cannot be read as a source (unknown format, missing path).

    Attributes:
        file: The path concerned, if any.
        message: What is wrong and what to do, without the path.
    """

    code = "corpus.format"
    title = "Unreadable source format"

    def __init__(self, message: str, *, file: Path | str | None = None) -> None:
        self.file = None if file is None else str(file)
        self.message = message
        super().__init__(f"{self.file}: {message}" if self.file else message)


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Bounds that keep a hostile or accidental huge file from exhausting memory or time.

    Attributes:
        max_file_bytes: Largest file read at all.
        max_pdf_pages: Most pages read from one PDF.
        max_docx_uncompressed_bytes: Largest total uncompressed size of a DOCX's zip members,
            checked before the document is parsed (zip-bomb guard).
        max_field_chars: Longest single CSV cell.
        max_pdf_stream_bytes: Largest decompressed stream inside a PDF (a compressed page
            or object stream that unpacks to more is refused: decompression-bomb guard).
        max_seconds: Time budget for extracting one PDF or DOCX, checked page by page
            (PDF) and paragraph by paragraph (DOCX); may be fractional.
    """

    max_file_bytes: int = 50_000_000
    max_pdf_pages: int = 500
    max_docx_uncompressed_bytes: int = 200_000_000
    max_field_chars: int = 1_000_000
    max_pdf_stream_bytes: int = 50_000_000
    max_seconds: float = 60.0

    def __post_init__(self) -> None:
        for limit in fields(self):
            value = getattr(self, limit.name)
            number = (int, float) if limit.name == "max_seconds" else int
            if isinstance(value, bool) or not isinstance(value, number) or value <= 0:
                kind = "number" if limit.name == "max_seconds" else "integer"
                message = f"ReaderLimits.{limit.name} must be a positive {kind}, not {value!r}"
                raise ValueError(message)

    def exceeded(self, name: str, actual: int, unit: str) -> str:
        """Return the message for ``actual`` going over the limit called ``name``."""
        return f"{actual:,} {unit} is over the {name} limit ({getattr(self, name):,} {unit})"


#: The limits used when a caller gives none.
DEFAULT_LIMITS = ReaderLimits()


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One file to read and how: the input every reader takes.

    Attributes:
        path: The file.
        defaults: Field values used where a record has none (``network``, ``kind``...).
        column_map: Source column/key name -> record field name; ``""`` drops the column.
        limits: The bounds to enforce.
    """

    path: Path
    defaults: Mapping[str, object] = field(default_factory=dict)
    column_map: Mapping[str, str] = field(default_factory=dict)
    limits: ReaderLimits = DEFAULT_LIMITS

    def source(self, line: int | None = None, *, external_id: str | None = None) -> SourceRef:
        """Return a :class:`SourceRef` for this file at ``line``."""
        return SourceRef(file=str(self.path), line=line, external_id=external_id)

    def problem(
        self, message: str, *, line: int | None = None, field_name: str | None = None
    ) -> RecordProblem:
        """Return a :class:`RecordProblem` for this file (``line`` None: the whole file)."""
        return RecordProblem(source=self.source(line), field=field_name, message=message)

    def build(self, data: Mapping[str, object], source: SourceRef) -> Item:
        """Validate ``data`` (keys already record fields) with the request's defaults.

        A validation failure is returned as a problem at ``source``, never raised.
        """
        try:
            return build_entry_record(data, source=source, defaults=self.defaults)
        except RecordInvalidError as err:
            return RecordProblem(source=source, field=err.field, message=err.message)

    def build_mapped(self, data: Mapping[str, object], source: SourceRef) -> Item:
        """Rename ``data``'s keys with :attr:`column_map`, then :meth:`build` it."""
        try:
            renamed = self.rename(data)
        except RecordInvalidError as err:
            return RecordProblem(source=source, field=err.field, message=err.message)
        return self.build(renamed, source)

    def rename(self, data: Mapping[str, object]) -> dict[str, object]:
        """Apply :attr:`column_map` to one raw record's keys, dropping keys mapped to ``""``.

        Raises:
            RecordInvalidError: Two keys map to the same field.
        """
        renamed: dict[str, object] = {}
        origin: dict[str, str] = {}
        for key, value in data.items():
            target = self.column_map.get(key, key)
            if not target:
                continue
            if target in renamed:
                raise RecordInvalidError(
                    target,
                    f"is given by more than one key ({origin[target]!r}, {key!r}); "
                    "drop one with column_map",
                )
            renamed[target], origin[target] = value, key
        return renamed


class Reader(Protocol):
    """Read one file into records and problems; never raise for bad content."""

    def __call__(self, request: ReadRequest) -> Iterator[Item]:
        """Yield one item per record in ``request.path``."""
        ...


def find_utf8_error(path: Path) -> str | None:
    """Return why ``path`` is not UTF-8 text, or None if it is; reads in bounded chunks.

    Raises:
        OSError: The file cannot be opened or read.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_UTF8_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                return utf8_message(offset + err.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return utf8_message(offset)
    return None


def utf8_message(byte_offset: int) -> str:
    """Return the problem message for a file that is not UTF-8 text."""
    return (
        f"is not UTF-8 text (invalid byte at offset {byte_offset:,}); "
        "re-save the file as UTF-8 and read it again"
    )


def load_text(request: ReadRequest) -> str | RecordProblem:
    """Return the whole file decoded as UTF-8 (a leading BOM dropped), or a problem."""
    try:
        data = request.path.read_bytes()
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return request.problem(utf8_message(err.start))
    if not text.strip():
        return request.problem("is empty")
    return text
