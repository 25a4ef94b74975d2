"""Run-chart rules: the median of a baseline and the signals of Perla, Provost & Murray or Anhøj.

Perla, Provost & Murray (2011), "The run chart: a simple analytical tool for learning from
variation in healthcare processes", BMJ Qual Saf 20:46-51:

* **shift**: ``shift_points`` (6) or more consecutive points on one side of the median; points
  on the median neither break nor add to a run.
* **trend**: ``trend_points`` (5) or more consecutive points all going up or all going down;
  a point equal to the one before it is skipped (equal neighbours count once).
* **runs**: too few or too many runs for the number of useful observations (points not on the
  median). The limits are computed exactly from the distribution of the number of runs
  (Swed & Eisenhart 1943) with ``n // 2`` points on one side, ``n - n // 2`` on the other and
  2.5 % in each tail — the construction behind the paper's Table 1.
* **astronomical**: a point further than ``astronomical_sigma`` (4) sigma from the baseline
  median, sigma estimated from the baseline's average moving range / 1.128. This is a
  conservative stand-in for the paper's "obviously different value" judgement: a third wider
  than Shewhart's 3-sigma limits, so it fires only on blatant outliers.

Anhøj's rules (Anhøj 2014, 2015; the qicharts2 defaults) are an alternative: an unusually long
run (longest run > ``round(log2(n) + 3)``) or unusually few crossings of the centre line
(fewer than the 5th percentile of Binomial(n - 1, 0.5)).
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from synth.core.signals import Signal, longest_runs

__all__ = [
    "RunChart",
    "RunChartRules",
    "anhoej_limits",
    "astronomical_points",
    "baseline_indices",
    "find_shifts",
    "find_trends",
    "run_chart",
    "runs_limits",
    "sides",
]

#: Bias-correction constant d2 for moving ranges of two points.
D2 = 1.128


@dataclass(frozen=True, slots=True)
class RunChartRules:
    """Thresholds of the run-chart rules (defaults: Perla, Provost & Murray 2011)."""

    method: Literal["perla", "anhoej"] = "perla"
    baseline_points: int = 12
    min_points: int = 10
    shift_points: int = 6
    trend_points: int = 5
    astronomical_sigma: float = 4.0


@dataclass(frozen=True, slots=True)
class RunChart:
    """The centre line of a run chart and the signals found on it."""

    median: float
    baseline: tuple[int, int]
    useful_observations: int
    runs: int
    runs_limits: tuple[int, int] | None
    signals: tuple[Signal, ...]


def baseline_indices(n: int, rules: RunChartRules, window: tuple[int, int] | None = None) -> range:
    """Return the indices of the baseline: ``window`` (inclusive) or the first points.

    Example:
        >>> baseline_indices(30, RunChartRules())
        range(0, 12)
    """
    if window is not None:
        return range(window[0], window[1] + 1)
    return range(min(n, rules.baseline_points))


def sides(values: Sequence[float], centre: float) -> list[int]:
    """Return +1 / -1 / 0 for each value above / below / on ``centre``."""
    return [(v > centre) - (v < centre) for v in values]


def _run_signal(rule: str, chart: str, side_of: Sequence[int], span: tuple[int, int]) -> Signal:
    start, end = span
    points = tuple(i for i in range(start, end + 1) if side_of[i] != 0)
    direction: Literal["up", "down"] = "up" if side_of[start] > 0 else "down"
    where = "above" if direction == "up" else "below"
    return Signal(rule, chart, direction, points, f"{len(points)} points {where} the centre line")


def find_shifts(
    values: Sequence[float],
    centre: float,
    min_points: int,
    *,
    rule: str = "shift",
    chart: str = "run",
) -> list[Signal]:
    """Find runs of ``min_points`` or more consecutive points on one side of ``centre``.

    Example:
        >>> [s.points for s in find_shifts([1, 5, 5, 3, 5, 5, 5, 5], 3, 6)]
        [(1, 2, 4, 5, 6, 7)]
    """
    side_of = sides(values, centre)
    return [_run_signal(rule, chart, side_of, span) for span in longest_runs(side_of, min_points)]


def find_trends(
    values: Sequence[float], min_points: int, *, rule: str = "trend", chart: str = "run"
) -> list[Signal]:
    """Find ``min_points`` or more consecutive points all rising or all falling.

    A point equal to the one before it neither counts nor breaks the trend.

    Example:
        >>> [s.points for s in find_trends([5, 1, 2, 2, 3, 4, 5, 4], 5)]
        [(1, 2, 4, 5, 6)]
    """
    kept = [i for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
    steps = [(values[kept[k]] > values[kept[k - 1]]) * 2 - 1 for k in range(1, len(kept))]
    found: list[Signal] = []
    start = 0  # index into steps where the current monotone stretch begins
    for k in range(1, len(steps) + 1):
        if k == len(steps) or steps[k] != steps[start]:
            if k - start + 1 >= min_points:
                points = tuple(kept[start : k + 1])
                direction: Literal["up", "down"] = "up" if steps[start] > 0 else "down"
                way = "rising" if direction == "up" else "falling"
                found.append(Signal(rule, chart, direction, points, f"{len(points)} points {way}"))
            start = k
    return found


def _runs_distribution(above: int, below: int) -> list[float]:
    """P(R = r) for r = 0..above+below, the number of runs of a random arrangement."""
    total = math.comb(above + below, above)
    probabilities = [0.0] * (above + below + 1)
    for r in range(2, above + below + 1):
        k = r // 2
        if r % 2 == 0:
            ways = 2 * math.comb(above - 1, k - 1) * math.comb(below - 1, k - 1)
        else:
            ways = math.comb(above - 1, k) * math.comb(below - 1, k - 1) + math.comb(
                above - 1, k - 1
            ) * math.comb(below - 1, k)
        probabilities[r] = ways / total
    return probabilities


@functools.lru_cache(maxsize=512)
def runs_limits(n: int, alpha: float = 0.05) -> tuple[int, int]:
    """Return ``(lower, upper)``: fewer than ``lower`` or more than ``upper`` runs is a signal.

    Computed exactly for ``n`` useful observations split ``n // 2`` / ``n - n // 2``:
    ``lower`` is the largest count with P(R < lower) <= alpha / 2 and ``upper`` the smallest
    with P(R > upper) <= alpha / 2.

    Example:
        >>> runs_limits(20)
        (7, 15)
    """
    if n < 2:
        return (0, n)
    p = _runs_distribution(n // 2, n - n // 2)
    tail = alpha / 2
    cumulative, lower = 0.0, 0
    for r, pr in enumerate(p):
        if cumulative + pr > tail:
            lower = r
            break
        cumulative += pr
    cumulative, upper = 0.0, len(p) - 1
    for r in range(len(p) - 1, -1, -1):
        if cumulative + p[r] > tail:
            upper = r
            break
        cumulative += p[r]
    return (lower, upper)


@functools.lru_cache(maxsize=512)
def anhoej_limits(n: int) -> tuple[int, int]:
    """Return ``(longest run limit, fewest crossings)`` for ``n`` useful observations.

    A longest run *above* the first, or crossings *below* the second, is a signal.

    Example:
        >>> anhoej_limits(24)
        (8, 8)
    """
    longest = round(math.log2(n) + 3) if n > 0 else 0
    trials, cumulative, crossings = max(n - 1, 0), 0.0, 0
    for c in range(trials + 1):  # qbinom(0.05, n - 1, 0.5): smallest c with P(C <= c) >= 0.05
        cumulative += math.comb(trials, c) / 2**trials
        if cumulative >= 0.05:
            crossings = c
            break
    return (longest, crossings)


def astronomical_points(
    values: Sequence[float], baseline: Sequence[float], centre: float, sigmas: float
) -> list[Signal]:
    """Return one signal per point further than ``sigmas`` baseline sigma from ``centre``."""
    ranges = [abs(b - a) for a, b in itertools.pairwise(baseline)]
    if not ranges:
        return []
    sigma = statistics.fmean(ranges) / D2
    if sigma == 0:
        return []
    reach = sigmas * sigma
    return [
        Signal(
            "astronomical",
            "run",
            "up" if v > centre else "down",
            (i,),
            f"more than {sigmas:g} sigma from the baseline median",
        )
        for i, v in enumerate(values)
        if abs(v - centre) > reach
    ]


def _runs_signal(side_of: Sequence[int]) -> tuple[int, int, tuple[int, int], Signal | None]:
    useful = [i for i, s in enumerate(side_of) if s != 0]
    runs = sum(1 for k, i in enumerate(useful) if k == 0 or side_of[i] != side_of[useful[k - 1]])
    n = len(useful)
    lower, upper = runs_limits(n)
    signal = None
    if n >= 10 and (runs < lower or runs > upper):
        kind = "few" if runs < lower else "many"
        detail = f"too {kind} runs: {runs} (expected {lower} to {upper} for {n} points)"
        signal = Signal("runs", "run", None, tuple(useful), detail)
    return n, runs, (lower, upper), signal


def _anhoej_signals(side_of: Sequence[int]) -> list[Signal]:
    useful = [i for i, s in enumerate(side_of) if s != 0]
    longest_max, crossings_min = anhoej_limits(len(useful))
    found = [
        _run_signal("longest_run", "run", side_of, span)
        for span in longest_runs(side_of, longest_max + 1)
    ]
    crossings = sum(1 for a, b in itertools.pairwise(useful) if side_of[a] != side_of[b])
    if useful and crossings < crossings_min:
        detail = f"{crossings} crossings (fewer than {crossings_min})"
        found.append(Signal("crossings", "run", None, tuple(useful), detail))
    return found


def run_chart(
    values: Sequence[float], rules: RunChartRules, window: tuple[int, int] | None = None
) -> RunChart | None:
    """Analyse ``values`` as a run chart; ``None`` when there are too few points.

    Args:
        values: The series in time order.
        rules: Which rules and thresholds to use.
        window: Inclusive indices of the baseline; the first ``rules.baseline_points`` if None.

    Returns:
        The median of the baseline, the run counts and every signal, or ``None`` when the
        series (or the baseline) has fewer than ``rules.min_points`` points.
    """
    base = baseline_indices(len(values), rules, window)
    if len(values) < rules.min_points or len(base) < rules.min_points:
        return None
    baseline = [values[i] for i in base]
    median = statistics.median(baseline)
    side_of = sides(values, median)
    n, runs, limits, runs_signal = _runs_signal(side_of)
    if rules.method == "anhoej":
        signals = _anhoej_signals(side_of)
    else:
        signals = find_shifts(values, median, rules.shift_points)
        signals += find_trends(values, rules.trend_points)
        signals += [runs_signal] if runs_signal else []
    signals += astronomical_points(values, baseline, median, rules.astronomical_sigma)
    return RunChart(
        median=median,
        baseline=(base.start, base.stop - 1),
        useful_observations=n,
        runs=runs,
        runs_limits=limits if rules.method == "perla" else None,
        signals=tuple(signals),
    )
