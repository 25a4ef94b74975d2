"""Search service: "who else has tried this?" and "similar to this entry"."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Entry, Network, Organisation, Passage, Project, Tag, entry_tags
from synth.config import SearchConfig
from synth.core.fusion import convex, rrf
from synth.core.highlight import compute_highlights, compute_shared_phrases
from synth.errors import NotFoundError, SearchFilterError
from synth.ports import Embedder
from synth.search.indexes import IndexSet
from synth.search.passage_table import PassageFilter
from synth.search.query import MatchedPassage, SearchHit, SearchQuery, Viewer

__all__ = ["build_filter", "search_entries", "similar_entries"]


def _ids(
    session: Session,
    model: type[Network] | type[Organisation] | type[Project],
    slugs: Iterable[str],
    what: str,
) -> frozenset[int]:
    slugs = list(dict.fromkeys(slugs))
    rows = session.execute(select(model.slug, model.id).where(model.slug.in_(slugs)))
    found: dict[str, int] = {}
    for slug, pk in rows:
        found[slug] = pk
    missing = [s for s in slugs if s not in found]
    if missing:
        raise SearchFilterError(f"unknown {what} '{missing[0]}'")
    return frozenset(found.values())


def _visibility(session: Session, viewer: Viewer) -> dict[str, object]:
    if viewer.sees_all:
        return {}
    # An anonymous viewer (the common API case) costs no query.
    networks = (
        session.scalars(select(Network.id).where(Network.slug.in_(viewer.networks)))
        if viewer.networks
        else ()
    )
    orgs = (
        session.scalars(select(Organisation.id).where(Organisation.slug.in_(viewer.organisations)))
        if viewer.organisations
        else ()
    )
    return {
        "visibilities": frozenset({"public"}),
        "visibility_networks": frozenset(networks),
        "visibility_organisations": frozenset(orgs),
    }


def build_filter(session: Session, query: SearchQuery, viewer: Viewer) -> PassageFilter:
    """Turn a query's slugs and switches, and the viewer's rights, into a passage filter.

    Raises:
        SearchFilterError: A filter names a network, organisation or project that does not exist.
    """
    entries = None
    if query.tags:
        tagged = session.scalars(
            select(entry_tags.c.entry_id)
            .join(Tag, Tag.id == entry_tags.c.tag_id)
            .where(Tag.name.in_([t.lower() for t in query.tags]))
        )
        entries = frozenset(tagged)
    return PassageFilter(
        networks=_ids(session, Network, query.networks, "network") if query.networks else None,
        organisations=_ids(session, Organisation, query.organisations, "organisation")
        if query.organisations
        else None,
        projects=_ids(session, Project, query.projects, "project") if query.projects else None,
        kinds=frozenset(query.kinds) if query.kinds else None,
        entries=entries,
        date_from=query.date_from,
        date_to=query.date_to,
        exclude_networks=_ids(session, Network, [query.exclude_network], "network")
        if query.exclude_network
        else frozenset(),
        exclude_organisations=_ids(
            session, Organisation, [query.exclude_organisation], "organisation"
        )
        if query.exclude_organisation
        else frozenset(),
        **_visibility(session, viewer),  # type: ignore[arg-type]
    )


def _fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], config: SearchConfig
) -> list[tuple[int, float]]:
    if not dense or not lexical:
        return dense or lexical
    if config.fusion == "convex":
        return convex(dense, lexical, alpha=config.alpha, normalisation=config.normalisation)
    return rrf([dense, lexical], k=config.rrf_k)


def _rank_entries(
    indexes: IndexSet, passages: list[tuple[int, float]], k: int, per_org: int
) -> list[tuple[int, int, float]]:
    """Best passage per entry, then at most ``per_org`` entries per organisation up front."""
    known = [(p, s) for p, s in passages if p in indexes.table]
    if not known:
        return []
    ids = np.asarray([p for p, _ in known], dtype=np.int64)
    rows = np.searchsorted(indexes.table.ids, ids)
    best: dict[int, tuple[int, float, int]] = {}
    for (pid, score), row in zip(known, rows, strict=True):
        entry = int(indexes.table.entries[row])
        if entry not in best or score > best[entry][1]:
            best[entry] = (pid, score, int(indexes.table.organisations[row]))
    ranked = sorted(best.items(), key=lambda item: (-item[1][1], item[0]))
    kept: list[tuple[int, int, float]] = []
    deferred: list[tuple[int, int, float]] = []
    per: defaultdict[int, int] = defaultdict(int)
    for entry, (pid, score, org) in ranked:
        target = kept if per_org == 0 or per[org] < per_org else deferred
        target.append((entry, pid, score))
        per[org] += 1
    return (kept + deferred)[:k]


def _hydrate(
    session: Session, ranked: Sequence[tuple[int, int, float]], text: str
) -> list[SearchHit]:
    if not ranked:
        return []
    passages = {
        p.id: p
        for p in session.scalars(
            select(Passage)
            .where(Passage.id.in_([pid for _, pid, _ in ranked]))
            .options(
                joinedload(Passage.entry).joinedload(Entry.network),
                joinedload(Passage.entry).joinedload(Entry.organisation),
                joinedload(Passage.entry).joinedload(Entry.project),
            )
        )
    }
    hits = []
    for entry_id, pid, score in ranked:
        passage = passages.get(pid)
        if passage is None:
            continue  # deleted (or rewritten) through another process since the last refresh
        entry = passage.entry
        hits.append(
            SearchHit(
                entry_id=entry_id,
                title=entry.title,
                kind=entry.kind,
                network=entry.network.slug,
                network_name=entry.network.name,
                organisation=entry.organisation.slug,
                organisation_name=entry.organisation.name,
                project=entry.project.slug if entry.project else None,
                occurred_on=entry.occurred_on,
                score=float(score),
                passage=MatchedPassage(
                    passage_id=pid,
                    text=passage.text,
                    start=passage.start,
                    end=passage.end,
                    highlights=tuple(compute_highlights(text, passage.text)) if text else (),
                ),
                why=tuple(compute_shared_phrases(text, passage.text)) if text else (),
                links={
                    "entry": f"/entries/{entry_id}",
                    "api": f"/api/v1/entries/{entry_id}",
                    "similar": f"/api/v1/entries/{entry_id}/similar",
                },
            )
        )
    return hits


def search_entries(
    session: Session,
    indexes: IndexSet,
    embedder: Embedder,
    query: SearchQuery,
    *,
    viewer: Viewer,
    config: SearchConfig,
) -> list[SearchHit]:
    """Find the entries that best match ``query.text`` among those ``viewer`` may see.

    Filters are applied before ranking, so ``k`` results come back when ``k`` exist.
    """
    flt = build_filter(session, query, viewer)
    allowed = indexes.table.allowed_ids(flt)
    if allowed is not None and allowed.size == 0:
        return []
    depth = config.depth
    dense: list[tuple[int, float]] = []
    lexical: list[tuple[int, float]] = []
    if query.mode != "bm25":
        vector = embedder.encode([query.text])[0]
        dense = indexes.dense.search(vector, depth, allowed=allowed)
    if query.mode != "dense":
        lexical = indexes.lexical.search(query.text, depth, allowed=allowed)
    per_org = config.per_organisation if query.per_organisation is None else query.per_organisation
    ranked = _rank_entries(indexes, _fuse(dense, lexical, config), query.k, per_org)
    return _hydrate(session, ranked, query.text)


def similar_entries(
    session: Session,
    indexes: IndexSet,
    entry_id: int,
    *,
    viewer: Viewer,
    config: SearchConfig,
    k: int = 10,
    exclude_same_network: bool = False,
) -> list[SearchHit]:
    """More like this: entries whose passages are closest to ``entry_id``'s passages.

    The entry itself and its near duplicates are left out.

    Raises:
        NotFoundError: No such entry, or the viewer may not see it.
    """
    entry = session.get(Entry, entry_id)
    if entry is None or not _may_see(viewer, entry):
        raise NotFoundError(f"entry {entry_id} not found")
    blobs = [p.embedding for p in entry.passages]
    if not blobs:
        return []
    dim = entry.passages[0].embedding_dim
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim)
    query = vectors.mean(axis=0)
    query = (query / max(float(np.linalg.norm(query)), 1e-12)).astype(np.float32)
    twins = set(session.scalars(select(Entry.id).where(Entry.near_duplicate_of == entry_id)))
    if entry.near_duplicate_of is not None:
        twins.add(entry.near_duplicate_of)
    flt = build_filter(
        session,
        SearchQuery(text="", exclude_network=entry.network.slug if exclude_same_network else None),
        viewer,
    )
    flt = replace(flt, exclude_entries=flt.exclude_entries | {entry_id} | twins)
    allowed = indexes.table.allowed_ids(flt)
    dense = indexes.dense.search(query, config.depth, allowed=allowed)
    ranked = _rank_entries(indexes, dense, k, config.per_organisation)
    return _hydrate(session, ranked, "")


def _may_see(viewer: Viewer, entry: Entry) -> bool:
    if viewer.sees_all or entry.visibility == "public":
        return True
    if entry.visibility == "network":
        return entry.network.slug in viewer.networks
    return entry.organisation.slug in viewer.organisations


def parse_date(value: str | None, field: str) -> dt.date | None:
    """Parse a YYYY-MM-DD filter value.

    Raises:
        SearchFilterError: The value is not a date.
    """
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SearchFilterError(f"{field} '{value}' is not a date (use YYYY-MM-DD)") from None
