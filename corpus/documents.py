"""Readers for one-entry text documents (Markdown with front matter, plain text)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping

import yaml

from corpus.formats import Item, ReadRequest, load_text
from synth.types import RecordInvalidError, RecordProblem

__all__ = ["build_document", "iter_markdown", "iter_plain_text"]

#: A first line longer than this is prose, not a title; the file stem is used instead.
TITLE_MAX_CHARS = 120

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")
_FENCES = ("```", "~~~")
_SCALARS = (str, int, float, dt.date)


def iter_plain_text(request: ReadRequest) -> Iterator[Item]:
    """Yield the one record of a UTF-8 text file: the text is the body.

    The title is the first line when it is short, else the file name without extension.
    """
    text = load_text(request)
    if not isinstance(text, str):
        yield text
        return
    yield build_document(request, {}, _normalise(text))


def iter_markdown(request: ReadRequest) -> Iterator[Item]:
    """Yield the one record of a Markdown file with optional YAML front matter.

    Front matter keys are record fields (``column_map`` applies); the Markdown after it is
    the body. Without a front matter title, the first heading is used, then the first short
    line, then the file name.
    """
    text = load_text(request)
    if not isinstance(text, str):
        yield text
        return
    text = _normalise(text)
    match = _FRONT_MATTER.match(text)
    fields: Mapping[str, object] = {}
    if match is not None:
        loaded = _load_front_matter(request, match.group(1) or "")
        if not isinstance(loaded, dict):
            yield loaded
            return
        fields, text = loaded, text[match.end() :]
    yield build_document(request, fields, text, title=_first_heading(text))


def build_document(
    request: ReadRequest, fields: Mapping[str, object], body: str, *, title: str | None = None
) -> Item:
    """Validate a one-entry document: ``fields`` from its metadata plus its text as body.

    Args:
        request: The file being read; its name is the record's default external id.
        fields: Metadata fields (front matter, document properties); ``column_map`` applies.
        body: The document text; it wins over a ``body`` field unless it is blank.
        title: A title found in the text (a heading), used when the metadata has none.

    Returns:
        The record, or the problem that stopped it.
    """
    source = request.source(external_id=request.path.name)
    try:
        data = request.rename(fields)
    except RecordInvalidError as err:
        return RecordProblem(source=source, field=err.field, message=err.message)
    if body.strip():
        data["body"] = body.strip()
    if not _present(data.get("title")) and not _present(request.defaults.get("title")):
        data["title"] = title or _first_short_line(body) or request.path.stem
    return request.build(data, source)


def _load_front_matter(request: ReadRequest, source: str) -> dict[str, object] | Item:
    try:
        loaded = yaml.safe_load(source)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = None if mark is None else mark.line + 2  # front matter starts on line 2
        return request.problem(f"front matter is not valid YAML: {err.problem}", line=line)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as err:
        return request.problem(f"front matter is not valid YAML: {err}")
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        return request.problem("front matter must be a YAML mapping of field: value pairs")
    for key, value in loaded.items():
        if not isinstance(key, str):
            return request.problem(f"front matter key {key!r} must be text")
        if not _plain(value):
            return request.problem(
                "must be text, a number, a date or a list of those in front matter",
                field_name=key,
            )
    return loaded


def _plain(value: object) -> bool:
    """Return whether a front matter value is a scalar or a flat list of scalars.

    Nested values are refused before validation so YAML aliases cannot multiply into a
    huge string when a list is turned into text.
    """
    if value is None or isinstance(value, _SCALARS):
        return True
    return isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value)


def _first_heading(markdown: str) -> str | None:
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(_FENCES):
            fenced = not fenced
        elif not fenced and (match := _ATX_HEADING.fullmatch(line)):
            return match.group(1).strip()
    return None


def _first_short_line(text: str) -> str | None:
    for line in text.split("\n"):
        if line.strip():
            first = line.strip()
            return first if len(first) <= TITLE_MAX_CHARS else None
    return None


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
