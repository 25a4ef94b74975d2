"""Signals found by run-chart and Shewhart rules, and the verdict they add up to.

A :class:`Signal` names its rule, the chart it came from, the direction of the change (``up``,
``down``, or ``None`` for rules without a side such as too many runs) and the indices of the
points involved. :func:`verdict` turns a list of signals into ``improvement``,
``deterioration`` or ``no signal`` in the direction that is better for the measure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Direction", "Signal", "Verdict", "effect_of", "longest_runs", "verdict"]

#: Which way a signal (or the better direction of a measure) points.
Direction = Literal["up", "down"]


class Verdict(enum.StrEnum):
    """What the data say about a measure, judged in its better direction."""

    IMPROVEMENT = "improvement"
    DETERIORATION = "deterioration"
    NO_SIGNAL = "no signal"
    NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True, slots=True)
class Signal:
    """One rule that fired: which rule, on which chart, which way, and the points involved.

    Attributes:
        rule: ``shift``, ``trend``, ``runs``, ``astronomical`` (run chart), ``longest_run``,
            ``crossings`` (Anhøj rules), ``beyond_limits``, ``spc_shift``, ``spc_trend``,
            ``two_of_three`` (Shewhart chart).
        chart: ``run``, ``xmr``, ``p`` or ``u``.
        direction: ``up`` or ``down``; ``None`` when the rule has no side.
        points: Indices (0-based, in time order) of the points that make the signal.
        detail: A short human-readable description.
    """

    rule: str
    chart: str
    direction: Direction | None
    points: tuple[int, ...]
    detail: str = ""

    @property
    def last(self) -> int:
        """Index of the latest point in the signal (-1 when it has none)."""
        return self.points[-1] if self.points else -1


def effect_of(direction: Direction | None, better: Direction) -> Verdict:
    """Return what a move in ``direction`` means for a measure whose better way is ``better``.

    Example:
        >>> effect_of("down", "down").value
        'improvement'
        >>> effect_of(None, "up").value
        'no signal'
    """
    if direction is None:
        return Verdict.NO_SIGNAL
    return Verdict.IMPROVEMENT if direction == better else Verdict.DETERIORATION


def verdict(signals: Iterable[Signal], better: Direction) -> Verdict:
    """Sum up signals: the direction of the most recent signal that has one.

    Signals with no direction (too few or too many runs) say the process changed but not
    which way, so they do not decide a verdict. When signals disagree, the one whose last
    point is latest wins (the most recent evidence); if opposite signals end on the same
    point, the verdict is ``no signal``.

    Example:
        >>> s = Signal("shift", "run", "up", (12, 13, 14, 15, 16, 17))
        >>> verdict([s], better="up").value
        'improvement'
    """
    sided = [s for s in signals if s.direction is not None]
    if not sided:
        return Verdict.NO_SIGNAL
    latest = max(s.last for s in sided)
    directions = {s.direction for s in sided if s.last == latest}
    if len(directions) != 1:
        return Verdict.NO_SIGNAL
    return effect_of(directions.pop(), better)


def longest_runs(sides: Sequence[int], min_length: int) -> list[tuple[int, int]]:
    """Return ``(start, end)`` position pairs of runs of equal non-zero sides of ``min_length``+.

    ``sides`` holds +1, -1 or 0 per point; zeros (points on the centre line) are skipped: they
    neither extend nor break a run. Positions are indices into ``sides``; ``end`` is inclusive.

    Example:
        >>> longest_runs([1, 1, 0, 1, -1, -1], 3)
        [(0, 3)]
    """
    found: list[tuple[int, int]] = []
    kept = [i for i, side in enumerate(sides) if side != 0]
    start = 0
    for k in range(1, len(kept) + 1):
        if k == len(kept) or sides[kept[k]] != sides[kept[start]]:
            if k - start >= min_length:
                found.append((kept[start], kept[k - 1]))
            start = k
    return found
