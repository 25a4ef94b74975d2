"""Bulk imports for the API: read request bodies and uploads into records; the job handlers.

A bulk body (a JSON array, ``{"entries": [...]}``, or JSON Lines) and an uploaded file (any
format the corpus readers read) are validated and authorised while the request is open, so
a bad record is a 422 and a forbidden one a 403 before any job exists; the job then only
stores them.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from api.errors import BodyInvalidError, UnsupportedMediaTypeError
from corpus import SourceFormatError, detect_format, iter_records
from synth.engine import Engine
from synth.errors import IngestError
from synth.services.ingest import IngestReport, ingest_records, validate_records
from synth.services.jobs import JobHandler, JobProgress
from synth.types import EntryRecord, RecordInvalidError, SourceRef, build_entry_record

__all__ = [
    "IMPORT_JOB",
    "JSONL_TYPES",
    "JSON_TYPES",
    "REBUILD_JOB",
    "build_handlers",
    "parse_bulk_body",
    "read_upload",
    "records_from_dicts",
    "save_upload",
]

IMPORT_JOB = "entries.import"
REBUILD_JOB = "index.rebuild"
JSON_TYPES = frozenset({"application/json"})
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/jsonlines"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _objects(payload: object) -> list[object]:
    if isinstance(payload, dict) and set(payload) == {"entries"}:
        payload = payload["entries"]
    if not isinstance(payload, list):
        raise BodyInvalidError(
            'send a JSON array of entries, or {"entries": [...]}',
            [{"loc": ["body"], "msg": "must be an array of entries", "type": "list_type"}],
        )
    return payload


def _json_lines(text: str) -> list[object]:
    out: list[object] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BodyInvalidError(
                f"line {number} is not JSON: {exc.msg}",
                [{"loc": ["body", number], "msg": "not JSON", "type": "json_invalid"}],
            ) from None
    return out


def parse_bulk_body(content_type: str, body: bytes) -> list[object]:
    """Return the raw records of a bulk body (not yet validated).

    Raises:
        UnsupportedMediaTypeError: The content type is neither JSON nor JSON Lines.
        BodyInvalidError: The body is not JSON, or not a list of records.
    """
    media = content_type.split(";")[0].strip().lower()
    if media not in JSON_TYPES | JSONL_TYPES:
        raise UnsupportedMediaTypeError(
            f"send application/json or application/x-ndjson, not '{media or 'nothing'}'; "
            "files go to POST /api/v1/entries/upload"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyInvalidError(
            "the body is not UTF-8",
            [{"loc": ["body"], "msg": "not UTF-8", "type": "unicode"}],
        ) from None
    if media in JSONL_TYPES:
        return _json_lines(text)
    try:
        return _objects(json.loads(text))
    except json.JSONDecodeError as exc:
        raise BodyInvalidError(
            f"the body is not JSON: {exc.msg}",
            [{"loc": ["body"], "msg": "not JSON", "type": "json_invalid"}],
        ) from None


def records_from_dicts(items: list[object], defaults: Mapping[str, object]) -> list[EntryRecord]:
    """Validate raw records with ingest's rules (``defaults`` fill missing fields).

    Raises:
        BodyInvalidError: A record is invalid; ``errors`` gives ``["body", index, field]``.
    """
    records: list[EntryRecord] = []
    errors: list[dict[str, object]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"loc": ["body", index], "msg": "must be an object", "type": "dict_type"})
            continue
        try:
            records.append(
                build_entry_record(item, source=SourceRef(line=index), defaults=defaults)
            )
        except RecordInvalidError as exc:
            loc: list[object] = ["body", index, *([exc.field] if exc.field else [])]
            errors.append({"loc": loc, "msg": exc.message, "type": "value_error"})
    if errors:
        raise BodyInvalidError(f"{len(errors)} invalid record(s); nothing was stored", errors)
    validated, problems = validate_records(records)
    if problems:
        raise BodyInvalidError(
            "records repeat an id; nothing was stored",
            [
                {"loc": ["body", p.source.line, "id"], "msg": p.message, "type": "value_error"}
                for p in problems
            ],
        )
    return validated


def save_upload(folder: Path, filename: str, content: bytes) -> Path:
    """Store an uploaded file under ``folder`` (a fresh sub-folder) and return its path.

    Raises:
        UnsupportedMediaTypeError: The file name's extension is not a format synth reads.
    """
    name = _SAFE_NAME.sub("_", Path(filename or "upload").name).strip("._") or "upload"
    try:
        detect_format(Path(name))
    except SourceFormatError as exc:
        raise UnsupportedMediaTypeError(exc.message) from None
    target = folder / uuid.uuid4().hex / name
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    return target


def read_upload(path: Path, defaults: Mapping[str, object]) -> list[EntryRecord]:
    """Read a stored upload into records; problems name the file as uploaded, not its path.

    Raises:
        IngestError: Some records are invalid (nothing will be stored).
    """
    records, problems = validate_records(iter_records(path, defaults=defaults))
    if problems:
        prefix = str(path.parent) + "/"
        raise IngestError(
            f"{len(problems)} invalid record(s) in {path.name}; nothing was stored",
            problems=tuple(p.describe().replace(prefix, "") for p in problems),
        )
    return records


def _summary(report: IngestReport) -> dict[str, Any]:
    """The report without other entries' ids (a duplicate may be one the key cannot see)."""
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "duplicates": len(report.duplicates),
        "passages": report.passages,
        "redactions": dict(sorted(report.redactions.items())),
        "entry_ids": report.entry_ids,
    }


def _run_import(engine: Engine, params: Mapping[str, Any], progress: JobProgress) -> dict[str, Any]:
    defaults = params.get("defaults") or {}
    if "file" in params:
        path = Path(params["file"])
        records = read_upload(path, defaults)
    else:
        records = records_from_dicts(params.get("records") or [], defaults)
    report = ingest_records(engine, records, progress=progress)
    if "file" in params:
        shutil.rmtree(Path(params["file"]).parent, ignore_errors=True)
    return _summary(report)


def _run_rebuild(
    engine: Engine,
    params: Mapping[str, Any],  # noqa: ARG001  (the JobHandler signature)
    progress: JobProgress,
) -> dict[str, Any]:
    progress.start(1, "Rebuilding indexes")
    with engine.sessions() as session:
        manifest = engine.search_indexes.rebuild(session).manifest
    progress.advance(1)
    return {"passages": manifest.passage_count, "model": manifest.model, "dim": manifest.dim}


def build_handlers() -> dict[str, JobHandler]:
    """The job kinds this API runs, by name."""
    from api.topic_jobs import TOPIC_FIT_JOB, run_topic_fit

    return {IMPORT_JOB: _run_import, REBUILD_JOB: _run_rebuild, TOPIC_FIT_JOB: run_topic_fit}
