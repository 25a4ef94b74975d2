"""The search page ("Who else has tried this?") and the entry page."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import EngineDep, SessionDep
from api.web.entry_view import entry_context
from api.web.rendering import render
from api.web.session import UserDep
from models import Network, Organisation
from synth.errors import SearchFilterError
from synth.search.query import MatchedPassage, SearchHit, SearchQuery
from synth.search.service import parse_date, search_entries
from synth.services.keys import Principal
from synth.types import EntryKind

__all__ = ["router", "segments"]

router = APIRouter(include_in_schema=False)
Many = Annotated[list[str] | None, Query()]


def segments(passage: MatchedPassage) -> list[tuple[str, bool]]:
    """The passage as (text, highlighted) pieces, for ``<mark>`` without raw HTML."""
    out, last = [], 0
    for start, end in passage.highlights:
        if start > last:
            out.append((passage.text[last:start], False))
        out.append((passage.text[start:end], True))
        last = end
    if last < len(passage.text):
        out.append((passage.text[last:], False))
    return out


def directory(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Networks and organisations as (slug, name) choices for the filters."""
    networks = session.scalars(select(Network).order_by(Network.name))
    organisations = session.scalars(select(Organisation).order_by(Organisation.name))
    return {
        "networks": [(n.slug, n.name) for n in networks],
        "organisations": [(o.slug, o.name) for o in organisations],
        "kinds": [(k.value, k.value.replace("_", " ")) for k in EntryKind],
    }


def _clean(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v for v in (values or ()) if v)


def _outside(
    principal: Principal, chosen: tuple[str, ...], all_networks: list[str]
) -> tuple[str, ...]:
    """Networks other than the caller's (within ``chosen`` when some are chosen)."""
    pool = chosen or tuple(all_networks)
    return tuple(n for n in pool if n not in principal.networks)


@dataclasses.dataclass(frozen=True, slots=True)
class _Form:
    q: str
    network: tuple[str, ...]
    organisation: tuple[str, ...]
    kind: tuple[str, ...]
    since: str
    until: str
    outside: bool


def _hits(
    engine: EngineDep, session: Session, principal: Principal, form: _Form, networks: list[str]
) -> list[SearchHit]:
    chosen = form.network
    if form.outside and principal.networks:
        chosen = _outside(principal, chosen, networks)
        if not chosen:
            return []
    query = SearchQuery(
        text=form.q,
        k=20,
        networks=chosen,
        organisations=form.organisation,
        kinds=form.kind,
        date_from=parse_date(form.since, "From"),
        date_to=parse_date(form.until, "To"),
    )
    return search_entries(
        session,
        engine.indexes_for_search(),
        engine.embedder,
        query,
        viewer=principal.viewer,
        config=engine.config.search,
    )


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    user: UserDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    network: Many = None,
    organisation: Many = None,
    kind: Many = None,
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    outside: Annotated[str, Query(max_length=5)] = "",
) -> HTMLResponse:
    """Search: a query box, filters, and results with the passage that matched."""
    form = _Form(
        q.strip(), _clean(network), _clean(organisation), _clean(kind), since, until, bool(outside)
    )
    choices = directory(session)
    hits: list[SearchHit] = []
    error = None
    if form.q:
        try:
            hits = _hits(engine, session, user.principal, form, [s for s, _ in choices["networks"]])
        except SearchFilterError as exc:
            error = exc.message
    context: dict[str, Any] = {
        "form": form,
        "hits": [(hit, segments(hit.passage)) for hit in hits],
        "error": error,
        "searched": bool(form.q),
        **choices,
    }
    return render(request, user, "search.html", context)


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
def entry_page(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    user: UserDep,
    entry_id: int,
    saved: Annotated[str, Query(max_length=5)] = "",
) -> HTMLResponse:
    """One entry (redacted as stored), its themes, similar learning and the project's measures."""
    if not 1 <= entry_id <= 2**62:
        entry_id = 0
    context = entry_context(engine, session, user.principal, entry_id, saved=bool(saved))
    return render(request, user, "entry.html", context)
