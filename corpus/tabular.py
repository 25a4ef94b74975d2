"""Readers for many-entry files: JSON Lines and CSV streamed record by record, JSON whole."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator

from corpus._json_layout import JsonLayoutError, locate_entries, parse_constant
from corpus.formats import Item, ReaderLimits, ReadRequest, find_utf8_error, load_text, utf8_message

__all__ = ["iter_csv", "iter_json", "iter_jsonl"]


def iter_jsonl(request: ReadRequest) -> Iterator[Item]:
    """Yield one item per non-blank line of a JSON Lines file, reading line by line.

    Each line must hold one JSON object whose keys are record fields (after ``column_map``).
    """
    problem = _utf8_problem(request)
    if problem is not None:
        yield problem
        return
    try:
        with request.path.open("r", encoding="utf-8-sig", newline="\n") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield _jsonl_item(request, number, line)
    except UnicodeDecodeError as err:
        yield request.problem(utf8_message(err.start))
    except OSError as err:
        yield request.problem(f"cannot be read: {err.strerror or err}")


def _jsonl_item(request: ReadRequest, number: int, line: str) -> Item:
    try:
        value = json.loads(line.rstrip("\r\n"), parse_constant=parse_constant)
    except RecursionError:
        return request.problem("is not valid JSON: nested too deeply", line=number)
    except json.JSONDecodeError as err:
        return request.problem(f"is not valid JSON: {err.msg} (column {err.colno})", line=number)
    except ValueError as err:
        return request.problem(f"is not valid JSON: {err}", line=number)
    return _object_item(request, value, number)


def _object_item(request: ReadRequest, value: object, line: int) -> Item:
    if not isinstance(value, dict):
        return request.problem(f"must be a JSON object, not {_json_type(value)}", line=line)
    return request.build_mapped(value, request.source(line))


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def iter_json(request: ReadRequest) -> Iterator[Item]:
    """Yield one item per entry of a JSON file: a top-level array or ``{"entries": [...]}``.

    The file is parsed whole (it is already bounded by ``max_file_bytes``); each entry's
    problems carry the line on which the entry starts.
    """
    text = load_text(request)
    if not isinstance(text, str):
        yield text
        return
    try:
        entries = locate_entries(text)
    except JsonLayoutError as err:
        yield request.problem(str(err))
        return
    for line, value in entries:
        yield _object_item(request, value, line)


def iter_csv(request: ReadRequest) -> Iterator[Item]:
    """Yield one item per non-blank row of a CSV file with a header row, reading row by row.

    Header names are record fields, or are mapped to them by ``column_map`` (``""`` drops a
    column). A row's problems carry the line on which the row starts (the header is line 1).
    """
    problem = _utf8_problem(request)
    if problem is not None:
        yield problem
        return
    _allow_fields_up_to(request.limits)
    try:
        with request.path.open("r", encoding="utf-8-sig", newline="") as handle:
            yield from _csv_rows(request, handle)
    except UnicodeDecodeError as err:
        yield request.problem(utf8_message(err.start))
    except OSError as err:
        yield request.problem(f"cannot be read: {err.strerror or err}")


def _csv_rows(request: ReadRequest, handle: Iterable[str]) -> Iterator[Item]:
    reader = csv.reader(handle)
    try:
        header = _csv_header(request, reader)
        if not isinstance(header, tuple):
            yield header
            return
        previous = reader.line_num
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                yield _csv_item(request, header, row, start)
    except csv.Error as err:
        yield request.problem(f"is not valid CSV: {err}", line=reader.line_num)


def _csv_header(request: ReadRequest, reader: Iterator[list[str]]) -> tuple[str, ...] | Item:
    """Return the header's field names (``""`` for dropped columns), or a problem."""
    row = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if row is None:
        return request.problem("is empty (no header row)")
    names = [cell.strip() or f"column {index}" for index, cell in enumerate(row, start=1)]
    fields = tuple(request.column_map.get(name, name) for name in names)
    for index, name in enumerate(fields):
        if name and name in fields[:index]:
            columns = ", ".join(repr(n) for n, f in zip(names, fields, strict=True) if f == name)
            return request.problem(
                f"is given by more than one column ({columns}); "
                "rename one or drop it with column_map",
                field_name=name,
            )
    return fields


def _csv_item(request: ReadRequest, header: tuple[str, ...], row: list[str], line: int) -> Item:
    extra = row[len(header) :]
    if any(cell.strip() for cell in extra):
        return request.problem(
            f"has {len(row)} cells but the header has {len(header)} columns", line=line
        )
    data: dict[str, object] = {}
    for name, cell in zip(header, row, strict=False):
        if not name or not cell.strip():  # dropped column, or a missing value: defaults apply
            continue
        if len(cell) > request.limits.max_field_chars:
            message = request.limits.exceeded("max_field_chars", len(cell), "characters")
            return request.problem(message, line=line, field_name=name)
        data[name] = cell
    return request.build(data, request.source(line))


def _allow_fields_up_to(limits: ReaderLimits) -> None:
    """Raise the csv module's (process-wide) field size limit so no accepted file trips it.

    A field of N characters takes at least N bytes, so a limit above both ``max_file_bytes``
    and ``max_field_chars`` is never reached by a file that passed the size check; cells over
    ``max_field_chars`` are then reported per row by :func:`_csv_item` rather than as a
    ``csv.Error`` that would leave the reader mid-record. The limit is only ever raised.
    """
    needed = min(max(limits.max_file_bytes, limits.max_field_chars) + 1, sys.maxsize)
    if csv.field_size_limit() < needed:
        csv.field_size_limit(needed)


def _utf8_problem(request: ReadRequest) -> Item | None:
    try:
        message = find_utf8_error(request.path)
    except OSError as err:
        return request.problem(f"cannot be read: {err.strerror or err}")
    return None if message is None else request.problem(message)
