"""Run and control charts as PNG or SVG (matplotlib's Agg and SVG canvases; no pyplot).

One chart shows the points and line, the baseline median, the control chart's centre and
(varying) 3-sigma limits, the baseline shaded, annotations as numbered markers listed under
the plot, and each signal's points highlighted with the rule named in the legend. Colours
come from the Okabe–Ito palette (safe for colour-blind readers) and every signal also has its
own marker shape, so nothing relies on colour alone.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from synth.core.measure_analysis import MeasureAnalysis, Series
from synth.core.signals import effect_of

__all__ = ["ChartPanel", "chart_image", "small_multiples"]

ImageFormat = Literal["png", "svg"]
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#595959",
)
EFFECT_COLOURS = {"improvement": GREEN, "deterioration": VERMILLION, "no signal": PURPLE}
MARKERS = {
    "shift": "s",
    "trend": "^",
    "runs": "D",
    "astronomical": "*",
    "longest_run": "s",
    "crossings": "D",
    "beyond_limits": "X",
    "spc_shift": "P",
    "spc_trend": "v",
    "two_of_three": "h",
}


def _x(day: dt.date) -> float:
    """Matplotlib's float date for ``day``."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class ChartPanel:
    """One measure to draw: its series, analysis, title, unit and annotations."""

    series: Series
    analysis: MeasureAnalysis
    title: str
    unit: str = ""
    annotations: tuple[tuple[dt.date, str], ...] = ()


def _draw_limits(ax: Axes, panel: ChartPanel) -> None:
    control = panel.analysis.control_chart
    periods = [_x(p) for p in panel.series.periods]
    if control is not None:
        ax.plot(periods, control.centre, color=GREY, linewidth=1.2, label="centre (mean)")
        for limit, label in ((control.upper, "3-sigma limits"), (control.lower, None)):
            ax.plot(
                periods,
                limit,
                color=GREY,
                linewidth=1,
                linestyle=":",
                drawstyle="steps-mid",
                label=label,
            )
    runs = panel.analysis.run_chart
    if runs is not None:
        ax.axhline(
            runs.median, color=ORANGE, linestyle="--", linewidth=1.2, label="baseline median"
        )
        first, last = runs.baseline
        ax.axvspan(periods[first], periods[last], color=ORANGE, alpha=0.1, label="baseline")


def _draw_signals(ax: Axes, panel: ChartPanel) -> None:
    seen: set[tuple[str, str]] = set()
    for signal in panel.analysis.signals:
        effect = effect_of(signal.direction, panel.series.better).value
        label = f"{signal.rule.replace('_', ' ')} ({effect})"
        key = (signal.rule, effect)
        ax.scatter(
            [_x(panel.series.periods[i]) for i in signal.points],
            [panel.series.values[i] for i in signal.points],
            marker=MARKERS.get(signal.rule, "o"),
            s=70,
            facecolors="none" if signal.direction is None else EFFECT_COLOURS[effect],
            edgecolors=EFFECT_COLOURS[effect],
            linewidths=1.2,
            zorder=4,
            label=None if key in seen else label,
        )
        seen.add(key)


def _draw_annotations(ax: Axes, panel: ChartPanel) -> list[str]:
    notes = []
    low = min(panel.series.values) if panel.series.values else 0.0
    for number, (when, text) in enumerate(panel.annotations, start=1):
        ax.axvline(_x(when), color=BLUE, linewidth=0.8, alpha=0.5)
        ax.annotate(
            str(number),
            (_x(when), low),
            xytext=(0, -4),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color="white",
            bbox={"boxstyle": "circle,pad=0.2", "facecolor": BLUE, "edgecolor": BLUE},
            zorder=5,
        )
        notes.append(f"{number}. {when.isoformat()}: {textwrap.shorten(text, 90)}")
    return notes


def _draw(ax: Axes, panel: ChartPanel, *, legend: bool) -> list[str]:
    series = panel.series
    ax.plot(
        [_x(p) for p in series.periods],
        series.values,
        color=BLUE,
        marker="o",
        markersize=4,
        linewidth=1.4,
        label=panel.unit or "value",
        zorder=3,
    )
    if series.values:
        _draw_limits(ax, panel)
        _draw_signals(ax, panel)
    notes = _draw_annotations(ax, panel)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    verdict = panel.analysis.verdict.value
    better = "higher" if series.better == "up" else "lower"
    ax.set_title(f"{panel.title}\n{verdict} ({better} is better)", fontsize=10, loc="left")
    ax.set_ylabel(panel.unit)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return notes


def _render(figure: Figure, fmt: ImageFormat) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight", metadata=metadata)
    return buffer.getvalue()


def chart_image(panel: ChartPanel, fmt: ImageFormat = "png") -> bytes:
    """Draw one measure's run/control chart and return the image bytes."""
    figure = Figure(figsize=(9, 4.2))
    ax = figure.add_subplot()
    notes = _draw(ax, panel, legend=True)
    if notes:
        figure.text(0.01, -0.02, "\n".join(notes), fontsize=7, va="top", ha="left")
    return _render(figure, fmt)


def small_multiples(
    panels: Sequence[ChartPanel], fmt: ImageFormat = "png", columns: int = 2
) -> bytes:
    """Draw several measures (a project's, say) on one grid of small charts."""
    count = max(len(panels), 1)
    rows = (count + columns - 1) // columns
    figure = Figure(figsize=(5.2 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < len(panels):
            _draw(ax, panels[index], legend=index == 0)
        else:
            ax.set_axis_off()
    return _render(figure, fmt)
