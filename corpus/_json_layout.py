"""Find the entries of a JSON document and the line on which each one starts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import NoReturn

__all__ = ["JsonLayoutError", "locate_entries", "parse_constant"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SHAPE = 'expected a JSON array of entries or an object with an "entries" array'


class JsonLayoutError(ValueError):
    """The text is not JSON, or not a list of entries; the message is ready to show."""


def parse_constant(name: str) -> NoReturn:
    """Reject ``NaN`` and ``Infinity``, which Python's json accepts but JSON does not."""
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=parse_constant)


def locate_entries(text: str) -> list[tuple[int, object]]:
    """Return ``(line, value)`` for each entry of ``[...]`` or ``{"entries": [...]}``.

    Lines are 1-based and point at the entry's first character.

    Raises:
        JsonLayoutError: The text is not valid JSON or has another shape.
    """
    try:
        entries, end = _top_level(text, _skip(text, 0))
        if _skip(text, end) != len(text):
            raise json.JSONDecodeError("Extra data", text, _skip(text, end))
    except json.JSONDecodeError as err:
        raise JsonLayoutError(
            f"is not valid JSON: {err.msg} (line {err.lineno} column {err.colno})"
        ) from None
    except RecursionError:
        raise JsonLayoutError("is not valid JSON: nested too deeply") from None
    except ValueError as err:
        raise JsonLayoutError(f"is not valid JSON: {err}") from None
    if entries is None:
        raise JsonLayoutError(_SHAPE)
    return list(_with_lines(text, entries))


def _with_lines(text: str, entries: list[tuple[int, object]]) -> Iterator[tuple[int, object]]:
    """Turn ascending character offsets into 1-based line numbers in one pass."""
    line, counted = 1, 0
    for offset, value in entries:
        line += text.count("\n", counted, offset)
        counted = offset
        yield line, value


def _top_level(text: str, pos: int) -> tuple[list[tuple[int, object]] | None, int]:
    if text.startswith("[", pos):
        return _array(text, pos)
    if text.startswith("{", pos):
        return _object(text, pos)
    _value, end = _DECODER.raw_decode(text, pos)
    return None, end


def _array(text: str, pos: int) -> tuple[list[tuple[int, object]], int]:
    """Decode the array opening at ``pos``; return ``(offset, value)`` items and the end."""
    items: list[tuple[int, object]] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return items, pos + 1
    while True:
        value, end = _DECODER.raw_decode(text, pos)
        items.append((pos, value))
        pos = _skip(text, end)
        if text.startswith("]", pos):
            return items, pos + 1
        pos = _skip(text, _expect(text, pos, ",", "Expecting ',' delimiter"))


def _object(text: str, pos: int) -> tuple[list[tuple[int, object]] | None, int]:
    """Decode the object opening at ``pos``; return its last ``entries`` array (if any)."""
    entries: list[tuple[int, object]] | None = None
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return entries, pos + 1
    while True:
        if not text.startswith('"', pos):
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, pos
            )
        key, end = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _expect(text, _skip(text, end), ":", "Expecting ':' delimiter"))
        if key == "entries" and text.startswith("[", pos):
            entries, end = _array(text, pos)
        else:
            _value, end = _DECODER.raw_decode(text, pos)
            entries = None if key == "entries" else entries
        pos = _skip(text, end)
        if text.startswith("}", pos):
            return entries, pos + 1
        pos = _skip(text, _expect(text, pos, ",", "Expecting ',' delimiter"))


def _expect(text: str, pos: int, char: str, message: str) -> int:
    if not text.startswith(char, pos):
        raise json.JSONDecodeError(message, text, pos)
    return pos + 1


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return pos if match is None else match.end()
