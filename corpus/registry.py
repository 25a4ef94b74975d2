"""The source formats by name: which reader reads each, and which file extensions select it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from corpus.binary_documents import iter_docx, iter_pdf
from corpus.documents import iter_markdown, iter_plain_text
from corpus.formats import Reader, SourceFormatError
from corpus.tabular import iter_csv, iter_json, iter_jsonl

__all__ = ["SourceFormat", "available_formats", "detect_format", "get_format"]


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """One readable format.

    Attributes:
        name: The registry key (``"jsonl"``), as given to ``iter_records(fmt=...)``.
        extensions: Lower-case file suffixes that select it, with the dot.
        reader: Reads one file of this format into records and problems.
    """

    name: str
    extensions: tuple[str, ...]
    reader: Reader


_FORMATS: Mapping[str, SourceFormat] = {
    spec.name: spec
    for spec in (
        SourceFormat("csv", (".csv",), iter_csv),
        SourceFormat("docx", (".docx",), iter_docx),
        SourceFormat("json", (".json",), iter_json),
        SourceFormat("jsonl", (".jsonl", ".ndjson"), iter_jsonl),
        SourceFormat("md", (".md", ".markdown"), iter_markdown),
        SourceFormat("pdf", (".pdf",), iter_pdf),
        SourceFormat("txt", (".txt",), iter_plain_text),
    )
}
_BY_EXTENSION: Mapping[str, str] = {
    extension: spec.name for spec in _FORMATS.values() for extension in spec.extensions
}


def available_formats() -> tuple[str, ...]:
    """Return the registered format names, sorted.

    Example:
        >>> available_formats()
        ('csv', 'docx', 'json', 'jsonl', 'md', 'pdf', 'txt')
    """
    return tuple(sorted(_FORMATS))


def known_extensions() -> frozenset[str]:
    """Return every file suffix (lower-case, with the dot) that selects a format."""
    return frozenset(_BY_EXTENSION)


def get_format(name: str, *, file: Path | None = None) -> SourceFormat:
    """Return the format registered as ``name``.

    Raises:
        SourceFormatError: No format has that name; the message lists those that do.
    """
    try:
        return _FORMATS[name]
    except KeyError:
        raise SourceFormatError(
            f"unknown format {name!r}; available formats: {', '.join(available_formats())}",
            file=file,
        ) from None


def detect_format(path: Path) -> str:
    """Return the format name selected by ``path``'s extension (case-insensitive).

    Example:
        >>> detect_format(Path("notes/2024-ward-7.NDJSON"))
        'jsonl'

    Raises:
        SourceFormatError: The extension is not one any format reads; the message lists the
            formats and their extensions.
    """
    name = _BY_EXTENSION.get(path.suffix.lower())
    if name is None:
        choices = "; ".join(
            f"{spec.name} ({', '.join(spec.extensions)})" for spec in _FORMATS.values()
        )
        suffix = repr(path.suffix) if path.suffix else "no extension"
        raise SourceFormatError(
            f"cannot tell the format from {suffix}; pass fmt= one of the available formats: "
            f"{choices}",
            file=path,
        )
    return name
