"""Shewhart charts against published worked examples, and each rule on hand-made series.

Published data sets (small numeric tables copied as fixtures, with their sources):

* NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.2 "Individuals control
  charts" (flow rate of 10 batches): x̄ = 50.81, MR̄ = 1.8778, UCL = 55.8041, LCL = 45.8159.
* Montgomery, *Introduction to Statistical Quality Control*, orange juice concentrate cans
  (Example 7.1 / Table 7.1; also the R qcc data set ``orangejuice``): 30 samples of 50 cans,
  p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524; samples 15 and 23 are above the UCL.
* Montgomery, printed circuit boards (Example 7.3 / Table 7.7; qcc ``circuit``): 26 samples,
  c̄ = 19.85, UCL = 33.22, LCL = 6.48; samples 6 and 20 are outside the limits. A c chart is a
  u chart with one inspection unit per sample.
* NIST/SEMATECH e-Handbook section 6.3.3.1 "Counts control charts" (wafer defects, 25 wafers):
  c̄ = 16, UCL = 28, LCL = 4.
"""

from __future__ import annotations

import math

import pytest

from synth.core.shewhart import ShewhartRules, control_chart, phase_bounds

ALL_POINTS = ShewhartRules(baseline_points=None)

NIST_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
ORANGE_JUICE = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]
CIRCUIT = [
    21,
    24,
    16,
    12,
    15,
    5,
    28,
    20,
    31,
    25,
    20,
    24,
    16,
    19,
    10,
    17,
    13,
    22,
    18,
    39,
    30,
    24,
    16,
    19,
    17,
    15,
]
NIST_WAFERS = [
    16,
    14,
    28,
    16,
    12,
    20,
    10,
    12,
    10,
    17,
    19,
    17,
    14,
    16,
    15,
    13,
    14,
    16,
    11,
    20,
    11,
    19,
    16,
    31,
    13,
]


def beyond(chart_signals: object) -> list[int]:
    return sorted(
        s.points[0] + 1  # 1-based sample numbers, as the books count them
        for s in chart_signals  # type: ignore[attr-defined]
        if s.rule == "beyond_limits"
    )


def test_nist_individuals_chart() -> None:
    chart = control_chart("xmr", NIST_FLOW, rules=ALL_POINTS)
    assert chart.centre[0] == pytest.approx(50.81)
    assert chart.sigma[0] * 1.128 == pytest.approx(1.8778, abs=5e-5)  # MR-bar
    assert chart.upper[0] == pytest.approx(55.8041, abs=5e-5)
    assert chart.lower[0] == pytest.approx(45.8159, abs=5e-5)
    assert beyond(chart.signals) == []


def test_montgomery_orange_juice_p_chart() -> None:
    n = [50.0] * len(ORANGE_JUICE)
    values = [d / 50 for d in ORANGE_JUICE]
    chart = control_chart(
        "p", values, numerators=[float(d) for d in ORANGE_JUICE], denominators=n, rules=ALL_POINTS
    )
    assert chart.centre[0] == pytest.approx(0.2313, abs=5e-5)
    assert chart.upper[0] == pytest.approx(0.4102, abs=5e-5)
    assert chart.lower[0] == pytest.approx(0.0524, abs=5e-5)
    assert beyond(chart.signals) == [15, 23]


def test_p_chart_on_a_percent_scale_scales_its_limits() -> None:
    n = [50.0] * len(ORANGE_JUICE)
    values = [100 * d / 50 for d in ORANGE_JUICE]
    chart = control_chart(
        "p", values, numerators=[float(d) for d in ORANGE_JUICE], denominators=n, rules=ALL_POINTS
    )
    assert chart.centre[0] == pytest.approx(23.13, abs=5e-3)
    assert chart.upper[0] == pytest.approx(41.02, abs=5e-3)
    assert beyond(chart.signals) == [15, 23]


def test_montgomery_circuit_boards_c_chart() -> None:
    ones = [1.0] * len(CIRCUIT)
    chart = control_chart(
        "u",
        [float(c) for c in CIRCUIT],
        numerators=[float(c) for c in CIRCUIT],
        denominators=ones,
        rules=ALL_POINTS,
    )
    assert chart.centre[0] == pytest.approx(19.85, abs=5e-3)
    # The book rounds c-bar to 19.85 first (33.22, 6.48); qcc prints 33.21086 and 6.481447.
    assert chart.upper[0] == pytest.approx(33.22, abs=1e-2)
    assert chart.lower[0] == pytest.approx(6.48, abs=1e-2)
    assert (chart.upper[0], chart.lower[0]) == pytest.approx((33.21086, 6.481447), abs=1e-5)
    assert beyond(chart.signals) == [6, 20]


def test_nist_wafer_defects_c_chart() -> None:
    ones = [1.0] * len(NIST_WAFERS)
    counts = [float(c) for c in NIST_WAFERS]
    chart = control_chart("u", counts, numerators=counts, denominators=ones, rules=ALL_POINTS)
    assert (chart.centre[0], chart.upper[0], chart.lower[0]) == pytest.approx((16, 28, 4))
    assert beyond(chart.signals) == [24]  # 31 > 28; wafer 3 (28) sits on the limit


def test_p_chart_limits_vary_with_the_denominator() -> None:
    numerators = [10.0, 40.0, 5.0, 20.0] * 3
    denominators = [100.0, 400.0, 50.0, 200.0] * 3
    values = [m / d for m, d in zip(numerators, denominators, strict=True)]
    chart = control_chart(
        "p", values, numerators=numerators, denominators=denominators, rules=ALL_POINTS
    )
    p = 0.1
    for d, lower, upper in zip(denominators, chart.lower, chart.upper, strict=True):
        half = 3 * math.sqrt(p * (1 - p) / d)
        assert upper == pytest.approx(p + half) and lower == pytest.approx(max(0.0, p - half))


def test_u_chart_limits_vary_with_the_denominator() -> None:
    numerators = [20.0, 60.0] * 6
    denominators = [1000.0, 3000.0] * 6
    values = [1000 * m / d for m, d in zip(numerators, denominators, strict=True)]
    chart = control_chart(
        "u", values, numerators=numerators, denominators=denominators, rules=ALL_POINTS
    )
    assert chart.centre[0] == pytest.approx(20.0)  # per 1,000
    assert chart.upper[0] == pytest.approx(1000 * (0.02 + 3 * math.sqrt(0.02 / 1000)))
    assert chart.upper[1] == pytest.approx(1000 * (0.02 + 3 * math.sqrt(0.02 / 3000)))


def test_a_ratio_chart_needs_denominators() -> None:
    with pytest.raises(ValueError, match="numerator and a denominator"):
        control_chart("p", [0.1, 0.2])


# --- rules -------------------------------------------------------------------------------------

BASE = [10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 10.0]  # mean 10


def rules_of(values: list[float], **kw: object) -> dict[str, list[tuple[int, ...]]]:
    chart = control_chart("xmr", values, rules=ShewhartRules(**kw))  # type: ignore[arg-type]
    out: dict[str, list[tuple[int, ...]]] = {}
    for s in chart.signals:
        out.setdefault(s.rule, []).append(s.points)
    return out


def test_eight_in_a_row_on_one_side_of_the_centre() -> None:
    seven = [*BASE, 10.4, 10.2, 10.3, 10.2, 10.4, 10.3, 10.2, 9.0]
    assert "spc_shift" not in rules_of(seven)
    eight = [*BASE, 10.4, 10.2, 10.3, 10.2, 10.4, 10.3, 10.2, 10.3]
    assert rules_of(eight)["spc_shift"] == [tuple(range(12, 20))]
    assert rules_of(seven, side_points=7)["spc_shift"] == [tuple(range(12, 19))]  # MDC style


def test_six_points_trending() -> None:
    five = [*BASE, 9.0, 9.2, 9.4, 9.6, 9.8, 9.0]
    assert "spc_trend" not in rules_of(five)
    six = [*BASE, 9.0, 9.2, 9.4, 9.6, 9.8, 10.1]
    assert rules_of(six)["spc_trend"] == [tuple(range(12, 18))]


def test_two_of_three_beyond_two_sigma_on_one_side() -> None:
    chart = control_chart("xmr", BASE, rules=ShewhartRules())
    two_sigma = chart.centre[0] + 2.2 * chart.sigma[0]
    values = [*BASE, two_sigma, 10.0, two_sigma]
    assert rules_of(values)["two_of_three"] == [(12, 14)]
    split = [*BASE, two_sigma, 10.0, chart.centre[0] - 2.2 * chart.sigma[0]]
    assert "two_of_three" not in rules_of(split)


def test_beyond_limits_uses_the_frozen_baseline() -> None:
    chart = control_chart("xmr", [*BASE, 20.0], rules=ShewhartRules())
    assert [s.points for s in chart.signals if s.rule == "beyond_limits"] == [(12,)]
    assert chart.centre[-1] == pytest.approx(10.0)


def test_an_outlying_moving_range_is_screened_out() -> None:
    spiky = [10.0, 11.0] * 5 + [30.0, 10.0]
    screened = control_chart("xmr", spiky, rules=ALL_POINTS)
    raw = control_chart(
        "xmr", spiky, rules=ShewhartRules(baseline_points=None, screen_moving_ranges=False)
    )
    assert screened.sigma[0] < raw.sigma[0]
    assert any(s.points == (10,) for s in screened.signals if s.rule == "beyond_limits")


def test_limits_are_recomputed_for_each_phase() -> None:
    values = [*BASE, 20.0, 21.0, 19.0, 20.5, 19.5, 20.0, 21.0, 19.0, 20.5, 19.5]
    one = control_chart("xmr", values, rules=ShewhartRules())
    two = control_chart("xmr", values, phases=[12], rules=ShewhartRules())
    assert any(s.rule == "beyond_limits" for s in one.signals)
    assert not any(s.rule == "beyond_limits" for s in two.signals)
    assert two.centre[12] == pytest.approx(20.0) and two.phases == ((0, 11), (12, 21))


def test_phase_bounds_ignores_out_of_range_starts() -> None:
    assert phase_bounds(5, [0, 2, 2, 9]) == [(0, 1), (2, 4)]
