"""In-memory columns of passage metadata, so search filters are numpy masks, not SQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from synth.types import EntryKind, Visibility

__all__ = ["PassageFilter", "PassageRow", "PassageTable"]

KIND_CODES = {kind.value: i for i, kind in enumerate(EntryKind)}
VISIBILITY_CODES = {vis.value: i for i, vis in enumerate(Visibility)}
NO_DATE = -1
#: Filters whose allowed ids a table remembers (an API key's visibility, repeated filters).
ALLOWED_CACHE_SIZE = 8
_COLUMNS = (
    "ids",
    "entries",
    "networks",
    "organisations",
    "projects",
    "kinds",
    "visibility",
    "dates",
)


@dataclass(frozen=True, slots=True)
class PassageRow:
    """One passage's metadata as read from the store."""

    passage_id: int
    entry_id: int
    network_id: int
    organisation_id: int
    project_id: int | None
    kind: str
    visibility: str
    occurred_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PassageFilter:
    """Which passages a search may return; ``None`` means no restriction on that field.

    ``visibility_networks``/``visibility_organisations`` grant ``network``/``private``
    entries to a viewer; ``visibilities`` lists the levels anyone may see (``public``).
    """

    networks: frozenset[int] | None = None
    organisations: frozenset[int] | None = None
    projects: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    entries: frozenset[int] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    exclude_networks: frozenset[int] = frozenset()
    exclude_organisations: frozenset[int] = frozenset()
    exclude_entries: frozenset[int] = frozenset()
    visibilities: frozenset[str] | None = None
    visibility_networks: frozenset[int] = field(default_factory=frozenset)
    visibility_organisations: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_open(self) -> bool:
        """True when nothing is restricted (search the whole index)."""
        return self == PassageFilter()


def _isin(column: NDArray[np.int64], values: frozenset[int]) -> NDArray[np.bool_]:
    return np.isin(column, np.fromiter(values, dtype=np.int64, count=len(values)))


class PassageTable:
    """Columns aligned by row; ``ids`` are passage ids in ascending order."""

    def __init__(self, rows: Sequence[PassageRow] = ()) -> None:
        ordered = sorted(rows, key=lambda r: r.passage_id)
        self.ids = np.array([r.passage_id for r in ordered], dtype=np.int64)
        self.entries = np.array([r.entry_id for r in ordered], dtype=np.int64)
        self.networks = np.array([r.network_id for r in ordered], dtype=np.int64)
        self.organisations = np.array([r.organisation_id for r in ordered], dtype=np.int64)
        self.projects = np.array([r.project_id or -1 for r in ordered], dtype=np.int64)
        self.kinds = np.array([KIND_CODES[r.kind] for r in ordered], dtype=np.int8)
        self.visibility = np.array([VISIBILITY_CODES[r.visibility] for r in ordered], dtype=np.int8)
        self.dates = np.array(
            [r.occurred_on.toordinal() if r.occurred_on else NO_DATE for r in ordered],
            dtype=np.int64,
        )
        self._allowed: dict[PassageFilter, NDArray[np.int64]] = {}
        self._allowed_lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.ids.size)

    def __contains__(self, passage_id: object) -> bool:
        if not isinstance(passage_id, int | np.integer):
            return False
        row = int(np.searchsorted(self.ids, passage_id))
        return row < self.ids.size and int(self.ids[row]) == int(passage_id)

    def updated(self, added: Sequence[PassageRow], removed: Sequence[int]) -> PassageTable:
        """Return a new table with ``added`` rows and without the ``removed`` passage ids."""
        keep = ~np.isin(self.ids, np.asarray(list(removed), dtype=np.int64))
        table = PassageTable(added)
        for name in _COLUMNS:
            setattr(table, name, np.concatenate([getattr(self, name)[keep], getattr(table, name)]))
        order = np.argsort(table.ids, kind="stable")
        for name in _COLUMNS:
            setattr(table, name, getattr(table, name)[order])
        return table

    def entry_of(self, passage_ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Return the entry id of each passage id (all must be present)."""
        return self.entries[np.searchsorted(self.ids, passage_ids)]

    def mask(self, flt: PassageFilter) -> NDArray[np.bool_]:
        """Return the rows that pass ``flt``."""
        keep = np.ones(len(self), dtype=bool)
        for column, values in (
            (self.networks, flt.networks),
            (self.organisations, flt.organisations),
            (self.projects, flt.projects),
            (self.entries, flt.entries),
        ):
            if values is not None:
                keep &= _isin(column, values)
        if flt.kinds is not None:
            codes = frozenset(KIND_CODES[k] for k in flt.kinds if k in KIND_CODES)
            keep &= np.isin(self.kinds, list(codes))
        if flt.date_from is not None:
            keep &= self.dates >= flt.date_from.toordinal()
        if flt.date_to is not None:
            keep &= (self.dates <= flt.date_to.toordinal()) & (self.dates != NO_DATE)
        for column, excluded in (
            (self.networks, flt.exclude_networks),
            (self.organisations, flt.exclude_organisations),
            (self.entries, flt.exclude_entries),
        ):
            if excluded:
                keep &= ~_isin(column, excluded)
        if flt.visibilities is not None:
            keep &= self._visible(flt)
        return keep

    def _visible(self, flt: PassageFilter) -> NDArray[np.bool_]:
        assert flt.visibilities is not None
        codes = [VISIBILITY_CODES[v] for v in flt.visibilities]
        seen = np.isin(self.visibility, codes)
        if flt.visibility_networks:
            seen |= (self.visibility == VISIBILITY_CODES["network"]) & _isin(
                self.networks, flt.visibility_networks
            )
        if flt.visibility_organisations:
            seen |= (self.visibility == VISIBILITY_CODES["private"]) & _isin(
                self.organisations, flt.visibility_organisations
            )
        return seen

    def allowed_ids(self, flt: PassageFilter) -> NDArray[np.int64] | None:
        """Passage ids passing ``flt`` (sorted, read-only), or ``None`` when the filter is open.

        The table's columns never change (an update makes a new table), so the answer for
        a filter is remembered: the same filter gets the same array object back, which lets
        the indexes reuse what they built for it (selector, mask).
        """
        if flt.is_open:
            return None
        with self._allowed_lock:
            found = self._allowed.get(flt)
        if found is not None:
            return found
        allowed = self.ids[self.mask(flt)]
        allowed.setflags(write=False)
        with self._allowed_lock:
            while len(self._allowed) >= ALLOWED_CACHE_SIZE:
                del self._allowed[next(iter(self._allowed))]
            self._allowed[flt] = allowed
        return allowed
