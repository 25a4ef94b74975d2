"""Read a retrieval benchmark in BEIR layout (corpus, queries, qrels) into plain records.

Layout: ``corpus.jsonl`` (``{"_id", "title", "text"}`` per line), ``queries.jsonl`` (or
``queries_<split>.jsonl``; ``{"_id", "text"}``) and ``qrels/<split>.tsv`` (a header, then
``query-id<TAB>corpus-id<TAB>score``).
"""

from __future__ import annotations

import csv
import json
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.formats import SourceFormatError

__all__ = [
    "BeirDataset",
    "BeirDocument",
    "BeirFormatError",
    "BeirQuery",
    "load_beir",
    "load_beir_corpus",
    "load_beir_qrels",
    "load_beir_queries",
]


_NOT_UTF8 = "is not UTF-8 text; re-save it as UTF-8"


class BeirFormatError(SourceFormatError):
    """A BEIR file is missing or malformed; the message names the file and line."""

    def __init__(self, message: str, *, file: Path | str, line: int | None = None) -> None:
        super().__init__(message, file=file)
        self.line = line
        where = f"{file}:{line}" if line is not None else str(file)
        self.args = (f"{where}: {message}",)


@dataclass(frozen=True, slots=True)
class BeirDocument:
    """One corpus document."""

    doc_id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class BeirQuery:
    """One query."""

    query_id: str
    text: str


@dataclass(frozen=True, slots=True)
class BeirDataset:
    """A corpus, the queries of one split and their relevance judgements.

    Attributes:
        documents: Corpus documents in file order.
        queries: Queries judged in the split, in file order.
        qrels: Query id -> document id -> relevance grade.
    """

    documents: tuple[BeirDocument, ...]
    queries: tuple[BeirQuery, ...]
    qrels: dict[str, dict[str, int]]


def _iter_json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise BeirFormatError("file not found", file=path) from None
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield number, _json_object(line, path, number)
        except UnicodeDecodeError:
            raise BeirFormatError(_NOT_UTF8, file=path) from None


def _json_object(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except RecursionError:
        message = "not valid JSON (nested too deeply)"
        raise BeirFormatError(message, file=path, line=number) from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise BeirFormatError(f"not valid JSON ({message})", file=path, line=number) from None
    if not isinstance(record, dict):
        raise BeirFormatError("expected a JSON object", file=path, line=number)
    return record


def _field(record: dict[str, Any], name: str, path: Path, line: int, *, required: bool) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if name == "_id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or (required and not value):
        need = "a non-empty string" if required else "a string"
        raise BeirFormatError(f"field '{name}' must be {need}", file=path, line=line)
    return value


def load_beir_corpus(path: Path) -> tuple[BeirDocument, ...]:
    """Read ``corpus.jsonl``; ``title`` and ``text`` may be absent (read as "").

    Raises:
        BeirFormatError: The file is missing, a line is not a JSON object, ``_id`` is missing
            or repeated, or a field has the wrong type.
    """
    documents: dict[str, BeirDocument] = {}
    for line, record in _iter_json_lines(path):
        doc_id = _field(record, "_id", path, line, required=True)
        if doc_id in documents:
            raise BeirFormatError(f"document id '{doc_id}' repeats", file=path, line=line)
        title = _field(record, "title", path, line, required=False)
        text = _field(record, "text", path, line, required=False)
        documents[doc_id] = BeirDocument(doc_id=doc_id, title=title, text=text)
    return tuple(documents.values())


def load_beir_queries(path: Path) -> tuple[BeirQuery, ...]:
    """Read a queries file (``{"_id", "text"}`` per line).

    Raises:
        BeirFormatError: The file is missing, or a line is malformed or repeats an id.
    """
    queries: dict[str, BeirQuery] = {}
    for line, record in _iter_json_lines(path):
        query_id = _field(record, "_id", path, line, required=True)
        if query_id in queries:
            raise BeirFormatError(f"query id '{query_id}' repeats", file=path, line=line)
        text = _field(record, "text", path, line, required=True)
        queries[query_id] = BeirQuery(query_id=query_id, text=text)
    return tuple(queries.values())


def load_beir_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read a qrels TSV with a header line.

    Raises:
        BeirFormatError: The file is missing, or a row does not have three columns with an
            integer score.
    """
    try:
        handle = path.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise BeirFormatError("file not found", file=path) from None
    with handle:
        try:
            return _qrels(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), path)
        except UnicodeDecodeError:
            raise BeirFormatError(_NOT_UTF8, file=path) from None
        except csv.Error as exc:
            raise BeirFormatError(f"is not a readable TSV file ({exc})", file=path) from None


def _qrels(rows: Iterator[list[str]], path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, row in enumerate(rows, 1):
        if number == 1 or not row or not "".join(row).strip():
            continue  # the header, or a blank line
        if len(row) != 3 or not row[0] or not row[1]:
            raise BeirFormatError(
                "expected 3 tab-separated columns (query-id, corpus-id, score), "
                f"got {reprlib.repr(row)}",
                file=path,
                line=number,
            )
        try:
            score = int(row[2])
        except ValueError:
            raise BeirFormatError(
                f"score {reprlib.repr(row[2])} is not an integer", file=path, line=number
            ) from None
        qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder: the corpus, and the queries and judgements of ``split``.

    Queries come from ``queries.jsonl``, or from ``queries_<split>.jsonl`` when there is no
    ``queries.jsonl``; only queries with judgements in ``qrels/<split>.tsv`` are kept.

    Args:
        folder: The dataset folder.
        split: Name of the qrels file, e.g. ``"train"``, ``"dev"`` or ``"test"``.

    Returns:
        The dataset.

    Raises:
        BeirFormatError: A file is missing or malformed, or the qrels name a query that the
            queries file lacks.
    """
    folder = Path(folder)
    documents = load_beir_corpus(folder / "corpus.jsonl")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    qrels = load_beir_qrels(qrels_path)
    queries_path = folder / "queries.jsonl"
    if not queries_path.exists():
        queries_path = folder / f"queries_{split}.jsonl"
    queries = tuple(q for q in load_beir_queries(queries_path) if q.query_id in qrels)
    missing = sorted(qrels.keys() - {q.query_id for q in queries})
    if missing:
        raise BeirFormatError(
            f"{len(missing)} judged queries are not in {queries_path.name}, e.g. '{missing[0]}'",
            file=qrels_path,
        )
    return BeirDataset(documents=documents, queries=queries, qrels=qrels)
