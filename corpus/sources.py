"""Front door of the corpus package: find source files and read them into records."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from corpus.formats import (
    DEFAULT_LIMITS,
    Item,
    Reader,
    ReaderLimits,
    ReadRequest,
    SourceFormatError,
)
from corpus.registry import detect_format, get_format, known_extensions

__all__ = ["iter_records", "iter_source_files"]

#: Name prefixes of files and folders that are never sources: hidden, and Office lock files.
_SKIPPED_PREFIXES = (".", "~$")


def iter_records(
    path: Path,
    *,
    fmt: str | None = None,
    defaults: Mapping[str, object] | None = None,
    column_map: Mapping[str, str] | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
) -> Iterator[Item]:
    r"""Read one source file into validated records, streaming where the format allows.

    Bad content never raises: each record that fails validation is yielded as a
    :class:`~synth.types.RecordProblem` naming its line and field, and a file that cannot be
    read at all (missing, not UTF-8, damaged, over a limit) yields one problem whose line is
    None.

    Args:
        path: The file to read.
        fmt: A format name from :func:`available_formats`; None detects it from the extension.
        defaults: Field values for records that have none (``network``, ``organisation``...).
        column_map: Source column/key name -> record field name; ``""`` drops the column.
            Applies to CSV headers, JSON/JSONL keys and Markdown front matter keys.
        limits: Size bounds to enforce.

    Returns:
        An iterator of :class:`~synth.types.EntryRecord` and ``RecordProblem`` values.

    Raises:
        SourceFormatError: ``fmt`` is unknown, or it is None and the extension is unknown
            (raised by this call, before iteration starts).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "ward7.md").write_text("# Falls huddle\n\nWe met daily.\n")
        >>> defaults = {"kind": "story", "network": "falls", "organisation": "westmoor"}
        >>> [record.title for record in iter_records(folder / "ward7.md", defaults=defaults)]
        ['Falls huddle']
    """
    path = Path(path)
    spec = get_format(fmt if fmt is not None else detect_format(path), file=path)
    request = ReadRequest(
        path=path,
        defaults=dict(defaults or {}),
        column_map=dict(column_map or {}),
        limits=limits,
    )
    return _read(request, spec.reader)


def _read(request: ReadRequest, reader: Reader) -> Iterator[Item]:
    problem = _file_problem(request)
    if problem is not None:
        yield problem
        return
    yield from reader(request)


def _file_problem(request: ReadRequest) -> Item | None:
    """Return why the file cannot be read at all (missing, special, empty, too big), if so."""
    try:
        info = request.path.stat()
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    if not stat.S_ISREG(info.st_mode):
        return request.problem("is not a regular file")
    if info.st_size == 0:
        return request.problem("is empty")
    if info.st_size > request.limits.max_file_bytes:
        return request.problem(request.limits.exceeded("max_file_bytes", info.st_size, "bytes"))
    return None


def iter_source_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Expand files and folders into the source files to read, in a deterministic order.

    Folders are walked recursively in name order, keeping files whose extension a format
    reads and skipping hidden files and folders, Office lock files (``~$...``) and symlinked
    folders. Files named directly are kept whatever their extension. A file reached twice is
    yielded once.

    Args:
        paths: Files and folders.

    Returns:
        An iterator of file paths.

    Raises:
        SourceFormatError: A path does not exist (raised by this call), or a folder cannot be
            listed (raised during iteration).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("b.csv", "a.md", ".hidden.md", "notes.xlsx"):
        ...     _ = (folder / name).write_text("x")
        >>> [path.name for path in iter_source_files([folder])]
        ['a.md', 'b.csv']
    """
    roots = [Path(path) for path in paths]
    for root in roots:
        if not root.exists():
            raise SourceFormatError("does not exist; check the path", file=root)
    return _expand(roots)


def _expand(roots: list[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for root in roots:
        for path in _walk(root) if root.is_dir() else (root,):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path


def _walk(folder: Path) -> Iterator[Path]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as err:
        raise SourceFormatError(f"cannot be listed: {err.strerror or err}", file=folder) from err
    extensions = known_extensions()
    for entry in entries:
        if entry.name.startswith(_SKIPPED_PREFIXES):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in extensions:
            yield Path(entry.path)
