"""Search requests, viewers and results as plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["MatchedPassage", "SearchHit", "SearchQuery", "Viewer"]

SearchMode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose eyes a search is for: which entries they may see.

    ``sees_all`` is the local operator (CLI on the store's own machine). Otherwise a viewer
    sees ``public`` entries, ``network`` entries of ``networks`` and ``private`` entries of
    ``organisations`` (slugs).
    """

    sees_all: bool = False
    networks: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()

    @classmethod
    def operator(cls) -> Viewer:
        """The local operator, who sees every entry."""
        return cls(sees_all=True)

    @classmethod
    def anonymous(cls) -> Viewer:
        """Someone who may see public entries only."""
        return cls()


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search: text, filters applied before ranking, and page size."""

    text: str
    k: int = 10
    networks: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    exclude_network: str | None = None
    exclude_organisation: str | None = None
    per_organisation: int | None = None
    mode: SearchMode = "hybrid"


@dataclass(frozen=True, slots=True)
class MatchedPassage:
    """The passage that matched: offsets into the entry body, highlight spans in ``text``."""

    passage_id: int
    text: str
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...] = ()

    def highlighted(self, before: str = "**", after: str = "**") -> str:
        """Return the text with highlight spans wrapped in ``before``/``after``."""
        out, last = [], 0
        for start, end in self.highlights:
            out += [self.text[last:start], before, self.text[start:end], after]
            last = end
        return "".join([*out, self.text[last:]])


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One entry in a result list, with the passage that matched and why."""

    entry_id: int
    title: str
    kind: str
    network: str
    network_name: str
    organisation: str
    organisation_name: str
    project: str | None
    occurred_on: dt.date | None
    score: float
    passage: MatchedPassage
    why: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form used by the CLI and the API."""
        return {
            "entry_id": self.entry_id,
            "title": self.title,
            "kind": self.kind,
            "network": self.network,
            "network_name": self.network_name,
            "organisation": self.organisation,
            "organisation_name": self.organisation_name,
            "project": self.project,
            "occurred_on": self.occurred_on.isoformat() if self.occurred_on else None,
            "score": round(self.score, 6),
            "passage": {
                "id": self.passage.passage_id,
                "text": self.passage.text,
                "start": self.passage.start,
                "end": self.passage.end,
                "highlights": [list(h) for h in self.passage.highlights],
                "highlighted": self.passage.highlighted(),
            },
            "why": list(self.why),
            "links": self.links,
        }
