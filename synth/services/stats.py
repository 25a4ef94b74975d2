"""Counts of what the store holds (``synth stats``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Entry, Network, Organisation, Passage, Project

__all__ = ["StoreStats", "compute_stats"]


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Store totals; ``to_dict`` is the ``synth stats --json`` contract."""

    entries: int
    passages: int
    networks: int
    organisations: int
    projects: int
    network_slugs: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return asdict(self)


def compute_stats(session: Session) -> StoreStats:
    """Count entries, passages, networks, organisations and projects, and entries per kind."""

    def count(model: type[object]) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    kinds = session.execute(select(Entry.kind, func.count()).group_by(Entry.kind))
    return StoreStats(
        entries=count(Entry),
        passages=count(Passage),
        networks=count(Network),
        organisations=count(Organisation),
        projects=count(Project),
        network_slugs=list(session.scalars(select(Network.slug).order_by(Network.slug))),
        kinds={kind: int(n) for kind, n in sorted(kinds.all())},
    )
