"""Analyse one measure's series: run chart, the Shewhart chart its type calls for, a verdict.

The chart follows the measure's type: ``proportion`` with numerators and denominators gets a
p chart, ``rate`` with them a u chart, everything else (``count``, ``days_between``,
``continuous``, or a proportion/rate without denominators) an XmR chart. Signals from both
charts are pooled; :func:`synth.core.signals.verdict` reads them in the measure's better
direction. The verdict is about change from the baseline, so a signal whose points all lie
inside the baseline (an unstable baseline) is reported but does not set it, unless the
baseline is the whole series. Fewer than ``min_points`` points (10 by default) is
``not enough data``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from synth.core.run_chart import RunChart, RunChartRules, run_chart
from synth.core.shewhart import ChartKind, ControlChart, ShewhartRules, control_chart
from synth.core.signals import Direction, Signal, Verdict, verdict

__all__ = ["AnalysisRules", "MeasureAnalysis", "Series", "analyse_series", "chart_kind"]

MeasureTypeName = Literal["count", "rate", "proportion", "days_between", "continuous"]


@dataclass(frozen=True, slots=True)
class Series:
    """A measure's points in time order, with what is needed to judge them."""

    periods: tuple[dt.date, ...]
    values: tuple[float, ...]
    better: Direction
    type: MeasureTypeName = "continuous"
    numerators: tuple[float | None, ...] = ()
    denominators: tuple[float | None, ...] = ()
    baseline: tuple[dt.date, dt.date] | None = None
    phase_starts: tuple[dt.date, ...] = ()


@dataclass(frozen=True, slots=True)
class AnalysisRules:
    """Which rules to apply and their thresholds."""

    run: RunChartRules = field(default_factory=RunChartRules)
    shewhart: ShewhartRules = field(default_factory=ShewhartRules)
    use_shewhart: bool = True


@dataclass(frozen=True, slots=True)
class MeasureAnalysis:
    """The result of :func:`analyse_series`."""

    verdict: Verdict
    signals: tuple[Signal, ...]
    run_chart: RunChart | None
    control_chart: ControlChart | None
    reason: str = ""


def chart_kind(series: Series) -> ChartKind:
    """Return the control chart a series calls for (see the module docstring).

    Example:
        >>> s = Series((dt.date(2025, 1, 1),), (50.0,), "up", "proportion", (5.0,), (10.0,))
        >>> chart_kind(s)
        'p'
    """
    complete = bool(series.denominators) and all(
        n is not None and d is not None and d > 0
        for n, d in zip(series.numerators, series.denominators, strict=True)
    )
    if series.type == "proportion" and complete:
        return "p"
    if series.type == "rate" and complete:
        return "u"
    return "xmr"


def _baseline_window(series: Series) -> tuple[int, int] | None:
    if series.baseline is None:
        return None
    start, end = series.baseline
    inside = [i for i, p in enumerate(series.periods) if start <= p <= end]
    return (inside[0], inside[-1]) if inside else (0, -1)


def _phase_indices(series: Series) -> list[int]:
    starts = []
    for when in series.phase_starts:
        index = next((i for i, p in enumerate(series.periods) if p >= when), None)
        if index is not None and index > 0:
            starts.append(index)
    return starts


def _control(series: Series, rules: AnalysisRules, window: tuple[int, int] | None) -> ControlChart:
    kind = chart_kind(series)
    shewhart = rules.shewhart
    if window is not None and window[0] == 0 and shewhart.baseline_points is not None:
        shewhart = ShewhartRules(
            baseline_points=window[1] + 1,
            side_points=shewhart.side_points,
            trend_points=shewhart.trend_points,
            screen_moving_ranges=shewhart.screen_moving_ranges,
        )
    numerators = [float(n or 0.0) for n in series.numerators] if kind != "xmr" else None
    denominators = [float(d or 0.0) for d in series.denominators] if kind != "xmr" else None
    return control_chart(
        kind,
        series.values,
        numerators=numerators,
        denominators=denominators,
        phases=_phase_indices(series),
        rules=shewhart,
    )


def analyse_series(series: Series, rules: AnalysisRules | None = None) -> MeasureAnalysis:
    """Find every signal in ``series`` and the verdict they give in its better direction.

    Example:
        >>> days = tuple(dt.date(2024, m, 1) for m in range(1, 13)) + tuple(
        ...     dt.date(2025, m, 1) for m in range(1, 9))
        >>> values = (5, 6, 5, 4, 6, 5, 4, 6, 5, 6, 4, 5) + (8, 9, 8, 9, 8, 9, 8, 9)
        >>> result = analyse_series(Series(days, tuple(map(float, values)), better="up"))
        >>> result.verdict.value, sorted({s.rule for s in result.signals})[:2]
        ('improvement', ['beyond_limits', 'shift'])
    """
    rules = rules or AnalysisRules()
    if len(series.values) != len(series.periods):
        raise ValueError("a series needs one period per value")
    window = _baseline_window(series)
    runs = run_chart(series.values, rules.run, window)
    if runs is None:
        need = rules.run.min_points
        reason = f"{len(series.values)} points; at least {need} (and a baseline of {need}) needed"
        return MeasureAnalysis(Verdict.NOT_ENOUGH_DATA, (), None, None, reason)
    control = _control(series, rules, window) if rules.use_shewhart else None
    signals = list(runs.signals) + (list(control.signals) if control else [])
    signals.sort(key=lambda s: (s.points[0] if s.points else -1, s.rule))
    first, last = runs.baseline
    counted = [s for s in signals if _outside(s, first, last, len(series.values))]
    reason = ""
    if len(counted) < len(signals):
        reason = (
            "signals inside the baseline show an unstable baseline; they do not set the verdict"
        )
    return MeasureAnalysis(verdict(counted, series.better), tuple(signals), runs, control, reason)


def _outside(signal: Signal, first: int, last: int, n: int) -> bool:
    """Whether a signal involves a point outside the baseline (or the baseline is everything)."""
    if first == 0 and last >= n - 1:
        return True
    return any(i < first or i > last for i in signal.points)
