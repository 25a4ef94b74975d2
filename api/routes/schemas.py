"""Pydantic schemas shared by the entry and job routes (``<Thing>Create/Update/Read``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any

from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import BodyInvalidError
from models import Entry
from synth.search.query import Viewer
from synth.services.entries import visible_clause
from synth.services.jobs import JobInfo
from synth.types import EntryKind, Visibility

__all__ = [
    "EntryCreate",
    "EntryId",
    "EntryPage",
    "EntryRead",
    "EntryUpdate",
    "JobRead",
    "UtcDatetime",
    "decode_cursor",
    "encode_cursor",
    "entry_reads",
    "job_read",
]


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


#: A stored time (always UTC; SQLite hands them back without an offset) with its offset.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]

#: An entry id as a path parameter: a positive 64-bit integer (anything else is a 422).
EntryId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="The entry's id.")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
Text = Annotated[str, StringConstraints(max_length=1_000_000)]
Short = Annotated[str, StringConstraints(max_length=500)]


class _EntryFields(BaseModel):
    """Fields an entry is written with (the ingest record contract)."""

    model_config = ConfigDict(extra="forbid")

    kind: EntryKind | None = None
    title: Short | None = None
    body: Text | None = None
    network: Slug | None = Field(None, description="Network slug (the key's, if it has one).")
    organisation: Slug | None = Field(None, description="Organisation slug (the key's).")
    visibility: Visibility | None = None
    occurred_on: dt.date | None = None
    tags: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        None, max_length=100
    )
    author: Short | None = Field(None, description="Stored only as a keyed pseudonym.")
    project: Slug | None = None
    url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    plan: Text | None = None
    prediction: Text | None = None
    do: Text | None = None
    study: Text | None = None
    act: Text | None = None
    what: Text | None = None
    so_what: Text | None = None
    now_what: Text | None = None


class EntryCreate(_EntryFields):
    """A new entry: the same fields as an ingest record; ``id`` makes re-posting idempotent."""

    id: Annotated[str, StringConstraints(max_length=300)] | None = Field(
        None, description="The source's own id; posting it again updates that entry."
    )
    kind: EntryKind
    title: Short


class EntryUpdate(_EntryFields):
    """Fields to change; those left out keep their value, ``null`` clears an optional one."""


class EntryRead(BaseModel):
    """An entry as stored: redacted text, where it belongs, and links."""

    id: int
    external_id: str | None
    kind: str
    title: str
    body: str
    fields: dict[str, str]
    network: str
    organisation: str
    project: str | None
    visibility: str
    occurred_on: dt.date | None
    tags: list[str]
    url: str | None
    near_duplicate_of: int | None
    redactions: dict[str, int]
    created_at: UtcDatetime
    updated_at: UtcDatetime
    links: dict[str, str]


class EntryPage(BaseModel):
    """A page of entries, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[EntryRead]
    next_cursor: str | None


class JobProgressRead(BaseModel):
    """Units done of the current phase."""

    done: int
    total: int


class JobRead(BaseModel):
    """A background job: state, progress, and its result or error."""

    id: str
    kind: str
    state: str
    progress: JobProgressRead
    message: str | None
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    links: dict[str, str]


def job_read(job: JobInfo) -> JobRead:
    """The API form of a job."""
    return JobRead(
        id=job.id,
        kind=job.kind,
        state=job.state.value,
        progress=JobProgressRead(done=job.done, total=job.total),
        message=job.message,
        error=job.error,
        result=job.result,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links={"self": f"/api/v1/jobs/{job.id}"},
    )


def _visible_ids(session: Session, viewer: Viewer, ids: set[int]) -> set[int]:
    if not ids or viewer.sees_all:
        return ids
    query = select(Entry.id).where(Entry.id.in_(sorted(ids)))
    clause = visible_clause(viewer)
    return set(session.scalars(query.where(clause) if clause is not None else query))


def entry_reads(session: Session, viewer: Viewer, entries: list[Entry]) -> list[EntryRead]:
    """The API form of entries the viewer may see (a hidden near duplicate shows as null)."""
    twins = _visible_ids(
        session, viewer, {e.near_duplicate_of for e in entries if e.near_duplicate_of}
    )
    return [
        EntryRead(
            id=e.id,
            external_id=e.external_id,
            kind=e.kind,
            title=e.title,
            body=e.body,
            fields={str(k): str(v) for k, v in (e.fields or {}).items()},
            network=e.network.slug,
            organisation=e.organisation.slug,
            project=e.project.slug if e.project else None,
            visibility=e.visibility,
            occurred_on=e.occurred_on,
            tags=[t.name for t in e.tags],
            url=e.source_url,
            near_duplicate_of=e.near_duplicate_of if e.near_duplicate_of in twins else None,
            redactions=dict(e.redactions or {}),
            created_at=e.created_at,
            updated_at=e.updated_at,
            links={
                "self": f"/api/v1/entries/{e.id}",
                "similar": f"/api/v1/entries/{e.id}/similar",
            },
        )
        for e in entries
    ]


def encode_cursor(entry_id: int) -> str:
    """An opaque cursor for the page after ``entry_id``."""
    return base64.urlsafe_b64encode(f"e:{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The entry id in a cursor from :func:`encode_cursor`.

    Raises:
        BodyInvalidError: The cursor was not made by this API.
    """
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "e" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BodyInvalidError(
        "the cursor is not valid; use next_cursor from a previous page",
        [{"loc": ["query", "cursor"], "msg": "not a cursor from this API", "type": "value_error"}],
    )
