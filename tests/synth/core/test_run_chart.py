"""Run-chart rules against hand-worked series, the published limit tables and brute force."""

from __future__ import annotations

import itertools
import math

import pytest

from synth.core.run_chart import (
    RunChartRules,
    anhoej_limits,
    astronomical_points,
    find_shifts,
    find_trends,
    run_chart,
    runs_limits,
)

# --- shift -------------------------------------------------------------------------------------


def test_six_points_above_the_median_is_a_shift() -> None:
    values = [5, 4, 4, 5, 4, 4, 9, 9, 9, 9, 9, 9]
    (shift,) = find_shifts(values, 5.0, 6)
    assert shift.rule == "shift" and shift.direction == "up"
    assert shift.points == (6, 7, 8, 9, 10, 11)


def test_five_points_on_one_side_is_not_a_shift() -> None:
    assert find_shifts([5, 4, 4, 5, 9, 9, 9, 9, 9, 4], 5.0, 6) == []


def test_points_on_the_median_neither_break_nor_add_to_a_shift() -> None:
    # 3 below, one on the median, 3 below: a run of 6 below (the median point is not counted).
    values = [1, 1, 1, 5, 1, 1, 1, 9]
    (shift,) = find_shifts(values, 5.0, 6)
    assert shift.direction == "down"
    assert shift.points == (0, 1, 2, 4, 5, 6)
    # 3 below, two on the median, 2 below: only 5 useful points, no shift.
    assert find_shifts([1, 1, 1, 5, 5, 1, 1, 9], 5.0, 6) == []


def test_a_crossing_breaks_the_run() -> None:
    assert find_shifts([1, 1, 1, 9, 1, 1, 1], 5.0, 6) == []


# --- trend -------------------------------------------------------------------------------------


def test_five_rising_points_are_a_trend() -> None:
    (trend,) = find_trends([3, 1, 2, 3, 4, 5, 2], 5)
    assert trend.direction == "up" and trend.points == (1, 2, 3, 4, 5)


def test_four_rising_points_are_not_a_trend() -> None:
    assert find_trends([3, 1, 2, 3, 4, 1], 5) == []


def test_equal_neighbours_count_once_in_a_trend() -> None:
    # 9, 8, 8, 7, 6: the repeated 8 counts once -> only 4 falling points.
    assert find_trends([9, 8, 8, 7, 6], 5) == []
    # 9, 8, 8, 7, 6, 5: five distinct falling values -> a trend; the tie is skipped.
    (trend,) = find_trends([9, 8, 8, 7, 6, 5], 5)
    assert trend.direction == "down"
    assert trend.points == (0, 1, 3, 4, 5)


def test_a_flat_series_has_no_trend_and_no_shift() -> None:
    flat = [4.0] * 20
    assert find_trends(flat, 5) == []
    assert run_chart(flat, RunChartRules()) is not None
    chart = run_chart(flat, RunChartRules())
    assert chart is not None and chart.signals == () and chart.useful_observations == 0


# --- runs --------------------------------------------------------------------------------------

#: Rows of Table 1 of Perla, Provost & Murray (2011), "The run chart: a simple analytical tool
#: for learning from variation in healthcare processes", BMJ Qual Saf 20:46-51 (after Swed &
#: Eisenhart 1943): useful observations -> (fewest runs that are not "too few", most runs that
#: are not "too many"). The paper could not be re-read offline; these rows are the ones we are
#: sure of, and the brute-force enumeration below checks the construction independently.
PERLA_TABLE = {
    10: (3, 9),
    13: (4, 11),
    14: (4, 12),
    15: (5, 12),
    16: (5, 13),
    18: (6, 14),
    19: (6, 15),
    21: (7, 16),
    24: (8, 18),
    26: (9, 19),
    27: (10, 19),
    28: (10, 20),
    30: (11, 21),
    40: (15, 27),
    45: (17, 30),
    50: (19, 33),
    60: (24, 38),
}


@pytest.mark.parametrize(("n", "limits"), sorted(PERLA_TABLE.items()))
def test_runs_limits_match_the_published_table(n: int, limits: tuple[int, int]) -> None:
    assert runs_limits(n) == limits


@pytest.mark.parametrize("n", range(10, 17))
def test_runs_limits_agree_with_brute_force_enumeration(n: int) -> None:
    """Count runs over every arrangement of n // 2 points above and the rest below."""
    counts: dict[int, int] = {}
    for above in itertools.combinations(range(n), n // 2):
        sides = [1 if i in above else -1 for i in range(n)]
        runs = 1 + sum(a != b for a, b in itertools.pairwise(sides))
        counts[runs] = counts.get(runs, 0) + 1
    total = math.comb(n, n // 2)
    lower, upper = runs_limits(n)
    below_lower = sum(c for r, c in counts.items() if r < lower) / total
    below_next = sum(c for r, c in counts.items() if r < lower + 1) / total
    above_upper = sum(c for r, c in counts.items() if r > upper) / total
    above_prev = sum(c for r, c in counts.items() if r > upper - 1) / total
    assert below_lower <= 0.025 < below_next
    assert above_upper <= 0.025 < above_prev


def test_too_few_runs_is_a_signal_without_a_direction() -> None:
    # 10 below then 10 above the median: 2 runs among 20 useful points (limits 7..15).
    values = [1.0] * 6 + [2.0] * 4 + [8.0] * 2 + [9.0] * 8
    chart = run_chart(values, RunChartRules(baseline_points=20))
    assert chart is not None and chart.runs == 2
    runs = [s for s in chart.signals if s.rule == "runs"]
    assert len(runs) == 1 and runs[0].direction is None and "too few" in runs[0].detail


def test_too_many_runs_is_a_signal() -> None:
    values = [1.0, 9.0] * 10  # 20 alternating points: 20 runs (> 15)
    chart = run_chart(values, RunChartRules(baseline_points=20))
    assert chart is not None and chart.runs == 20
    assert [s.detail.split(":")[0] for s in chart.signals if s.rule == "runs"] == ["too many runs"]


# --- astronomical ------------------------------------------------------------------------------


def test_astronomical_point_needs_more_than_four_sigma() -> None:
    baseline = [10.0, 11.0] * 6  # moving range 1 -> sigma 1 / 1.128
    centre = 10.5
    sigma = 1 / 1.128
    assert astronomical_points([centre + 3.9 * sigma], baseline, centre, 4.0) == []
    (point,) = astronomical_points([10.0, centre - 4.1 * sigma], baseline, centre, 4.0)
    assert point.direction == "down" and point.points == (1,)


def test_astronomical_rule_is_quiet_when_the_baseline_does_not_vary() -> None:
    assert astronomical_points([100.0], [5.0] * 12, 5.0, 4.0) == []


# --- whole chart, short series, Anhøj ---------------------------------------------------------


def test_short_series_are_not_analysed() -> None:
    assert run_chart([1.0] * 9, RunChartRules()) is None
    assert run_chart([1.0] * 10, RunChartRules()) is not None


def test_baseline_median_is_of_the_first_twelve_points_by_default() -> None:
    values = [float(v) for v in range(1, 13)] + [100.0] * 6
    chart = run_chart(values, RunChartRules())
    assert chart is not None and chart.median == 6.5 and chart.baseline == (0, 11)


def test_configurable_baseline_window() -> None:
    values = [float(v) for v in range(20)]
    chart = run_chart(values, RunChartRules(), window=(5, 14))
    assert chart is not None and chart.median == 9.5 and chart.baseline == (5, 14)
    assert run_chart(values, RunChartRules(), window=(5, 9)) is None  # 5 baseline points


@pytest.mark.parametrize("n", range(10, 101))
def test_anhoej_limits_match_the_qicharts2_definition(n: int) -> None:
    """Anhøj's critical values, tabulated in the qicharts2 vignette (Appendix 2, "Critical
    values for longest runs and number of crossings") as ``round(log2(n) + 3)`` and
    ``qbinom(0.05, n - 1, 0.5)``; scipy's binomial quantile stands in for R's ``qbinom``."""
    from scipy.stats import binom

    assert anhoej_limits(n) == (round(math.log2(n) + 3), int(binom.ppf(0.05, n - 1, 0.5)))


def test_anhoej_worked_example_from_the_qicharts2_vignette() -> None:
    # "in a run chart with 24 data points a run of more than 8 ... fewer than 8 crossings"
    assert anhoej_limits(24) == (8, 8)


def test_anhoej_rules_find_a_long_run_and_few_crossings() -> None:
    values = [5.0, 4.0, 6.0, 5.5, 4.5, 5.2, 4.8, 5.1, 4.9, 5.3, 4.7, 5.05] + [8.0] * 12
    chart = run_chart(values, RunChartRules(method="anhoej"))
    assert chart is not None
    rules = {s.rule for s in chart.signals}
    assert "longest_run" in rules and "shift" not in rules
    assert chart.runs_limits is None
    blocks = ([1.0, 2.0] * 3 + [8.0, 9.0] * 3) * 2  # 24 points, 3 crossings, longest run 6
    chart = run_chart(blocks, RunChartRules(method="anhoej", baseline_points=24))
    assert chart is not None
    assert [s.rule for s in chart.signals] == ["crossings"]
