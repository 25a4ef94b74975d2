"""Whole-series analysis: verdicts on the demo truth, short series, and symmetry properties."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.core.measure_analysis import AnalysisRules, Series, analyse_series, chart_kind
from synth.core.run_chart import RunChartRules
from synth.core.signals import Signal, Verdict, verdict

DEMO = Path(__file__).parents[3] / "corpus" / "demo"


def monthly(n: int) -> tuple[dt.date, ...]:
    return tuple(dt.date(2020 + (i // 12), i % 12 + 1, 1) for i in range(n))


def series(values: list[float], better: str = "up", **kw: object) -> Series:
    return Series(monthly(len(values)), tuple(values), better, **kw)  # type: ignore[arg-type]


def demo_series() -> dict[str, Series]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (DEMO / "measures.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["measure_id"]].append(row)

    def num(text: str) -> float | None:
        return float(text) if text else None

    return {
        key: Series(
            tuple(dt.date.fromisoformat(r["period"]) for r in rs),
            tuple(float(r["value"]) for r in rs),
            rs[0]["better"],  # type: ignore[arg-type]
            rs[0]["type"],  # type: ignore[arg-type]
            tuple(num(r["numerator"]) for r in rs),
            tuple(num(r["denominator"]) for r in rs),
        )
        for key, rs in rows.items()
    }


TRUTH = json.loads((DEMO / "measures_truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("measure_id", sorted(TRUTH))
def test_demo_measures_reproduce_the_truth_file(measure_id: str) -> None:
    result = analyse_series(demo_series()[measure_id])
    assert result.verdict.value == TRUTH[measure_id]["expected"], result.signals


def test_demo_series_use_the_chart_their_type_calls_for() -> None:
    kinds = {key: chart_kind(s) for key, s in demo_series().items()}
    assert kinds["harbourside-falls-huddle-m1"] == "u"  # rate with bed days
    assert kinds["harbourside-falls-huddle-m2"] == "p"  # proportion with denominators
    assert kinds["glenmorrow-bay-falls-m1"] == "xmr"  # days between events


def test_fewer_than_ten_points_is_not_enough_data() -> None:
    result = analyse_series(series([1.0, 9.0] * 4 + [1.0]))
    assert result.verdict is Verdict.NOT_ENOUGH_DATA and result.signals == ()
    assert analyse_series(series([5.0] * 10)).verdict is Verdict.NO_SIGNAL


BASELINE = [20.0, 22.0, 19.0, 21.0, 20.0, 23.0, 18.0, 21.0, 20.0, 22.0, 19.0, 21.0]


def test_a_shift_down_is_improvement_when_down_is_better() -> None:
    values = [*BASELINE, 16.0, 17.0, 15.0, 16.5, 17.0, 15.5, 16.0]
    assert analyse_series(series(values, "down")).verdict is Verdict.IMPROVEMENT
    assert analyse_series(series(values, "up")).verdict is Verdict.DETERIORATION


def test_signals_inside_the_baseline_do_not_set_the_verdict() -> None:
    values = [*BASELINE[:4], 60.0, *BASELINE[5:], 20.0, 22.0, 19.0, 21.0, 20.0, 23.0]
    result = analyse_series(series(values), AnalysisRules(use_shewhart=False))
    assert [s.rule for s in result.signals] == ["astronomical"]
    assert result.verdict is Verdict.NO_SIGNAL and "baseline" in result.reason


def test_a_baseline_period_moves_the_median() -> None:
    values = [40.0, 41.0, 39.0, *BASELINE, 20.0, 21.0, 19.0]
    periods = monthly(len(values))
    window = (periods[3], periods[14])
    result = analyse_series(Series(periods, tuple(values), "down", baseline=window))
    assert result.run_chart is not None and result.run_chart.baseline == (3, 14)
    assert result.run_chart.median == 20.5


def test_an_annotated_phase_rephases_the_limits() -> None:
    values = BASELINE + [x + 10 for x in BASELINE]
    periods = monthly(len(values))
    plain = analyse_series(Series(periods, tuple(values), "up"))
    phased = analyse_series(Series(periods, tuple(values), "up", phase_starts=(periods[12],)))
    assert plain.control_chart is not None and phased.control_chart is not None
    assert phased.control_chart.phases == ((0, 11), (12, 23))
    assert phased.control_chart.centre[12] == pytest.approx(plain.control_chart.centre[0] + 10)


def test_verdict_takes_the_most_recent_sided_signal() -> None:
    old_down = Signal("shift", "run", "down", (1, 2, 3, 4, 5, 6))
    new_up = Signal("trend", "run", "up", (10, 11, 12, 13, 14))
    runs = Signal("runs", "run", None, tuple(range(20)))
    assert verdict([old_down, new_up, runs], "up") is Verdict.IMPROVEMENT
    assert verdict([runs], "up") is Verdict.NO_SIGNAL
    tie = Signal("beyond_limits", "xmr", "down", (14,))
    assert verdict([new_up, tie], "up") is Verdict.NO_SIGNAL


def test_anhoej_rules_are_an_option() -> None:
    values = [*BASELINE, 26.0, 25.0, 27.0, 26.0, 25.5, 26.5, 25.0, 27.0, 26.0, 25.0]
    rules = AnalysisRules(run=RunChartRules(method="anhoej"), use_shewhart=False)
    result = analyse_series(series(values), rules)
    assert {s.rule for s in result.signals} & {"longest_run", "crossings"}
    assert result.verdict is Verdict.IMPROVEMENT


# --- properties --------------------------------------------------------------------------------

values_st = st.lists(st.integers(-50, 50).map(float), min_size=0, max_size=40)


def signature(result: object) -> list[tuple[str, str, str | None, tuple[int, ...]]]:
    return sorted(
        (s.rule, s.chart, s.direction, s.points)
        for s in result.signals  # type: ignore[attr-defined]
    )


@settings(max_examples=150, deadline=None)
@given(values_st, st.integers(-1000, 1000))
def test_rules_are_invariant_to_adding_a_constant(values: list[float], shift: int) -> None:
    before = analyse_series(series(values))
    after = analyse_series(series([v + shift for v in values]))
    assert before.verdict == after.verdict
    assert signature(before) == signature(after)


def flipped(sig: list[tuple[str, str, str | None, tuple[int, ...]]]) -> list[object]:
    swap = {"up": "down", "down": "up", None: None}
    return sorted((r, c, swap[d], p) for r, c, d, p in sig)


@settings(max_examples=150, deadline=None)
@given(values_st)
def test_mirrored_series_mirror_the_verdict(values: list[float]) -> None:
    up = analyse_series(series(values, "up"))
    mirrored = analyse_series(series([-v for v in values], "down"))
    assert up.verdict == mirrored.verdict
    assert flipped(signature(up)) == signature(mirrored)
