r"""Read source files (JSON Lines, JSON, CSV, Markdown, text, PDF, DOCX) into validated records.

The corpus package is an adapter: it turns files into :class:`synth.types.EntryRecord`
values, or :class:`synth.types.RecordProblem` reports saying where and why a record failed,
and never hands the engine a raw dict.

Example:
    >>> from pathlib import Path
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.jsonl").write_text(
    ...     '{"kind": "insight", "title": "Huddles", "body": "Daily huddles cut falls."}\n'
    ...     '{"kind": "insight", "body": "No title here."}\n'
    ... )
    >>> defaults = {"network": "falls-prevention", "organisation": "westmoor-hospital"}
    >>> for item in iter_records(folder / "notes.jsonl", defaults=defaults):
    ...     print(getattr(item, "title", None) or item.describe())  # doctest: +ELLIPSIS
    Huddles
    .../notes.jsonl:2: field 'title': is required
"""

from corpus.formats import ReaderLimits, SourceFormatError
from corpus.registry import available_formats, detect_format
from corpus.sources import iter_records, iter_source_files

__all__ = [
    "ReaderLimits",
    "SourceFormatError",
    "available_formats",
    "detect_format",
    "iter_records",
    "iter_source_files",
]
