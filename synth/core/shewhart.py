"""Shewhart control charts (XmR, p, u) with limits per phase, and the rules that read them.

* **XmR** (I chart): centre = mean of the baseline, sigma = average moving range / 1.128;
  moving ranges above 3.267 × the average moving range are left out before the average is
  taken (Provost & Murray's screening of outlying ranges), so one wild point does not inflate
  the limits. The limits are centre ± 3 sigma (``2.66`` × average moving range).
* **p chart**: centre = Σ numerators / Σ denominators of the baseline, sigma per point =
  sqrt(p̄(1 - p̄) / n_i), limits clipped to [0, 1].
* **u chart**: centre = Σ numerators / Σ denominators of the baseline, sigma per point =
  sqrt(ū / n_i), lower limit clipped at 0.

Limits are computed from the first ``baseline_points`` of each phase (all of a phase's points
when ``None``) and held for the rest of it; a new phase starts at each index in ``phases``
(an annotated change). Rules: a point beyond the 3-sigma limits (``beyond_limits``);
``side_points`` (8; 7 in the NHS "Making Data Count" style) or more in a row on one side of
the centre (``spc_shift``); ``trend_points`` (6) rising or falling (``spc_trend``); two of
three consecutive points beyond 2 sigma on the same side (``two_of_three``).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from synth.core.run_chart import find_shifts, find_trends
from synth.core.signals import Signal

__all__ = ["ChartKind", "ControlChart", "ShewhartRules", "control_chart", "phase_bounds"]

ChartKind = Literal["xmr", "p", "u"]
D2 = 1.128
MR_SCREEN = 3.267


@dataclass(frozen=True, slots=True)
class ShewhartRules:
    """Rule thresholds of the Shewhart charts."""

    baseline_points: int | None = 12
    side_points: int = 8
    trend_points: int = 6
    screen_moving_ranges: bool = True


@dataclass(frozen=True, slots=True)
class ControlChart:
    """Centre line, sigma and limits per point (they vary with the denominator and by phase)."""

    kind: ChartKind
    values: tuple[float, ...]
    centre: tuple[float, ...]
    sigma: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    phases: tuple[tuple[int, int], ...]
    signals: tuple[Signal, ...]


def phase_bounds(n: int, starts: Sequence[int]) -> list[tuple[int, int]]:
    """Split ``range(n)`` at ``starts`` into inclusive ``(first, last)`` pairs.

    Example:
        >>> phase_bounds(10, [4])
        [(0, 3), (4, 9)]
    """
    cuts = sorted({s for s in starts if 0 < s < n})
    edges = [0, *cuts, n]
    return [(a, b - 1) for a, b in itertools.pairwise(edges)]


def _xmr_phase(values: Sequence[float], screen: bool) -> tuple[float, float]:
    centre = statistics.fmean(values)
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    if not ranges:
        return centre, 0.0
    mean_range = statistics.fmean(ranges)
    if screen:
        kept = [r for r in ranges if r <= MR_SCREEN * mean_range]
        mean_range = statistics.fmean(kept) if kept else mean_range
    return centre, mean_range / D2


def _ratio_phase(
    kind: ChartKind, numerators: Sequence[float], denominators: Sequence[float]
) -> float:
    total = math.fsum(denominators)
    if total <= 0:
        raise ValueError(f"{kind} chart: the denominators of a phase sum to zero")
    return math.fsum(numerators) / total


def _ratio_sigma(kind: ChartKind, centre: float, denominator: float) -> float:
    if denominator <= 0:
        return math.nan
    spread = centre * (1 - centre) if kind == "p" else centre
    return math.sqrt(max(spread, 0.0) / denominator)


def _limits(
    kind: ChartKind,
    values: Sequence[float],
    denominators: Sequence[float] | None,
    numerators: Sequence[float] | None,
    bounds: list[tuple[int, int]],
    rules: ShewhartRules,
) -> tuple[list[float], list[float]]:
    centre: list[float] = []
    sigma: list[float] = []
    for first, last in bounds:
        stop = (
            last + 1
            if rules.baseline_points is None
            else min(last + 1, first + rules.baseline_points)
        )
        if kind == "xmr":
            c, s = _xmr_phase(values[first:stop], rules.screen_moving_ranges)
            centre += [c] * (last - first + 1)
            sigma += [s] * (last - first + 1)
            continue
        assert numerators is not None and denominators is not None
        c = _ratio_phase(kind, numerators[first:stop], denominators[first:stop])
        centre += [c] * (last - first + 1)
        sigma += [_ratio_sigma(kind, c, denominators[i]) for i in range(first, last + 1)]
    return centre, sigma


def _beyond(
    values: Sequence[float], centre: Sequence[float], sigma: Sequence[float], k: float
) -> list[int]:
    """+1 / -1 where a value is beyond ``k`` sigma above / below its centre, else 0."""
    out = []
    for v, c, s in zip(values, centre, sigma, strict=True):
        if math.isnan(s) or s == 0:
            out.append(0)
            continue
        out.append(1 if v > c + k * s else -1 if v < c - k * s else 0)
    return out


def _two_of_three(flags: Sequence[int]) -> list[Signal]:
    found: list[Signal] = []
    taken: set[int] = set()
    for end in range(2, len(flags)):
        window = range(end - 2, end + 1)
        for side in (1, -1):
            hits = tuple(i for i in window if flags[i] == side)
            if len(hits) >= 2 and not taken.issuperset(hits):
                taken.update(hits)
                direction: Literal["up", "down"] = "up" if side > 0 else "down"
                detail = "2 of 3 points beyond 2 sigma"
                found.append(Signal("two_of_three", "", direction, hits, detail))
    return found


def _side_signals(
    values: Sequence[float],
    centre: Sequence[float],
    bounds: list[tuple[int, int]],
    rules: ShewhartRules,
) -> list[Signal]:
    found: list[Signal] = []
    for first, last in bounds:
        part = values[first : last + 1]
        for s in find_shifts(part, centre[first], rules.side_points, rule="spc_shift", chart=""):
            found.append(
                Signal(s.rule, "", s.direction, tuple(i + first for i in s.points), s.detail)
            )
    return found


def control_chart(
    kind: ChartKind,
    values: Sequence[float],
    *,
    numerators: Sequence[float] | None = None,
    denominators: Sequence[float] | None = None,
    phases: Sequence[int] = (),
    rules: ShewhartRules | None = None,
) -> ControlChart:
    """Compute a control chart and its signals.

    Args:
        kind: ``xmr``, ``p`` or ``u``.
        values: Plotted values; for p and u charts ``numerators[i] / denominators[i]`` on the
            scale the caller wants (the limits are computed on that scale).
        numerators: Events per point (p and u charts).
        denominators: Opportunities per point (p and u charts).
        phases: Indices where a new phase (and new limits) begins.
        rules: Rule thresholds; defaults when None.

    Returns:
        The chart with per-point centre, sigma and limits, and its signals.

    Raises:
        ValueError: A p or u chart without numerators and denominators of the right length.

    Example:
        >>> flow = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
        >>> chart = control_chart("xmr", flow, rules=ShewhartRules(baseline_points=None))
        >>> round(chart.centre[0], 2), round(chart.upper[0], 4)
        (50.81, 55.8041)
    """
    rules = rules or ShewhartRules()
    n = len(values)
    if kind != "xmr" and (
        numerators is None or denominators is None or len(numerators) != n or len(denominators) != n
    ):
        raise ValueError(f"a {kind} chart needs a numerator and a denominator for every point")
    bounds = phase_bounds(n, phases)
    scale = 1.0
    if kind != "xmr":
        assert numerators is not None and denominators is not None
        scale = _scale(values, numerators, denominators)
    centre, sigma = _limits(kind, values, denominators, numerators, bounds, rules)
    centre = [c * scale for c in centre]
    sigma = [s * scale for s in sigma]
    floor, ceiling = (
        (0.0, scale if kind == "p" else math.inf) if kind != "xmr" else (-math.inf, math.inf)
    )
    lower = [max(c - 3 * s, floor) for c, s in zip(centre, sigma, strict=True)]
    upper = [min(c + 3 * s, ceiling) for c, s in zip(centre, sigma, strict=True)]
    signals = _rules(kind, values, centre, sigma, bounds, rules)
    return ControlChart(
        kind,
        tuple(values),
        tuple(centre),
        tuple(sigma),
        tuple(lower),
        tuple(upper),
        tuple(bounds),
        tuple(signals),
    )


def _scale(
    values: Sequence[float], numerators: Sequence[float], denominators: Sequence[float]
) -> float:
    """The multiplier from numerator / denominator to the plotted values (1, 100, 1000 ...)."""
    ratios = [
        v * d / m
        for v, m, d in zip(values, numerators, denominators, strict=True)
        if m > 0 and d > 0
    ]
    if not ratios:
        return 1.0
    return (
        float(10 ** round(math.log10(statistics.median(ratios))))
        if statistics.median(ratios) > 0
        else 1.0
    )


def _rules(
    kind: ChartKind,
    values: Sequence[float],
    centre: Sequence[float],
    sigma: Sequence[float],
    bounds: list[tuple[int, int]],
    rules: ShewhartRules,
) -> list[Signal]:
    found: list[Signal] = []
    for i, side in enumerate(_beyond(values, centre, sigma, 3.0)):
        if side:
            direction: Literal["up", "down"] = "up" if side > 0 else "down"
            where = "above the upper" if side > 0 else "below the lower"
            found.append(Signal("beyond_limits", kind, direction, (i,), f"{where} 3-sigma limit"))
    found += _side_signals(values, centre, bounds, rules)
    for first, last in bounds:
        for s in find_trends(
            values[first : last + 1], rules.trend_points, rule="spc_trend", chart=""
        ):
            found.append(
                Signal(s.rule, "", s.direction, tuple(i + first for i in s.points), s.detail)
            )
    found += _two_of_three(_beyond(values, centre, sigma, 2.0))
    return [Signal(s.rule, kind, s.direction, s.points, s.detail) for s in found]
