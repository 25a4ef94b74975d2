"""``/api/v1/search`` and ``/api/v1/entries/{id}/similar``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import EngineDep, ViewerDep
from api.routes.schemas import EntryId
from synth.search.query import SearchHit, SearchQuery
from synth.search.service import search_entries, similar_entries

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["search"])


class PassageRead(BaseModel):
    """The passage that matched, with offsets into the entry body and highlight spans."""

    id: int
    text: str
    start: int
    end: int
    highlights: list[tuple[int, int]]
    highlighted: str


class SearchHitRead(BaseModel):
    """One result."""

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
    passage: PassageRead
    why: list[str]
    links: dict[str, str]


class SearchRead(BaseModel):
    """A page of results."""

    query: str
    results: list[SearchHitRead]


def _read(hits: list[SearchHit], query: str) -> Response:
    """The page as JSON, serialised once by pydantic (the route's model documents it)."""
    page = SearchRead(
        query=query, results=[SearchHitRead.model_validate(h.to_dict()) for h in hits]
    )
    return Response(page.model_dump_json(), media_type="application/json")


Many = Annotated[list[str] | None, Query()]


@router.get("/search", operation_id="search_entries", response_model=SearchRead)
async def get_search(
    engine: EngineDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    network: Many = None,
    organisation: Many = None,
    project: Many = None,
    kind: Many = None,
    tag: Many = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    exclude_network: str | None = None,
    exclude_organisation: str | None = None,
    per_organisation: Annotated[int | None, Query(ge=0, le=100)] = None,
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
) -> Response:
    """Who else has tried this? Entries ranked by hybrid (dense + BM25) relevance."""
    request = SearchQuery(
        text=q,
        k=k,
        networks=tuple(network or ()),
        organisations=tuple(organisation or ()),
        projects=tuple(project or ()),
        kinds=tuple(kind or ()),
        tags=tuple(tag or ()),
        date_from=since,
        date_to=until,
        exclude_network=exclude_network,
        exclude_organisation=exclude_organisation,
        per_organisation=per_organisation,
        mode=mode,
    )

    def search() -> Response:  # the blocking work, in one trip to the thread pool
        with engine.sessions() as session:
            hits = search_entries(
                session,
                engine.indexes_for_search(),
                engine.embedder,
                request,
                viewer=viewer,
                config=engine.config.search,
            )
        return _read(hits, q)

    return await run_in_threadpool(search)


@router.get(
    "/entries/{entry_id}/similar", operation_id="similar_entries", response_model=SearchRead
)
async def get_similar(
    engine: EngineDep,
    viewer: ViewerDep,
    entry_id: EntryId,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    other_networks: Annotated[
        bool, Query(description="Only similar learning from other networks.")
    ] = False,
) -> Response:
    """More like this: entries closest to this entry's passages (not itself or its duplicates)."""

    def similar() -> Response:  # the blocking work, in one trip to the thread pool
        with engine.sessions() as session:
            hits = similar_entries(
                session,
                engine.indexes_for_search(),
                entry_id,
                viewer=viewer,
                config=engine.config.search,
                k=k,
                exclude_same_network=other_networks,
            )
        return _read(hits, "")

    return await run_in_threadpool(similar)
