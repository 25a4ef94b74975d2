"""Entries one at a time, for the API: read, list, create, update and delete, visibility first.

Every read goes through the caller's :class:`~synth.search.query.Viewer`; an entry it may not
see is reported exactly like one that does not exist. Writes go through the caller's
:class:`~synth.services.keys.Principal`: a write key writes only into its own networks (and as
its own organisation), and only an admin key names networks, organisations or projects that
do not exist yet. Every write brings the search indexes up to date before it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from models import Entry, Network, Organisation, Passage, PassageDeletion, Project, Tag
from synth.core.chunking import with_title
from synth.core.dedupe import compute_entry_vector, find_near_duplicates
from synth.engine import Engine
from synth.errors import NotFoundError, SynthError
from synth.search.query import Viewer
from synth.services.embeddings import embed_with_cache
from synth.services.entry_vectors import EntryVectors
from synth.services.ingest import ingest_records
from synth.services.keys import AccessDeniedError, Principal, Scope
from synth.services.preparation import PreparedEntry, prepare_entries
from synth.services.topics import assign_new_passages
from synth.services.writing import EntryWriter
from synth.types import EntryRecord, SourceRef, build_entry_record

__all__ = [
    "DuplicateEntryError",
    "EntryFilters",
    "EntryIdTakenError",
    "authorise_records",
    "create_entry",
    "delete_entry",
    "list_entries",
    "may_see",
    "read_entry",
    "record_from_entry",
    "update_entry",
    "visible_clause",
]


class DuplicateEntryError(SynthError):
    """Another entry already has the same (normalised, redacted) text; nothing was stored."""

    code = "entry.duplicate"
    title = "Duplicate entry"


class EntryIdTakenError(SynthError):
    """The record's ``id`` is already used by an entry this key may not change."""

    code = "entry.id_taken"
    title = "Entry id in use"


@dataclass(frozen=True, slots=True)
class EntryFilters:
    """Filters of an entry listing (slugs; empty means any)."""

    networks: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    visibilities: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None


def may_see(viewer: Viewer, entry: Entry) -> bool:
    """True when ``viewer`` may see ``entry`` (the same rule as search)."""
    if viewer.sees_all or entry.visibility == "public":
        return True
    if entry.visibility == "network":
        return entry.network.slug in viewer.networks
    return entry.organisation.slug in viewer.organisations


def visible_clause(viewer: Viewer) -> ColumnElement[bool] | None:
    """A SQL condition on :class:`Entry` selecting what ``viewer`` may see (None: everything)."""
    if viewer.sees_all:
        return None
    conditions: list[ColumnElement[bool]] = [Entry.visibility == "public"]
    if viewer.networks:
        networks = select(Network.id).where(Network.slug.in_(sorted(viewer.networks)))
        conditions.append(and_(Entry.visibility == "network", Entry.network_id.in_(networks)))
    if viewer.organisations:
        orgs = select(Organisation.id).where(Organisation.slug.in_(sorted(viewer.organisations)))
        conditions.append(and_(Entry.visibility == "private", Entry.organisation_id.in_(orgs)))
    return or_(*conditions)


def _loaded() -> tuple[_AbstractLoad, ...]:
    return (
        joinedload(Entry.network),
        joinedload(Entry.organisation),
        joinedload(Entry.project),
        selectinload(Entry.tags),
    )


def read_entry(session: Session, viewer: Viewer, entry_id: int) -> Entry:
    """Return entry ``entry_id`` if ``viewer`` may see it.

    Raises:
        NotFoundError: No such entry, or the viewer may not see it (the same message).
    """
    entry: Entry | None = session.scalar(
        select(Entry).where(Entry.id == entry_id).options(*_loaded())
    )
    if entry is None or not may_see(viewer, entry):
        raise NotFoundError(f"entry {entry_id} not found")
    return entry


def _slug_in(
    column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    model: type[Network | Organisation | Project],
    slugs: Sequence[str],
) -> ColumnElement[bool]:
    return column.in_(select(model.id).where(model.slug.in_(slugs)))


def list_entries(
    session: Session, viewer: Viewer, filters: EntryFilters, *, before: int | None, limit: int
) -> tuple[list[Entry], int | None]:
    """Return up to ``limit`` visible entries, newest first, with ids below ``before``.

    Returns:
        The entries and the id to pass as ``before`` for the next page (None on the last).
    """
    query = select(Entry).options(*_loaded()).order_by(Entry.id.desc())
    conditions = [c for c in (visible_clause(viewer),) if c is not None]
    if filters.networks:
        conditions.append(_slug_in(Entry.network_id, Network, filters.networks))
    if filters.organisations:
        conditions.append(_slug_in(Entry.organisation_id, Organisation, filters.organisations))
    if filters.projects:
        conditions.append(_slug_in(Entry.project_id, Project, filters.projects))
    if filters.kinds:
        conditions.append(Entry.kind.in_(filters.kinds))
    if filters.visibilities:
        conditions.append(Entry.visibility.in_(filters.visibilities))
    if filters.tags:
        conditions.append(Entry.tags.any(Tag.name.in_([t.lower() for t in filters.tags])))
    if filters.since:
        conditions.append(Entry.occurred_on >= filters.since)
    if filters.until:
        conditions.append(Entry.occurred_on <= filters.until)
    if before is not None:
        conditions.append(Entry.id < before)
    rows = list(session.scalars(query.where(*conditions).limit(limit + 1)).unique())
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _check_target(principal: Principal, network: str, organisation: str) -> None:
    if not principal.can(Scope.WRITE):
        raise AccessDeniedError("this key may not write; it needs the write scope")
    if principal.is_admin:
        return
    if network not in principal.networks:
        allowed = ", ".join(sorted(principal.networks)) or "none"
        raise AccessDeniedError(
            f"this key may write only into its own networks ({allowed}), not '{network}'"
        )
    if principal.organisation and organisation != principal.organisation:
        raise AccessDeniedError(
            f"this key writes as organisation '{principal.organisation}', not '{organisation}'"
        )


def _check_known(session: Session, records: Iterable[EntryRecord]) -> None:
    wanted: dict[type[Network | Organisation | Project], set[str]] = {
        Network: set(),
        Organisation: set(),
        Project: set(),
    }
    for record in records:
        wanted[Network].add(record.network)
        wanted[Organisation].add(record.organisation)
        if record.project:
            wanted[Project].add(record.project)
    for model, slugs in wanted.items():
        found = set(session.scalars(select(model.slug).where(model.slug.in_(sorted(slugs)))))
        missing = sorted(slugs - found)
        if missing:
            what = model.__tablename__[:-1]
            raise AccessDeniedError(
                f"{what} '{missing[0]}' does not exist; only an admin key may create one"
            )


def _check_ids(session: Session, principal: Principal, records: Iterable[EntryRecord]) -> None:
    ids = [r.source.external_id for r in records if r.source.external_id]
    if not ids:
        return
    for entry in session.scalars(select(Entry).where(Entry.external_id.in_(ids))):
        if not principal.is_admin and not _may_write(principal, entry):
            raise EntryIdTakenError(
                f"id '{entry.external_id}' is already used by an entry this key may not change; "
                "choose another id"
            )


def _may_write(principal: Principal, entry: Entry) -> bool:
    try:
        _check_target(principal, entry.network.slug, entry.organisation.slug)
    except AccessDeniedError:
        return False
    return may_see(principal.viewer, entry)


def authorise_records(
    session: Session, principal: Principal, records: Sequence[EntryRecord]
) -> None:
    """Check that ``principal`` may store every record (before anything is written).

    Raises:
        AccessDeniedError: A record is outside the key's networks or organisation, or names
            a network, organisation or project that does not exist and the key is not admin.
        EntryIdTakenError: A record's id belongs to an entry the key may not change.
    """
    for record in records:
        _check_target(principal, record.network, record.organisation)
    if not principal.is_admin:
        _check_known(session, records)
    _check_ids(session, principal, records)


def create_entry(engine: Engine, principal: Principal, record: EntryRecord) -> tuple[int, bool]:
    """Store one entry through the ingest pipeline; the indexes are current on return.

    Returns:
        The entry id, and whether it was created (False: an entry with the same id was updated).

    Raises:
        AccessDeniedError: See :func:`authorise_records`.
        EntryIdTakenError: See :func:`authorise_records`.
        DuplicateEntryError: Another entry has the same text.
    """
    with engine.sessions() as session:
        authorise_records(session, principal, [record])
    report = ingest_records(engine, [record])
    if report.duplicates or not report.entry_ids:
        raise DuplicateEntryError("an entry with the same text already exists; nothing was stored")
    return report.entry_ids[0], report.created == 1


def record_from_entry(entry: Entry, changes: Mapping[str, object]) -> EntryRecord:
    """The record an entry would be ingested from, with ``changes`` applied (ingest's fields).

    Raises:
        RecordInvalidError: A changed field is malformed.
    """
    data: dict[str, object] = {
        "kind": entry.kind,
        "title": entry.title,
        "network": entry.network.slug,
        "organisation": entry.organisation.slug,
        "visibility": entry.visibility,
        "occurred_on": entry.occurred_on,
        "tags": [t.name for t in entry.tags],
        "project": entry.project.slug if entry.project else None,
        "url": entry.source_url,
    }
    if entry.fields and "body" not in changes:
        data.update(entry.fields)
    else:
        data["body"] = entry.body
    data.update(changes)
    return build_entry_record(
        data, source=SourceRef(file=entry.source_file, external_id=entry.external_id)
    )


def _writable(session: Session, principal: Principal, entry_id: int) -> Entry:
    entry = read_entry(session, principal.viewer, entry_id)
    if not _may_write(principal, entry):
        raise AccessDeniedError(f"this key may not change entry {entry_id}")
    return entry


def _near_duplicate(
    session: Session, engine: Engine, entry_id: int, vectors: NDArray[np.float32]
) -> int | None:
    embedder = engine.embedder
    if not len(vectors):
        return None
    pool = EntryVectors.load(session, embedder.name, embedder.dim)
    pool.remove(entry_id)
    if not len(pool):
        return None
    match = find_near_duplicates(
        compute_entry_vector(vectors)[None, :],
        pool.matrix,
        threshold=engine.config.dedupe.near_duplicate_threshold,
    )[0]
    return pool.ids[match] if match is not None and match < len(pool) else None


def _prepare(engine: Engine, record: EntryRecord) -> PreparedEntry:
    embedder = engine.embedder
    return prepare_entries(
        [record],
        config=engine.config,
        splitter=engine.splitter,
        person_finder=engine.person_finder,
        window=(embedder.count_tokens, embedder.max_tokens),
    )[0]


def update_entry(
    engine: Engine, principal: Principal, entry_id: int, changes: Mapping[str, object]
) -> None:
    """Change an entry's fields; its text is redacted, re-chunked and re-embedded.

    The old passages go to the ``passage_deletions`` feed; the indexes are current on return.

    Raises:
        NotFoundError: No such entry, or the key may not see it.
        AccessDeniedError: The key may see but not change it, or may not move it there.
        DuplicateEntryError: Another entry has the new text.
        RecordInvalidError: A changed field is malformed.
    """
    with engine.sessions() as session:
        entry = _writable(session, principal, entry_id)
        record = record_from_entry(entry, changes)
        authorise_records(session, principal, [record])
    item = _prepare(engine, record)
    with engine.sessions.begin() as session:
        current = session.get(Entry, entry_id)
        if current is None:
            raise NotFoundError(f"entry {entry_id} not found")
        writer = EntryWriter(session)
        if writer.is_unchanged(current, item) and "author" not in changes:
            return
        if writer.find_same_content(item.content_hash, exclude=current) is not None:
            raise DuplicateEntryError("another entry has the same text; nothing was changed")
        author = current.author_pseudonym
        texts = [with_title(item.title, c.text) for c in item.chunks]
        vectors = embed_with_cache(session, engine.embedder, texts).vectors
        near = _near_duplicate(session, engine, entry_id, vectors)
        writer.write(
            item, current, vectors=vectors, model=engine.embedder.name, near_duplicate_of=near
        )
        if "author" not in changes:
            current.author_pseudonym = author
        session.flush()
        assign_new_passages(session, engine.config.topics)
    engine.open_indexes()


def delete_entry(engine: Engine, principal: Principal, entry_id: int) -> None:
    """Delete an entry and its passages (recorded in ``passage_deletions``); refresh indexes.

    Raises:
        NotFoundError: No such entry, or the key may not see it.
        AccessDeniedError: The key may see but not delete it.
    """
    with engine.sessions.begin() as session:
        _writable(session, principal, entry_id)
        passage_ids = list(session.scalars(select(Passage.id).where(Passage.entry_id == entry_id)))
        session.execute(delete(Passage).where(Passage.entry_id == entry_id))
        session.add_all(PassageDeletion(passage_id=pid) for pid in passage_ids)
        session.flush()
        session.expunge_all()
        session.execute(delete(Entry).where(Entry.id == entry_id))
    engine.open_indexes()
