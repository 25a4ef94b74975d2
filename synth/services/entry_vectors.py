"""Unit mean vectors of stored entries, used to flag near duplicates at ingest."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Passage
from synth.core.dedupe import compute_entry_vector

__all__ = ["EntryVectors"]


class EntryVectors:
    """A growable (entry id → unit vector) table."""

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._vectors: dict[int, NDArray[np.float32]] = {}
        self._matrix: NDArray[np.float32] | None = None
        self._ids: list[int] = []

    @classmethod
    def load(cls, session: Session, model: str, dim: int) -> EntryVectors:
        """Read every stored passage vector of ``model`` and average them per entry."""
        table = cls(dim)
        per_entry: dict[int, list[bytes]] = defaultdict(list)
        rows = session.execute(
            select(Passage.entry_id, Passage.embedding)
            .where(Passage.embedding_model == model, Passage.embedding_dim == dim)
            .order_by(Passage.entry_id, Passage.ordinal)
        )
        for entry_id, data in rows:
            per_entry[entry_id].append(data)
        for entry_id, chunks in per_entry.items():
            matrix = np.frombuffer(b"".join(chunks), dtype="<f4").reshape(-1, dim)
            table.add(entry_id, compute_entry_vector(matrix.astype(np.float32)))
        return table

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def ids(self) -> list[int]:
        """Entry ids in the row order of :attr:`matrix`."""
        self._refresh()
        return self._ids

    @property
    def matrix(self) -> NDArray[np.float32]:
        """An (n, dim) array of entry vectors."""
        self._refresh()
        assert self._matrix is not None
        return self._matrix

    def add(self, entry_id: int, vector: NDArray[np.float32]) -> None:
        """Add or replace an entry's vector."""
        self._vectors[entry_id] = vector
        self._matrix = None

    def remove(self, entry_id: int) -> None:
        """Forget an entry (it is being rewritten)."""
        if self._vectors.pop(entry_id, None) is not None:
            self._matrix = None

    def _refresh(self) -> None:
        if self._matrix is None:
            self._ids = list(self._vectors)
            self._matrix = (
                np.vstack([self._vectors[i] for i in self._ids])
                if self._ids
                else np.zeros((0, self._dim), dtype=np.float32)
            )
