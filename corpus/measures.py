r"""Read measures (series of observations) from CSV or JSON into validated measure records.

CSV: one row per observation, with the measure's own columns repeated on each row
(``measure_id, project, [network, organisation,] measure, unit, type, better, period, value,
[numerator, denominator, annotation, annotation_kind, pdsa_cycle, phase, baseline_start,
baseline_end]``). JSON: ``{"measures": [...]}`` (or a bare array) of objects with ``id``,
``project``, ``name``, ``unit``, ``type``, ``better``, ``observations`` (``period``,
``value``, ``numerator``, ``denominator``) and ``annotations`` (``on``, ``text``, ``kind``,
``pdsa_cycle``, ``phase``). Every problem names the file, the row (CSV line, or the measure's
position in a JSON file) and the column, and says why.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = path.write_text(
    ...     "measure_id,project,measure,unit,type,better,period,value\n"
    ...     "falls-m1,huddles,Falls,count,count,down,2025-01-01,7\n"
    ...     "falls-m1,huddles,Falls,count,count,down,2025-02-01,seven\n"
    ... )
    >>> batch = read_measures(path)
    >>> [p.describe().split("/")[-1] for p in batch.problems]
    ["m.csv:3: field 'value': 'seven' is not a number"]
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import reprlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from synth.types import (
    MeasureAnnotationRecord,
    MeasureRecord,
    MeasureType,
    ObservationRecord,
    RecordProblem,
    SourceRef,
)

__all__ = ["DEMO_MEASURES", "MEASURE_COLUMNS", "MeasureBatch", "read_measures"]

#: The demo corpus measures (28 fictional series; expected verdicts in measures_truth.json).
DEMO_MEASURES = Path(__file__).parent / "demo" / "measures.csv"

MAX_BYTES = 50 * 1024 * 1024
#: The measure-level columns that must agree on every row of one measure.
MEASURE_COLUMNS = (
    "project",
    "network",
    "organisation",
    "measure",
    "unit",
    "type",
    "better",
    "baseline_start",
    "baseline_end",
)
ROW_COLUMNS = (
    "measure_id",
    "period",
    "value",
    "numerator",
    "denominator",
    "annotation",
    "annotation_kind",
    "pdsa_cycle",
    "phase",
)
ANNOTATION_KINDS = ("change", "pdsa", "event")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_T = TypeVar("_T")


@dataclass
class MeasureBatch:
    """What a file held: the valid measures and every problem found."""

    records: list[MeasureRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


class _Bad(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _text(row: Mapping[str, object], key: str, *, required: bool = False) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(key, "is required")
        return None
    if isinstance(value, dict | list):
        raise _Bad(key, "must be text")
    return str(value).strip()


def _slug(row: Mapping[str, object], key: str, *, required: bool = False) -> str | None:
    value = _text(row, key, required=required)
    if value is not None and not set(value) <= _ID_CHARS:
        raise _Bad(key, f"'{value}' is not a slug (use lower-case letters, digits and '-')")
    return value


def _date(row: Mapping[str, object], key: str, *, required: bool = False) -> dt.date | None:
    value = _text(row, key, required=required)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise _Bad(key, f"'{value}' is not a date (use YYYY-MM-DD)") from None


def _number(row: Mapping[str, object], key: str, *, required: bool = False) -> float | None:
    value = row.get(key)
    if isinstance(value, bool):
        raise _Bad(key, f"'{value}' is not a number")
    text = _text(row, key, required=required)
    if text is None:
        return None
    try:
        number = float(text.replace(",", "")) if isinstance(value, str) else float(text)
    except ValueError:
        raise _Bad(key, f"'{text}' is not a number") from None
    if not math.isfinite(number):
        raise _Bad(key, f"'{text}' is not a finite number")
    return number


def _flag(row: Mapping[str, object], key: str) -> bool:
    value = row.get(key)
    if isinstance(value, bool):
        return value
    text = (_text(row, key) or "false").lower()
    if text not in ("true", "false", "yes", "no", "1", "0"):
        raise _Bad(key, f"'{text}' is not true or false")
    return text in ("true", "yes", "1")


def _observation(row: Mapping[str, object], measure_type: MeasureType) -> ObservationRecord:
    numerator, denominator = _number(row, "numerator"), _number(row, "denominator")
    if (numerator is None) != (denominator is None):
        missing = "denominator" if denominator is None else "numerator"
        raise _Bad(missing, "numerator and denominator come together")
    if denominator is not None and denominator <= 0:
        raise _Bad("denominator", f"must be above 0, not {denominator:g}")
    if numerator is not None and numerator < 0:
        raise _Bad("numerator", f"must not be negative ({numerator:g})")
    proportion = measure_type is MeasureType.PROPORTION
    if proportion and numerator is not None and denominator is not None and numerator > denominator:
        raise _Bad("numerator", f"{numerator:g} is more than the denominator {denominator:g}")
    period = _date(row, "period", required=True)
    value = _number(row, "value", required=True)
    assert period is not None and value is not None
    return ObservationRecord(period, value, numerator, denominator)


def _annotation(row: Mapping[str, object], on_key: str, text_key: str) -> MeasureAnnotationRecord:
    kind = (_text(row, "annotation_kind") or _text(row, "kind") or "change").lower()
    if kind not in ANNOTATION_KINDS:
        column = "annotation_kind" if "annotation_kind" in row else "kind"
        raise _Bad(column, f"'{kind}' is not one of: {', '.join(ANNOTATION_KINDS)}")
    on = _date(row, on_key, required=True)
    assert on is not None
    return MeasureAnnotationRecord(
        on=on,
        text=_text(row, text_key, required=True) or "",
        kind=kind,
        pdsa_cycle=_text(row, "pdsa_cycle"),
        phase=_flag(row, "phase"),
    )


def _header(row: Mapping[str, object], measure_id: str, source: SourceRef) -> MeasureRecord:
    """Build a measure (without observations) from its measure-level fields."""
    raw_type = (_text(row, "type", required=True) or "").lower()
    try:
        measure_type = MeasureType(raw_type)
    except ValueError:
        options = ", ".join(t.value for t in MeasureType)
        raise _Bad("type", f"'{raw_type}' is not one of: {options}") from None
    better = (_text(row, "better", required=True) or "").lower()
    if better not in ("up", "down"):
        raise _Bad("better", f"'{better}' is not up or down")
    network, organisation = _slug(row, "network"), _slug(row, "organisation")
    if (network is None) != (organisation is None):
        raise _Bad(
            "organisation" if organisation is None else "network",
            "network and organisation come together",
        )
    start, end = _date(row, "baseline_start"), _date(row, "baseline_end")
    if (start is None) != (end is None) or (start and end and start > end):
        raise _Bad("baseline_end", "a baseline needs a start and an end on or after it")
    name = _text(row, "measure") or _text(row, "name")
    if name is None:
        raise _Bad("measure", "is required")
    return MeasureRecord(
        measure_id=measure_id,
        project=_slug(row, "project", required=True) or "",
        name=name,
        unit=_text(row, "unit") or "",
        type=measure_type,
        better=better,
        observations=(),
        network=network,
        organisation=organisation,
        baseline_start=start,
        baseline_end=end,
        source=source,
    )


def _check_periods(record: MeasureRecord, rows: list[int], file: str) -> list[RecordProblem]:
    seen: dict[dt.date, int] = {}
    problems = []
    for obs, line in zip(record.observations, rows, strict=True):
        if obs.period in seen:
            where = SourceRef(file=file, line=line)
            message = f"{obs.period} is already given on row {seen[obs.period]}"
            problems.append(RecordProblem(where, "period", message))
        seen.setdefault(obs.period, line)
    return problems


def read_measures(path: Path) -> MeasureBatch:
    """Read every measure in a ``.csv`` or ``.json`` file; problems are collected, not raised.

    Args:
        path: The file.

    Returns:
        The valid measures and the problems; a caller stores nothing when there are problems.
    """
    batch = MeasureBatch()
    file = str(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        batch.problems.append(
            RecordProblem(SourceRef(file=file), None, f"cannot be read: {err.strerror}")
        )
        return batch
    if size > MAX_BYTES:
        batch.problems.append(RecordProblem(SourceRef(file=file), None, "is larger than 50 MB"))
        return batch
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _read_csv(path, batch)
    elif suffix == ".json":
        _read_json(path, batch)
    else:
        message = f"'{suffix or path.name}' is not a measures format (use .csv or .json)"
        batch.problems.append(RecordProblem(SourceRef(file=file), None, message))
    return batch


def _csv_rows(path: Path, batch: MeasureBatch) -> Iterator[tuple[int, dict[str, str]]]:
    file = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            known = set(MEASURE_COLUMNS) | set(ROW_COLUMNS) | {"name"}
            for column in [c for c in reader.fieldnames or [] if c not in known]:
                message = f"is not a known column (known: {', '.join(sorted(known))})"
                batch.problems.append(RecordProblem(SourceRef(file=file, line=1), column, message))
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError:
        batch.problems.append(RecordProblem(SourceRef(file=file), None, "is not UTF-8 text"))
    except csv.Error as err:  # a field over the csv module's size limit, or a stray quote
        where = SourceRef(file=file, line=reader.line_num)
        batch.problems.append(RecordProblem(where, None, f"is not valid CSV: {err}"))


def _read_csv(path: Path, batch: MeasureBatch) -> None:
    file = str(path)
    headers: dict[str, tuple[MeasureRecord, dict[str, str], int]] = {}
    points: dict[str, list[tuple[int, ObservationRecord]]] = {}
    notes: dict[str, list[MeasureAnnotationRecord]] = {}
    for line, row in _csv_rows(path, batch):
        try:
            measure_id = _slug(row, "measure_id", required=True) or ""
            if measure_id not in headers:
                header = _header(
                    row, measure_id, SourceRef(file=file, line=line, external_id=measure_id)
                )
                headers[measure_id] = (header, row, line)
            else:
                _same_measure(row, *headers[measure_id][1:])
            observation = _observation(row, headers[measure_id][0].type)
            points.setdefault(measure_id, []).append((line, observation))
            if _text(row, "annotation"):
                notes.setdefault(measure_id, []).append(_annotation(row, "period", "annotation"))
        except _Bad as bad:
            batch.problems.append(
                RecordProblem(SourceRef(file=file, line=line), bad.column, bad.message)
            )
    for measure_id, (header, _, _) in headers.items():
        rows = [line for line, _ in points.get(measure_id, [])]
        record = _with(
            header, [o for _, o in points.get(measure_id, [])], notes.get(measure_id, [])
        )
        batch.problems += _check_periods(record, rows, file)
        batch.records.append(record)


def _same_measure(row: Mapping[str, str], first: Mapping[str, str], first_line: int) -> None:
    for column in MEASURE_COLUMNS:
        if (row.get(column) or "").strip() != (first.get(column) or "").strip():
            raise _Bad(
                column, f"'{row.get(column) or ''}' differs from row {first_line} of this measure"
            )


def _with(
    header: MeasureRecord,
    observations: list[ObservationRecord],
    annotations: list[MeasureAnnotationRecord],
) -> MeasureRecord:
    ordered = tuple(sorted(observations, key=lambda o: o.period))
    return MeasureRecord(
        measure_id=header.measure_id,
        project=header.project,
        name=header.name,
        unit=header.unit,
        type=header.type,
        better=header.better,
        observations=ordered,
        annotations=tuple(sorted(annotations, key=lambda a: a.on)),
        network=header.network,
        organisation=header.organisation,
        baseline_start=header.baseline_start,
        baseline_end=header.baseline_end,
        source=header.source,
    )


def _read_json(path: Path, batch: MeasureBatch) -> None:
    file = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except RecursionError:
        message = "is not valid JSON: nested too deeply"
        batch.problems.append(RecordProblem(SourceRef(file=file), None, message))
        return
    except ValueError as err:  # not UTF-8, not JSON, or an integer too long to convert
        message = f"is not valid JSON: {reprlib.repr(str(err))}"
        batch.problems.append(RecordProblem(SourceRef(file=file), None, message))
        return
    items = data.get("measures") if isinstance(data, dict) else data
    if not isinstance(items, list):
        message = 'must hold an array of measures, or {"measures": [...]}'
        batch.problems.append(RecordProblem(SourceRef(file=file), None, message))
        return
    for number, item in enumerate(items, start=1):
        where = SourceRef(file=file, line=number)
        try:
            batch.records.append(_json_measure(item, where))
        except _Bad as bad:
            batch.problems.append(RecordProblem(where, bad.column, bad.message))


def _json_measure(item: object, where: SourceRef) -> MeasureRecord:
    if not isinstance(item, dict):
        raise _Bad("measures", "each measure must be a JSON object")
    measure_id = _slug(item, "id") or _slug(item, "measure_id", required=True) or ""
    given = item.get("baseline")
    baseline: dict[str, object] = given if isinstance(given, dict) else {}
    flat = {
        **item,
        "baseline_start": baseline.get("start", item.get("baseline_start")),
        "baseline_end": baseline.get("end", item.get("baseline_end")),
    }
    header = _header(
        flat, measure_id, SourceRef(file=where.file, line=where.line, external_id=measure_id)
    )
    observations = [
        _indexed(lambda o: _observation(o, header.type), obs, f"observations[{i}]")
        for i, obs in enumerate(_list(item, "observations"))
    ]
    annotations = [
        _indexed(lambda a: _annotation(a, "on", "text"), note, f"annotations[{i}]")
        for i, note in enumerate(_list(item, "annotations"))
    ]
    record = _with(header, observations, annotations)
    periods = [o.period for o in record.observations]
    if len(set(periods)) != len(periods):
        raise _Bad("observations", "two observations share a period")
    return record


def _list(item: Mapping[str, object], key: str) -> list[object]:
    value = item.get(key, [])
    if not isinstance(value, list):
        raise _Bad(key, "must be an array")
    return value


def _indexed(build: Callable[[Mapping[str, object]], _T], value: object, prefix: str) -> _T:
    """Build one element of a JSON array, naming ``observations[3].value`` when it fails."""
    if not isinstance(value, dict):
        raise _Bad(prefix, "must be a JSON object")
    try:
        return build(value)
    except _Bad as bad:
        raise _Bad(f"{prefix}.{bad.column}", bad.message) from None
