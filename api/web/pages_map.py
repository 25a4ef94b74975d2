"""The map: passages placed by their stored 2-D coordinates, coloured by theme; a heat map."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import EngineDep, SessionDep
from api.web.rendering import render
from api.web.session import UserDep
from api.web.svg import MapPoint, scatter_map
from models import Entry, Network, Passage, PassageTopic
from synth.search.query import Viewer
from synth.services.entries import visible_clause
from synth.services.themes import ThemeScope, list_themes
from synth.services.topics import current_run

__all__ = ["HeatMap", "build_heat_map", "router"]

router = APIRouter(include_in_schema=False)
_HOVER_CHARS = 220


@dataclass(frozen=True, slots=True)
class _Placed:
    x: float
    y: float
    theme_id: int | None
    network: str
    title: str
    text: str


def _placed(session: Session, viewer: Viewer) -> list[_Placed]:
    run = current_run(session)
    if run is None:
        return []
    query = (
        select(
            PassageTopic.x, PassageTopic.y, PassageTopic.theme_id, Network.name, Entry.title,
            Passage.text,
        )
        .join(Passage, Passage.id == PassageTopic.passage_id)
        .join(Entry, Entry.id == Passage.entry_id)
        .join(Network, Network.id == Entry.network_id)
        .where(PassageTopic.run_id == run.id)
        .order_by(PassageTopic.passage_id)
    )  # fmt: skip
    clause = visible_clause(viewer)
    if clause is not None:
        query = query.where(clause)
    return [_Placed(*row) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class HeatMap:
    """Passages per network (rows) and theme (columns), with a shade bucket 0–5 per cell."""

    networks: tuple[str, ...]
    themes: tuple[tuple[int, str], ...]
    cells: dict[tuple[str, int], int]

    def shade(self, network: str, theme_id: int) -> int:
        """0 for none, else 1–5 by share of the largest cell."""
        value = self.cells.get((network, theme_id), 0)
        top = max(self.cells.values(), default=0)
        return 0 if not value or not top else max(1, min(5, round(5 * value / top)))


def build_heat_map(placed: list[_Placed], names: dict[int, str]) -> HeatMap:
    """Count passages per (network, theme) for the themes the viewer sees."""
    counts = Counter((p.network, p.theme_id) for p in placed if p.theme_id in names)
    cells = {(n, t): c for (n, t), c in counts.items() if t is not None}
    return HeatMap(
        networks=tuple(sorted({n for n, _ in cells})),
        themes=tuple((t, names[t]) for t in names if any(k[1] == t for k in cells)),
        cells=cells,
    )


@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request, engine: EngineDep, session: SessionDep, user: UserDep
) -> HTMLResponse:
    """The passage map coloured by theme, its legend, and the network × theme heat map."""
    viewer = user.principal.viewer
    views = list_themes(session, ThemeScope(viewer=viewer), engine.config.themes)
    names = {v.theme_id: v.name for v in views}
    order = {theme_id: i for i, theme_id in enumerate(names)}
    placed = _placed(session, viewer)
    points = [
        MapPoint(
            p.x, p.y, order.get(p.theme_id) if p.theme_id is not None else None,
            f"{p.title} ({p.network}): {p.text[:_HOVER_CHARS]}"
            + ("…" if len(p.text) > _HOVER_CHARS else ""),
        )
        for p in placed
    ]  # fmt: skip
    context: dict[str, Any] = {
        "map": scatter_map(points, title=f"Map of {len(points)} passages coloured by theme"),
        "legend": [(order[t], t, name) for t, name in names.items()],
        "heat": build_heat_map(placed, names),
        "count": len(points),
    }
    return render(request, user, "map.html", context)
