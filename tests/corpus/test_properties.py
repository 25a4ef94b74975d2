from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import available_formats, iter_records
from synth.types import EntryKind, EntryRecord, RecordProblem, Visibility
from tests.corpus.files import DEFAULTS, write_docx, write_pdf

FAST = settings(
    max_examples=60,
    database=None,  # keep no example database in the working tree
    deadline=dt.timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)

SLUG = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True)
# Printable Unicode plus the characters that break naive CSV/JSON writers and readers.
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(",;\"'\n\t\\"),
    min_size=1,
    max_size=60,
).filter(lambda text: text.strip() == text and text != "")
RECORD = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([kind.value for kind in EntryKind]),
        "title": TEXT,
        "body": TEXT,
        "network": SLUG,
        "organisation": SLUG,
        "visibility": st.sampled_from([v.value for v in Visibility]),
        "occurred_on": st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)),
        "tags": st.lists(SLUG, max_size=4, unique=True),
        "id": st.none() | SLUG,
    }
)
RECORDS = st.lists(RECORD, min_size=1, max_size=8)
RECORD_FIELDS: tuple[str, ...] = ("kind", "title", "body", "network", "organisation")
RECORD_FIELDS += ("visibility", "occurred_on", "tags", "id")


def expected_fields(raw: dict[str, Any]) -> dict[str, object]:
    return {
        "kind": EntryKind(raw["kind"]),
        "title": raw["title"],
        "body": raw["body"],
        "network": raw["network"],
        "organisation": raw["organisation"],
        "visibility": Visibility(raw["visibility"]),
        "occurred_on": raw["occurred_on"],
        "tags": tuple(raw["tags"]),
        "external_id": raw["id"],
    }


def actual_fields(record: EntryRecord | RecordProblem) -> dict[str, object]:
    assert isinstance(record, EntryRecord), record
    return {
        "kind": record.kind,
        "title": record.title,
        "body": record.body,
        "network": record.network,
        "organisation": record.organisation,
        "visibility": record.visibility,
        "occurred_on": record.occurred_on,
        "tags": record.tags,
        "external_id": record.source.external_id,
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


@FAST
@given(records=RECORDS)
def test_jsonl_round_trip(workdir: Path, records: list[dict[str, Any]]) -> None:
    path = workdir / "round.jsonl"
    with path.open("w", encoding="utf-8", newline="") as handle:
        for raw in records:
            row = {**raw, "occurred_on": raw["occurred_on"] and raw["occurred_on"].isoformat()}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    items = list(iter_records(path))
    assert [actual_fields(item) for item in items] == [expected_fields(raw) for raw in records]
    assert [item.source.line for item in items] == list(range(1, len(records) + 1))


@FAST
@given(records=RECORDS, separator=st.sampled_from([", ", ";", "; "]))
def test_csv_round_trip(workdir: Path, records: list[dict[str, Any]], separator: str) -> None:
    path = workdir / "round.csv"
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(RECORD_FIELDS))
    writer.writeheader()
    for raw in records:
        writer.writerow(
            {
                **raw,
                "occurred_on": raw["occurred_on"] or "",
                "tags": separator.join(raw["tags"]),
                "id": raw["id"] or "",
            }
        )
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    items = list(iter_records(path))
    assert [actual_fields(item) for item in items] == [expected_fields(raw) for raw in records]
    lines_per_row = [1 + sum(str(value).count("\n") for value in raw.values()) for raw in records]
    starts = [2 + sum(lines_per_row[:index]) for index in range(len(records))]
    assert [item.source.line for item in items] == starts


def assert_only_items(path: Path, fmt: str) -> None:
    for item in iter_records(path, fmt=fmt, defaults=DEFAULTS):
        assert isinstance(item, EntryRecord | RecordProblem)


@FAST
@given(data=st.binary(max_size=2_048), fmt=st.sampled_from(available_formats()))
def test_random_bytes_never_raise(workdir: Path, data: bytes, fmt: str) -> None:
    path = workdir / "random.bin"
    path.write_bytes(data)
    assert_only_items(path, fmt)


@FAST
@given(text=st.text(max_size=300), fmt=st.sampled_from(["csv", "json", "jsonl", "md", "txt"]))
def test_random_text_never_raises(workdir: Path, text: str, fmt: str) -> None:
    path = workdir / "random.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert_only_items(path, fmt)


@FAST
@given(
    front=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"\n #,?")), max_size=80),
)
def test_random_front_matter_never_raises(workdir: Path, front: str) -> None:
    path = workdir / "front.md"
    path.write_text(f"---\n{front}\n---\nBody\n", encoding="utf-8")
    assert_only_items(path, "md")


@pytest.fixture(scope="module")
def sample_binaries(workdir: Path) -> dict[str, bytes]:
    pdf = write_pdf(workdir / "sample.pdf", ["First page", "Second page"], title="Sample")
    document = write_docx(workdir / "sample.docx", ["Para"], title="T", table=[["a", "b"]])
    return {"pdf": pdf.read_bytes(), "docx": document.read_bytes()}


@FAST
@given(
    fmt=st.sampled_from(["pdf", "docx"]),
    position=st.floats(0, 1),
    patch=st.binary(min_size=1, max_size=64),
    truncate=st.booleans(),
)
def test_damaged_pdf_and_docx_never_raise(
    workdir: Path,
    sample_binaries: dict[str, bytes],
    fmt: str,
    position: float,
    patch: bytes,
    truncate: bool,
) -> None:
    data = sample_binaries[fmt]
    at = int(position * (len(data) - 1))
    damaged = data[:at] if truncate else data[:at] + patch + data[at + len(patch) :]
    path = workdir / f"damaged.{fmt}"
    path.write_bytes(damaged)
    assert_only_items(path, fmt)
