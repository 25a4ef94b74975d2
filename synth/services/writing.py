"""Write prepared entries and their passages into the store (inside the caller's transaction)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Entry, Passage, PassageDeletion, Tag
from synth.core.dedupe import compute_text_hash
from synth.services.directory import Directory
from synth.services.embeddings import vector_to_bytes
from synth.services.preparation import PreparedEntry

__all__ = ["EntryWriter"]


class EntryWriter:
    """Creates or updates entries; tracks content hashes written in this batch."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._directory = Directory(session)
        self._tags: dict[str, Tag] = {}
        self._reserved: set[str] = set()

    def find_by_external_id(self, external_id: str | None) -> Entry | None:
        """Return the stored entry with this source id, if any."""
        if external_id is None:
            return None
        return self._session.scalar(select(Entry).where(Entry.external_id == external_id))

    def find_same_content(self, content_hash: str, *, exclude: Entry | None) -> int | str | None:
        """Return the id of another entry with the same normalised text, if any."""
        query = select(Entry.id).where(Entry.content_hash == content_hash)
        if exclude is not None:
            query = query.where(Entry.id != exclude.id)
        found = self._session.scalar(query.limit(1))
        if found is not None:
            return found
        return "earlier in this batch" if content_hash in self._reserved else None

    def reserve_hash(self, content_hash: str) -> None:
        """Remember a hash about to be written, so a repeat in the same batch is caught."""
        self._reserved.add(content_hash)

    def is_unchanged(self, entry: Entry, item: PreparedEntry) -> bool:
        """True when re-ingesting ``item`` would change nothing stored in ``entry``."""
        record = item.record
        return (
            entry.content_hash == item.content_hash
            and entry.body == item.body
            and entry.title == item.title
            and entry.kind == record.kind.value
            and entry.visibility == record.visibility.value
            and entry.network.slug == record.network
            and entry.organisation.slug == record.organisation
            and (entry.project.slug if entry.project else None) == record.project
            and entry.occurred_on == record.occurred_on
            and [t.name for t in entry.tags] == sorted(record.tags)
            and entry.author_pseudonym == item.author_pseudonym
            and entry.source_file == record.source.file
        )

    def _tag(self, name: str) -> Tag:
        if name not in self._tags:
            found = self._session.scalar(select(Tag).where(Tag.name == name))
            if found is None:
                found = Tag(name=name)
                self._session.add(found)
            self._tags[name] = found
        return self._tags[name]

    def write(
        self,
        item: PreparedEntry,
        current: Entry | None,
        *,
        vectors: NDArray[np.float32],
        model: str,
        near_duplicate_of: int | None,
    ) -> Entry:
        """Create (``current is None``) or rewrite an entry with new passages; flush for its id."""
        record = item.record
        network = self._directory.network(record.network)
        organisation = self._directory.organisation(record.organisation)
        self._directory.member(organisation, network)
        project = (
            self._directory.project(record.project, network=network, organisation=organisation)
            if record.project
            else None
        )
        entry = current or Entry(external_id=record.source.external_id)
        if current is not None:
            self._drop_passages(current)
        entry.kind = record.kind.value
        entry.title = item.title
        entry.body = item.body
        entry.fields = dict(item.fields)
        entry.author_pseudonym = item.author_pseudonym
        entry.network = network
        entry.organisation = organisation
        entry.project = project
        entry.occurred_on = record.occurred_on
        entry.visibility = record.visibility.value
        entry.source_file = record.source.file
        entry.source_url = record.source.url
        entry.content_hash = item.content_hash
        entry.near_duplicate_of = near_duplicate_of
        entry.redactions = item.redactions
        entry.tags = [self._tag(t) for t in sorted(record.tags)]
        self._session.add(entry)
        self._session.flush()
        self._session.add_all(
            Passage(
                entry_id=entry.id,
                ordinal=chunk.ordinal,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                text_hash=compute_text_hash(chunk.text),
                embedding=vector_to_bytes(vector),
                embedding_model=model,
                embedding_dim=int(vector.shape[0]),
            )
            for chunk, vector in zip(item.chunks, vectors, strict=True)
        )
        self._session.flush()
        return entry

    def _drop_passages(self, entry: Entry) -> None:
        """Delete an entry's passages and record their ids for the index change feed."""
        old_ids = list(
            self._session.scalars(select(Passage.id).where(Passage.entry_id == entry.id))
        )
        self._session.execute(delete(Passage).where(Passage.entry_id == entry.id))
        self._session.add_all(PassageDeletion(passage_id=pid) for pid in old_ids)
        self._session.expire(entry, ["passages"])
