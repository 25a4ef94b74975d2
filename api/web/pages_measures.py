"""A measure's page: its run or control chart, the signals found, annotations, sibling measures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, SessionDep
from api.web.rendering import render
from api.web.session import UserDep
from synth.charts import ChartPanel, chart_image
from synth.services.measure_views import analysis_dict, annotations_list, measure_dict
from synth.services.measures import (
    analyse_measure,
    analysis_rules,
    get_measure,
    list_measures,
    series_of,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
MeasureKey = Annotated[str, Path(max_length=200)]
#: The chart is a separate SVG document shown as an image: its own styles, nothing else.
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@router.get("/measures/{measure_id}", response_class=HTMLResponse)
def measure_page(
    request: Request, engine: EngineDep, session: SessionDep, user: UserDep, measure_id: MeasureKey
) -> HTMLResponse:
    """The measure's chart with its verdict, signals and annotations."""
    measure = get_measure(session, measure_id)
    rules = analysis_rules(engine.config.measures)
    series = series_of(measure)
    analysis = analyse_measure(measure, rules)
    siblings = [
        (m.id, m.name, analyse_measure(m, rules).verdict.value)
        for m in list_measures(session, measure.project.slug)
        if m.id != measure.id
    ]
    context: dict[str, Any] = {
        "measure": measure_dict(measure),
        "analysis": analysis,
        "detail": analysis_dict(series, analysis),
        "annotations": annotations_list(measure),
        "siblings": siblings,
        "points": len(series.values),
    }
    return render(request, user, "measure.html", context)


@router.get("/measures/{measure_id}/chart.svg")
def measure_chart(
    engine: EngineDep, session: SessionDep, _: UserDep, measure_id: MeasureKey
) -> Response:
    """The run/control chart as SVG (the same picture as the API's)."""
    measure = get_measure(session, measure_id)
    analysis = analyse_measure(measure, analysis_rules(engine.config.measures))
    notes = tuple((a.on, a.text) for a in measure.annotations)
    panel = ChartPanel(series_of(measure), analysis, measure.name, measure.unit, notes)
    headers = {"Content-Security-Policy": _SVG_CSP, "Cache-Control": "private, max-age=300"}
    return Response(chart_image(panel, "svg"), media_type="image/svg+xml", headers=headers)
