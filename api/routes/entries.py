"""``/api/v1/entries``: create one, bulk create, upload, read, update, delete, list."""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep, ReaderDep, RunnerDep, SessionDep, WriterDep
from api.errors import PROBLEM_RESPONSES, BodyInvalidError, problem_doc
from api.imports import (
    IMPORT_JOB,
    parse_bulk_body,
    read_upload,
    records_from_dicts,
    save_upload,
)
from api.routes.schemas import (
    EntryCreate,
    EntryId,
    EntryPage,
    EntryRead,
    EntryUpdate,
    JobRead,
    decode_cursor,
    encode_cursor,
    entry_reads,
    job_read,
)
from synth.services.entries import (
    EntryFilters,
    authorise_records,
    create_entry,
    delete_entry,
    list_entries,
    read_entry,
    update_entry,
)
from synth.services.jobs import create_job
from synth.services.keys import Principal
from synth.types import EntryRecord, RecordInvalidError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["entries"], responses=PROBLEM_RESPONSES)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: problem_doc("Same text as another entry, or an id this key may not change")
}
Many = Annotated[list[str] | None, Query()]


def _defaults(principal: Principal) -> dict[str, object]:
    """Fields a key fills in when a record leaves them out: its organisation and only network."""
    defaults: dict[str, object] = {}
    if principal.organisation:
        defaults["organisation"] = principal.organisation
    if len(principal.networks) == 1:
        defaults["network"] = next(iter(principal.networks))
    return defaults


def _record(principal: Principal, body: EntryCreate) -> EntryRecord:
    return records_from_dicts(
        [body.model_dump(mode="json", exclude_none=True)], _defaults(principal)
    )[0]


def _invalid(exc: RecordInvalidError) -> BodyInvalidError:
    loc: list[object] = ["body", *([exc.field] if exc.field else [])]
    return BodyInvalidError(exc.message, [{"loc": loc, "msg": exc.message, "type": "value_error"}])


def _read_one(session: SessionDep, principal: Principal, entry_id: EntryId) -> EntryRead:
    session.expire_all()
    return entry_reads(
        session, principal.viewer, [read_entry(session, principal.viewer, entry_id)]
    )[0]


@router.post(
    "/entries",
    operation_id="create_entry",
    status_code=201,
    response_model=EntryRead,
    responses={
        200: {"description": "An entry with this id existed and was updated", "model": EntryRead},
        **CONFLICT,
    },
)
def post_entry(
    engine: EngineDep,
    session: SessionDep,
    principal: WriterDep,
    body: EntryCreate,
    response: Response,
) -> EntryRead:
    """Store one entry (redacted, chunked, embedded); it is searchable when this returns."""
    try:
        record = _record(principal, body)
    except BodyInvalidError as exc:
        for err in exc.errors:
            loc = err["loc"]
            err["loc"] = ["body", *(loc[2:] if isinstance(loc, list) else [])]
        raise
    entry_id, created = create_entry(engine, principal, record)
    if not created:
        response.status_code = 200
    return _read_one(session, principal, entry_id)


def _queue_import(
    session: SessionDep, runner: RunnerDep, principal: Principal, params: dict[str, Any]
) -> JobRead:
    job = create_job(session, kind=IMPORT_JOB, params=params, api_key_id=principal.key_id)
    session.commit()
    runner.submit(job.id)
    return job_read(job)


_BULK_BODY = {
    "requestBody": {
        "required": True,
        "description": 'A JSON array of entries (or {"entries": [...]}), or JSON Lines.',
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/EntryCreate"}}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/entries/bulk",
    operation_id="bulk_create_entries",
    status_code=202,
    response_model=JobRead,
    openapi_extra=_BULK_BODY,
    responses={415: problem_doc("Not JSON or JSON Lines"), **CONFLICT},
)
async def post_entries_bulk(
    request: Request, session: SessionDep, runner: RunnerDep, principal: WriterDep
) -> JobRead:
    """Queue many entries (JSON or JSON Lines) as a background job; 202 with the job."""
    raw = parse_bulk_body(request.headers.get("content-type", ""), await request.body())
    records = records_from_dicts(raw, _defaults(principal))
    await run_in_threadpool(authorise_records, session, principal, records)
    params = {"records": raw, "defaults": _defaults(principal)}
    return await run_in_threadpool(_queue_import, session, runner, principal, params)


@router.post(
    "/entries/upload",
    operation_id="upload_entries",
    status_code=202,
    response_model=JobRead,
    responses={
        415: problem_doc("Not a format synth reads"),
        413: problem_doc("File too large"),
        **CONFLICT,
    },
)
async def post_entries_upload(
    engine: EngineDep,
    session: SessionDep,
    runner: RunnerDep,
    principal: WriterDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, Markdown, CSV, JSON(L) or text.")],
    network: Annotated[str | None, Form()] = None,
    organisation: Annotated[str | None, Form()] = None,
    kind: Annotated[str | None, Form()] = None,
    visibility: Annotated[str | None, Form()] = None,
    project: Annotated[str | None, Form()] = None,
) -> JobRead:
    """Queue the entries of an uploaded file as a background job; form fields fill gaps."""
    given = {
        "network": network,
        "organisation": organisation,
        "kind": kind,
        "visibility": visibility,
        "project": project,
    }
    defaults = {**_defaults(principal), **{k: v for k, v in given.items() if v}}
    path = save_upload(engine.data_dir / "uploads", file.filename or "upload", await file.read())
    try:
        records = await run_in_threadpool(read_upload, path, defaults)
        await run_in_threadpool(authorise_records, session, principal, records)
    except Exception:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    params = {"file": str(path), "defaults": defaults}
    return await run_in_threadpool(_queue_import, session, runner, principal, params)


@router.get("/entries", operation_id="list_entries", response_model=EntryPage)
def get_entries(
    session: SessionDep,
    principal: ReaderDep,
    network: Many = None,
    organisation: Many = None,
    project: Many = None,
    kind: Many = None,
    tag: Many = None,
    visibility: Many = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntryPage:
    """Entries the key may see, newest first, filtered; follow ``next_cursor`` for more."""
    filters = EntryFilters(
        networks=tuple(network or ()),
        organisations=tuple(organisation or ()),
        projects=tuple(project or ()),
        kinds=tuple(kind or ()),
        tags=tuple(tag or ()),
        visibilities=tuple(visibility or ()),
        since=since,
        until=until,
    )
    rows, last = list_entries(
        session, principal.viewer, filters, before=decode_cursor(cursor), limit=limit
    )
    return EntryPage(
        items=entry_reads(session, principal.viewer, rows),
        next_cursor=encode_cursor(last) if last is not None else None,
    )


@router.get("/entries/{entry_id}", operation_id="get_entry", response_model=EntryRead)
def get_entry(session: SessionDep, principal: ReaderDep, entry_id: EntryId) -> EntryRead:
    """One entry, if the key may see it (otherwise 404, as for a missing one)."""
    return _read_one(session, principal, entry_id)


@router.patch(
    "/entries/{entry_id}",
    operation_id="update_entry",
    response_model=EntryRead,
    responses=CONFLICT,
)
def patch_entry(
    engine: EngineDep,
    session: SessionDep,
    principal: WriterDep,
    entry_id: EntryId,
    body: EntryUpdate,
) -> EntryRead:
    """Change an entry; changed text is redacted, re-chunked and re-embedded before return."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    try:
        update_entry(engine, principal, entry_id, changes)
    except RecordInvalidError as exc:
        raise _invalid(exc) from None
    return _read_one(session, principal, entry_id)


@router.delete("/entries/{entry_id}", operation_id="delete_entry", status_code=204)
def remove_entry(engine: EngineDep, principal: WriterDep, entry_id: EntryId) -> Response:
    """Delete an entry and its passages; it leaves search before this returns."""
    delete_entry(engine, principal, entry_id)
    return Response(status_code=204)
