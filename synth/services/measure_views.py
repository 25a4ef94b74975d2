"""JSON-ready views of measures and their analysis, shared by the CLI and the API."""

from __future__ import annotations

import math
from typing import Any

from models import Measure
from synth.core.measure_analysis import MeasureAnalysis, Series, chart_kind
from synth.core.signals import effect_of

__all__ = ["analysis_dict", "measure_dict"]


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def measure_dict(measure: Measure) -> dict[str, Any]:
    """Describe a stored measure (without its analysis)."""
    project = measure.project
    baseline = None
    if measure.baseline_start and measure.baseline_end:
        baseline = {"start": measure.baseline_start, "end": measure.baseline_end}
    return {
        "id": measure.id,
        "measure_id": measure.slug,
        "name": measure.name,
        "unit": measure.unit,
        "type": measure.type,
        "better": measure.better,
        "baseline": baseline,
        "project": project.slug,
        "project_name": project.name,
        "network": project.network.slug,
        "organisation": project.organisation.slug,
        "links": {
            "self": f"/api/v1/measures/{measure.id}",
            "analysis": f"/api/v1/measures/{measure.id}/analysis",
            "chart": f"/api/v1/measures/{measure.id}/chart.svg",
        },
    }


def annotations_list(measure: Measure) -> list[dict[str, Any]]:
    """The measure's annotations, oldest first."""
    return [
        {"on": a.on, "text": a.text, "kind": a.kind, "pdsa_cycle": a.pdsa_cycle, "phase": a.phase}
        for a in sorted(measure.annotations, key=lambda a: a.on)
    ]


def _points(series: Series, analysis: MeasureAnalysis) -> list[dict[str, Any]]:
    control = analysis.control_chart
    out = []
    for i, (period, value) in enumerate(zip(series.periods, series.values, strict=True)):
        point: dict[str, Any] = {"index": i, "period": period, "value": value}
        if series.denominators:
            point["numerator"] = series.numerators[i]
            point["denominator"] = series.denominators[i]
        if control is not None:
            point["centre"] = _num(control.centre[i])
            point["lower"] = _num(control.lower[i])
            point["upper"] = _num(control.upper[i])
        out.append(point)
    return out


def analysis_dict(series: Series, analysis: MeasureAnalysis) -> dict[str, Any]:
    """Describe an analysis: verdict, signals with their points, run and control charts.

    The keys ``verdict`` and ``signals`` (each with ``rule`` and ``points``) are a contract
    of ``synth measures analyse --json`` and ``GET /api/v1/measures/{id}/analysis``.
    """
    signals = [
        {
            "rule": s.rule,
            "chart": s.chart,
            "direction": s.direction,
            "effect": effect_of(s.direction, series.better).value,
            "detail": s.detail,
            "points": [
                {"index": i, "period": series.periods[i], "value": series.values[i]}
                for i in s.points
            ],
        }
        for s in analysis.signals
    ]
    runs = analysis.run_chart
    run_view = None
    if runs is not None:
        first, last = runs.baseline
        run_view = {
            "median": runs.median,
            "baseline": {
                "start": series.periods[first],
                "end": series.periods[last],
                "points": last - first + 1,
            },
            "runs": runs.runs,
            "useful_observations": runs.useful_observations,
            "runs_limits": list(runs.runs_limits) if runs.runs_limits else None,
        }
    control = analysis.control_chart
    control_view = None
    if control is not None:
        control_view = {
            "kind": control.kind,
            "phases": [
                {
                    "start": series.periods[a],
                    "end": series.periods[b],
                    "centre": _num(control.centre[a]),
                }
                for a, b in control.phases
            ],
        }
    return {
        "verdict": analysis.verdict.value,
        "reason": analysis.reason,
        "better": series.better,
        "type": series.type,
        "chart": chart_kind(series),
        "n_points": len(series.values),
        "signals": signals,
        "run_chart": run_view,
        "control_chart": control_view,
        "points": _points(series, analysis),
    }
