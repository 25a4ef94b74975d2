"""The store's change feed as a search process sees it: a cheap signature, and a folder lock.

Processes sharing one store compare :class:`StoreSignature` values to tell, with two small
aggregate queries, whether anything was written since they last followed the feed; processes
sharing one data folder serialise writes to it with :func:`folder_lock`.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Passage, PassageDeletion

__all__ = ["StoreSignature", "folder_lock", "read_signature"]


@dataclass(frozen=True, slots=True)
class StoreSignature:
    """What the change feed looks like: passages, the last passage id, the last deletion id.

    Any write changes it: an insert raises the count (and usually the last id), a delete
    lowers the count and adds a deletion row. Equal signatures mean nothing to apply.
    """

    passages: int
    last_passage_id: int
    last_deletion_id: int


def read_signature(session: Session) -> StoreSignature:
    """Read the store's :class:`StoreSignature` (two aggregate queries on primary keys)."""
    count, last = session.execute(select(func.count(Passage.id), func.max(Passage.id))).one()
    deletion = session.scalar(select(func.max(PassageDeletion.id)))
    return StoreSignature(int(count or 0), int(last or 0), int(deletion or 0))


@contextmanager
def folder_lock(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold an ``fcntl`` lock on ``folder/.lock`` (shared for reading, exclusive for writing)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
