"""Small SVG pictures drawn on the server: sparklines, stacked bars over time, the passage map.

Colours are attributes (not inline styles) so the pages keep a strict content security
policy; every picture has a text alternative, and the pages add a table of the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from synth.core.theme_metrics import quarter_index

__all__ = [
    "PALETTE",
    "MapPoint",
    "colour",
    "quarter_range",
    "scatter_map",
    "sparkline",
    "stacked_bars",
]

#: Colour-blind-safe categorical colours (Okabe–Ito, then darker companions).
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7A6A00", "#5B3A8E",
    "#1B7F79", "#A23B72", "#3F6E1E", "#8C510A",
)  # fmt: skip
_OUTLIER = "#9AA3AD"


def colour(index: int | None) -> str:
    """The colour of category ``index`` (grey for None: no theme)."""
    return _OUTLIER if index is None else PALETTE[index % len(PALETTE)]


def quarter_range(quarters: Sequence[str]) -> list[str]:
    """Every quarter from the first to the last of ``quarters`` (``YYYYQn``), gaps filled."""
    if not quarters:
        return []
    first, last = min(quarter_index(q) for q in quarters), max(quarter_index(q) for q in quarters)
    return [f"{i // 4}Q{i % 4 + 1}" for i in range(first, last + 1)]


def sparkline(counts: Mapping[str, int], *, width: int = 140, height: int = 32) -> Markup:
    """A line of entries per quarter, with its numbers as the text alternative."""
    quarters = quarter_range(list(counts))
    if not quarters:
        return Markup('<span class="muted">no dated entries</span>')
    values = [counts.get(q, 0) for q in quarters]
    top = max(values) or 1
    step = (width - 4) / max(len(values) - 1, 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 3 - (v / top) * (height - 6):.1f}"
        for i, v in enumerate(values)
    )
    label = "Passages per quarter: " + ", ".join(
        f"{q} {v}" for q, v in zip(quarters, values, strict=True)
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<polyline points="{points}" fill="none" stroke="#1f5f8b" stroke-width="2"/></svg>'
    )


def _bar_column(
    x: float, bar: float, stack: Sequence[tuple[int, int]], scale: float, base: float
) -> list[str]:
    parts, y = [], base
    for index, value in stack:
        if value:
            h = value * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour(index)}"/>'
            )
    return parts


def stacked_bars(
    series: Mapping[str, Mapping[str, int]], quarters: Sequence[str], *, title: str
) -> Markup:
    """Stacked bars: one per quarter, one colour per series (e.g. network), with a legend."""
    names = list(series)
    if not quarters or not names:
        return Markup("")
    width, height, left, bottom, top_pad = 640, 240, 36, 40, 12
    totals = [sum(series[n].get(q, 0) for n in names) for q in quarters]
    top = max(totals) or 1
    scale = (height - bottom - top_pad) / top
    slot = (width - left - 8) / len(quarters)
    bar = max(slot * 0.7, 2)
    axis = height - bottom
    tick = 'text-anchor="end" font-size="11" fill="#4f5b66"'
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{axis}" x2="{width - 4}" y2="{axis}" stroke="#7d8893"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" {tick}>{top}</text>',
        f'<text x="{left - 6}" y="{axis}" {tick}>0</text>',
    ]
    every = max(1, len(quarters) // 8)
    for i, quarter in enumerate(quarters):
        x = left + i * slot + (slot - bar) / 2
        stack = [(k, series[n].get(quarter, 0)) for k, n in enumerate(names)]
        parts += _bar_column(x, bar, stack, scale, height - bottom)
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="#4f5b66">{escape(quarter)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A passage on the map: stored 2-D coordinates, its theme's colour index, hover text."""

    x: float
    y: float
    group: int | None
    label: str


def scatter_map(points: Sequence[MapPoint], *, title: str, size: int = 640) -> Markup:
    """Passages as dots coloured by theme; each dot's title is its passage (shown on hover)."""
    if not points:
        return Markup("")
    xs, ys = [p.x for p in points], [p.y for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = 10
    sx = (size - 2 * pad) / ((x1 - x0) or 1)
    sy = (size - 2 * pad) / ((y1 - y0) or 1)
    parts = [
        f'<svg class="chart map" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for p in sorted(points, key=lambda p: p.group is not None):
        cx, cy = pad + (p.x - x0) * sx, size - pad - (p.y - y0) * sy
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour(p.group)}" '
            f'fill-opacity="0.8"><title>{escape(p.label)}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
