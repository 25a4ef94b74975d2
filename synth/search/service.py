"""Search service: "who else has tried this?" and "similar to this entry"."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Entry, Network, Organisation, Passage, Project, Tag, entry_tags
from synth.config import SearchConfig
from synth.core.entry_fusion import ScoredPassages, fuse_entries_convex
from synth.core.fusion import convex, fuse_documents, rrf
from synth.core.highlight import compute_highlights, compute_shared_phrases
from synth.errors import NotFoundError, SearchFilterError
from synth.ports import Embedder
from synth.search import overlap
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


def _fuse_entries(
    indexes: IndexSet,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    config: SearchConfig,
) -> list[tuple[int, float]]:
    """Fuse at the entry level (``fusion_level`` "entry"): one (passage, score) per entry.

    Each list scores an entry by its best passage there; the entry lists are fused and each
    entry keeps the passage of the list that ranked it higher. Passages the table does not
    know (added since it was built) are skipped.
    """
    table = indexes.table
    if not len(table):
        return []
    found = []
    for items in (dense, lexical):
        ids = np.fromiter((p for p, _ in items), dtype=np.int64, count=len(items))
        scores = np.fromiter((s for _, s in items), dtype=np.float64, count=len(items))
        rows = np.minimum(np.searchsorted(table.ids, ids), len(table) - 1)
        known = table.ids[rows] == ids
        found.append(ScoredPassages(ids[known], scores[known], table.entries[rows[known]]))
    if config.fusion == "convex" and all(f.passages.size for f in found):
        fused = fuse_entries_convex(
            found[0], found[1], config.alpha, normalisation=config.normalisation
        )
    else:  # rrf, or one list empty (it is then the answer as it stands)
        entry_of = {
            pid: entry
            for f in found
            for pid, entry in zip(f.passages.tolist(), f.entries.tolist(), strict=True)
        }
        fused = fuse_documents(
            [p for p in dense if p[0] in entry_of],
            [p for p in lexical if p[0] in entry_of],
            entry_of,
            lambda d, x: _fuse(d, x, config),
        )
    return [(pid, score) for _, pid, score in fused]


def _rank_entries(
    indexes: IndexSet, passages: list[tuple[int, float]], k: int, per_org: int
) -> list[tuple[int, int, float]]:
    """Best passage per entry, then at most ``per_org`` entries per organisation up front.

    An entry's best passage is its highest-scoring one (the earliest listed among equals);
    entries rank by that score, ties by entry id. Passages the table does not know (added
    since it was built) are skipped.
    """
    table = indexes.table
    if not passages or not len(table):
        return []
    ids = np.fromiter((p for p, _ in passages), dtype=np.int64, count=len(passages))
    scores = np.fromiter((s for _, s in passages), dtype=np.float64, count=len(passages))
    rows = np.minimum(np.searchsorted(table.ids, ids), len(table) - 1)
    known = np.flatnonzero(table.ids[rows] == ids)
    if not known.size:
        return []
    entries = table.entries[rows[known]]
    # Group by entry, best score first, earliest first among equals; keep each group's head.
    order = np.lexsort((known, -scores[known], entries))
    heads = order[np.concatenate([[True], entries[order][1:] != entries[order][:-1]])]
    heads = heads[np.lexsort((entries[heads], -scores[known][heads]))]
    best = known[heads]
    kept: list[tuple[int, int, float]] = []
    deferred: list[tuple[int, int, float]] = []
    per: defaultdict[int, int] = defaultdict(int)
    for entry, pid, score, org in zip(
        entries[heads].tolist(),
        ids[best].tolist(),
        scores[best].tolist(),
        table.organisations[rows[best]].tolist(),
        strict=True,
    ):
        target = kept if per_org == 0 or per[org] < per_org else deferred
        target.append((entry, pid, score))
        per[org] += 1
        if len(kept) >= k:
            break
    return (kept + deferred)[:k]


_P, _E, _N, _O, _J = (m.__table__ for m in (Passage, Entry, Network, Organisation, Project))
#: The display fields of passages and their entries (a Core statement: no ORM overhead).
_HYDRATE = select(
    _P.c.id,
    _P.c.text,
    _P.c.start,
    _P.c.end,
    _E.c.title,
    _E.c.kind,
    _E.c.occurred_on,
    _N.c.slug,
    _N.c.name,
    _O.c.slug,
    _O.c.name,
    _J.c.slug,
).select_from(
    _P.join(_E, _E.c.id == _P.c.entry_id)
    .join(_N, _N.c.id == _E.c.network_id)
    .join(_O, _O.c.id == _E.c.organisation_id)
    .outerjoin(_J, _J.c.id == _E.c.project_id)
)
#: ... for a page of passage ids (built once: a fresh ``in_`` per search costs ~0.1 ms).
_HYDRATE_PAGE = _HYDRATE.where(_P.c.id.in_(bindparam("ids", expanding=True)))


def _hydrate(
    session: Session, ranked: Sequence[tuple[int, int, float]], text: str
) -> list[SearchHit]:
    """Read the ranked passages and their entries' display fields in one statement."""
    if not ranked:
        return []
    rows = {
        row[0]: row
        for row in session.connection().execute(
            _HYDRATE_PAGE, {"ids": [pid for _, pid, _ in ranked]}
        )
    }
    hits = []
    for entry_id, pid, score in ranked:
        row = rows.get(pid)
        if row is None:
            continue  # deleted (or rewritten) through another process since the last refresh
        _, passage, start, end, title, kind, occurred_on, net, net_name, org, org_name, proj = row
        hits.append(
            SearchHit(
                entry_id=entry_id,
                title=title,
                kind=kind,
                network=net,
                network_name=net_name,
                organisation=org,
                organisation_name=org_name,
                project=proj,
                occurred_on=occurred_on,
                score=float(score),
                passage=MatchedPassage(
                    passage_id=pid,
                    text=passage,
                    start=start,
                    end=end,
                    highlights=tuple(compute_highlights(text, passage)) if text else (),
                ),
                why=tuple(compute_shared_phrases(text, passage)) if text else (),
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
    with overlap.alone() as only:
        beside = None
        if query.mode == "hybrid" and config.overlap and only:
            beside = overlap.submit(indexes.lexical.search, query.text, depth, allowed=allowed)
        if query.mode != "bm25":
            vector = embedder.encode([query.text])[0]
            dense = indexes.dense.search(vector, depth, allowed=allowed)
        if beside is not None:
            lexical = beside.result()
        elif query.mode != "dense":
            lexical = indexes.lexical.search(query.text, depth, allowed=allowed)
        per_org = (
            config.per_organisation if query.per_organisation is None else query.per_organisation
        )
        fused = (
            _fuse_entries(indexes, dense, lexical, config)
            if config.fusion_level == "entry"
            else _fuse(dense, lexical, config)
        )
        ranked = _rank_entries(indexes, fused, query.k, per_org)
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
