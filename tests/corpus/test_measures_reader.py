"""The measures reader: the demo CSV, JSON, every kind of bad row, and a write→read round trip."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.measures import DEMO_MEASURES, read_measures
from corpus.series import read_series
from synth.types import MeasureType

HEADER = "measure_id,project,measure,unit,type,better,period,value,numerator,denominator\n"


def write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    return [p.describe().replace(str(path), "F") for p in read_measures(path).problems]


def test_demo_measures_read_cleanly() -> None:
    batch = read_measures(DEMO_MEASURES)
    assert batch.problems == []
    assert len(batch.records) == 28
    assert sum(len(r.observations) for r in batch.records) == 800
    first = batch.records[0]
    assert first.measure_id == "harbourside-falls-huddle-m1" and first.type is MeasureType.RATE
    assert first.network == "falls-prevention" and first.better == "down"
    assert first.observations[0].numerator == 13 and first.observations[0].denominator == 2774
    assert first.annotations[0].on == dt.date(2025, 7, 1)


def test_bad_rows_name_row_column_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "m1,p1,Falls,count,count,down,2025-01-01,3,,\n"
        + "m1,p1,Falls,count,count,down,2025-02-30,3,,\n"
        + "m1,p1,Falls,count,count,down,2025-03-01,lots,,\n"
        + "m1,p1,Falls,count,count,sideways,2025-04-01,3,,\n"
        + "m2,p1,Seen,%,share,up,2025-01-01,3,,\n"
        + "m3,p1,Seen,%,proportion,up,2025-01-01,50,6,5\n"
        + "m3,p1,Seen,%,proportion,up,2025-02-01,50,5,\n"
        + "m1,p1,Falls,count,count,down,2025-01-01,4,,\n",
    )
    assert problems(path) == [
        "F:3: field 'period': '2025-02-30' is not a date (use YYYY-MM-DD)",
        "F:4: field 'value': 'lots' is not a number",
        "F:5: field 'better': 'sideways' differs from row 2 of this measure",
        "F:6: field 'type': 'share' is not one of: "
        "count, rate, proportion, days_between, continuous",
        "F:7: field 'numerator': 6 is more than the denominator 5",
        "F:8: field 'denominator': numerator and denominator come together",
        "F:9: field 'period': 2025-01-01 is already given on row 2",
    ]


def test_unknown_columns_and_other_formats_are_problems(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",colour\nm1,p1,F,c,count,up,2025-01-01,1,,,red\n")
    assert problems(path)[0].startswith("F:1: field 'colour': is not a known column")
    assert "not a measures format" in problems(write(tmp_path, "x", "m.txt"))[0]


def test_json_measures_with_paths_in_errors(tmp_path: Path) -> None:
    good = {
        "id": "m1",
        "project": "p1",
        "network": "n1",
        "organisation": "o1",
        "name": "Falls",
        "unit": "count",
        "type": "count",
        "better": "down",
        "baseline": {"start": "2025-01-01", "end": "2025-12-01"},
        "observations": [
            {"period": "2025-01-01", "value": 3},
            {"period": "2025-02-01", "value": 4},
        ],
        "annotations": [{"on": "2025-02-01", "text": "Huddles", "kind": "pdsa", "phase": True}],
    }
    bad = {**good, "id": "m2", "observations": [{"period": "2025-01-01", "value": "x"}]}
    path = write(tmp_path, json.dumps({"measures": [good, bad]}), "m.json")
    batch = read_measures(path)
    assert [r.measure_id for r in batch.records] == ["m1"]
    record = batch.records[0]
    assert record.baseline_start == dt.date(2025, 1, 1) and record.annotations[0].phase
    assert problems(path) == ["F:2: field 'observations[0].value': 'x' is not a number"]


def test_series_reader_with_and_without_header(tmp_path: Path) -> None:
    with_header = write(tmp_path, "period,value,numerator,denominator\n2025-02-01,0.5,1,2\n")
    points, found = read_series(with_header)
    assert found == [] and points[0].denominator == 2
    bare = write(tmp_path, "2025-02-01,3\n2025-01-01,2\n", "bare.csv")
    points, found = read_series(bare)
    assert found == [] and [p.value for p in points] == [2, 3]


rows_st = st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 500), st.integers(1, 500)),
    min_size=1,
    max_size=30,
    unique_by=lambda r: r[0],
)


@settings(max_examples=50, deadline=None)
@given(rows_st)
def test_csv_survives_write_then_read(
    tmp_path_factory: object, rows: list[tuple[int, int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("rt")  # type: ignore[attr-defined]
    path = folder / "m.csv"
    start = dt.date(2020, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.strip().split(","))
        for day, num, den in rows:
            value = round(100 * min(num, den) / den, 3)
            period = (start + dt.timedelta(days=day)).isoformat()
            writer.writerow(
                ["m1", "p1", "Seen", "%", "proportion", "up", period, value, min(num, den), den]
            )
    batch = read_measures(path)
    assert batch.problems == []
    (record,) = batch.records
    expected = sorted((start + dt.timedelta(days=d), min(n, e), e) for d, n, e in rows)
    assert [(o.period, o.numerator, o.denominator) for o in record.observations] == expected
