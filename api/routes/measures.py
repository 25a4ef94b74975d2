"""``/api/v1/measures``: measures, their run/control chart analysis and chart images (read-only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response

from api.deps import EngineDep, ReaderDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from synth.charts import ChartPanel, chart_image
from synth.core.measure_analysis import analyse_series
from synth.services.measure_views import analysis_dict, annotations_list, measure_dict
from synth.services.measures import (
    analyse_measure,
    analysis_rules,
    get_measure,
    list_measures,
    series_of,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["measures"], responses=PROBLEM_RESPONSES)
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


@router.get("/measures", operation_id="list_measures")
def get_measures(
    engine: EngineDep, session: SessionDep, _: ReaderDep, project: str | None = None
) -> dict[str, Any]:
    """Every measure (or a project's), with its verdict."""
    rules = analysis_rules(engine.config.measures)
    items = [
        {**measure_dict(m), "verdict": analyse_measure(m, rules).verdict.value}
        for m in list_measures(session, project)
    ]
    return {"items": items}


@router.get("/measures/{measure_id}", operation_id="get_measure")
def get_one(session: SessionDep, _: ReaderDep, measure_id: str) -> dict[str, Any]:
    """One measure (by number or slug) with its observations and annotations."""
    measure = get_measure(session, measure_id)
    observations = [
        {
            "period": o.period,
            "value": o.value,
            "numerator": o.numerator,
            "denominator": o.denominator,
        }
        for o in sorted(measure.observations, key=lambda o: o.period)
    ]
    return {
        **measure_dict(measure),
        "observations": observations,
        "annotations": annotations_list(measure),
    }


@router.get("/measures/{measure_id}/analysis", operation_id="get_measure_analysis")
def get_analysis(
    engine: EngineDep, session: SessionDep, _: ReaderDep, measure_id: str
) -> dict[str, Any]:
    """Verdict and signals (each with its rule and points), run chart and control chart."""
    measure = get_measure(session, measure_id)
    series = series_of(measure)
    analysis = analyse_series(series, analysis_rules(engine.config.measures))
    return {"measure_id": measure.slug, "id": measure.id, **analysis_dict(series, analysis)}


def _chart(
    engine: EngineDep, session: SessionDep, measure_id: str, fmt: Literal["png", "svg"]
) -> Response:
    measure = get_measure(session, measure_id)
    series = series_of(measure)
    analysis = analyse_series(series, analysis_rules(engine.config.measures))
    notes = tuple((a.on, a.text) for a in measure.annotations)
    image = chart_image(ChartPanel(series, analysis, measure.name, measure.unit, notes), fmt)
    return Response(content=image, media_type=MEDIA[fmt])


@router.get(
    "/measures/{measure_id}/chart.png",
    operation_id="get_measure_chart_png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def get_chart_png(
    engine: EngineDep, session: SessionDep, _: ReaderDep, measure_id: str
) -> Response:
    """The measure's run/control chart as PNG."""
    return _chart(engine, session, measure_id, "png")


@router.get(
    "/measures/{measure_id}/chart.svg",
    operation_id="get_measure_chart_svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def get_chart_svg(
    engine: EngineDep, session: SessionDep, _: ReaderDep, measure_id: str
) -> Response:
    """The measure's run/control chart as SVG."""
    return _chart(engine, session, measure_id, "svg")
