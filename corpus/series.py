r"""Read a bare series — ``date,value[,numerator,denominator]`` rows — for a quick analysis.

A header row is optional: with one, columns are found by name (``date`` or ``period``,
``value``, ``numerator``, ``denominator``); without one, by position.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = path.write_text("date,value\n2025-01-01,4\n2025-02-01,x\n")
    >>> points, problems = read_series(path)
    >>> len(points), problems[0].describe().split("/")[-1]
    (1, "s.csv:3: field 'value': 'x' is not a number")
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from synth.types import ObservationRecord, RecordProblem, SourceRef

__all__ = ["read_series"]

COLUMNS = ("date", "value", "numerator", "denominator")


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return False
    return True


def _number(text: str, column: str, *, required: bool) -> float | None:
    if not text.strip():
        if required:
            raise ValueError(column, "is required")
        return None
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(column, f"'{text.strip()}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(column, f"'{text.strip()}' is not a finite number")
    return number


def _point(cells: dict[str, str]) -> ObservationRecord:
    text = cells.get("date", "").strip()
    if not _is_date(text):
        raise ValueError("date", f"'{text}' is not a date (use YYYY-MM-DD)")
    value = _number(cells.get("value", ""), "value", required=True)
    numerator = _number(cells.get("numerator", ""), "numerator", required=False)
    denominator = _number(cells.get("denominator", ""), "denominator", required=False)
    if (numerator is None) != (denominator is None):
        raise ValueError("denominator", "numerator and denominator come together")
    if denominator is not None and denominator <= 0:
        raise ValueError("denominator", "must be above 0")
    assert value is not None
    return ObservationRecord(dt.date.fromisoformat(text[:10]), value, numerator, denominator)


def read_series(path: Path) -> tuple[list[ObservationRecord], list[RecordProblem]]:
    """Read the points of a series CSV, sorted by date, and every problem (file, row, column)."""
    points: list[ObservationRecord] = []
    problems: list[RecordProblem] = []
    file = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        return [], [RecordProblem(SourceRef(file=file), None, f"cannot be read: {err}")]
    names: list[str] = list(COLUMNS)
    start = 0
    if rows and rows[0] and not _is_date(rows[0][0]):
        names = [("date" if c.strip().lower() == "period" else c.strip().lower()) for c in rows[0]]
        start = 1
        if "date" not in names or "value" not in names:
            message = "needs date (or period) and value columns"
            return [], [RecordProblem(SourceRef(file=file, line=1), None, message)]
    for line, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        try:
            points.append(_point(dict(zip(names, row, strict=False))))
        except ValueError as err:
            column, message = err.args
            problems.append(RecordProblem(SourceRef(file=file, line=line), column, message))
    seen = [p.period for p in points]
    if len(set(seen)) != len(seen):
        problems.append(RecordProblem(SourceRef(file=file), "date", "a date appears twice"))
    return sorted(points, key=lambda p: p.period), problems
