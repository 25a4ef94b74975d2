"""Every corpus reader, fed random bytes, truncated files, huge lines, wrong encodings and
deeply nested JSON, returns records or clear problems (or raises its documented error) —
never another exception, and never hangs.

Entry readers (``iter_records``, all formats) and the measures and series readers report bad
input as problems; the evaluation dataset loaders (BEIR, OCTIS) raise
:class:`~corpus.SourceFormatError`. Each call runs under a wall-clock alarm, so a hang fails
the test instead of stalling the suite.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import SourceFormatError, available_formats, iter_records
from corpus.beir import load_beir_corpus, load_beir_qrels, load_beir_queries
from corpus.measures import read_measures
from corpus.octis import load_octis
from corpus.series import read_series
from synth.types import EntryRecord, RecordProblem
from tests.corpus.files import DEFAULTS, write_docx, write_pdf

FUZZ = settings(
    max_examples=25,
    database=None,
    deadline=dt.timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Wall-clock seconds any one read may take before it counts as a hang.
HANG_SECONDS = 20
EXTENSIONS = {"csv": ".csv", "docx": ".docx", "json": ".json", "jsonl": ".jsonl"}
EXTENSIONS |= {"md": ".md", "pdf": ".pdf", "txt": ".txt"}
DEEP = 100_000


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail with TimeoutError if the block runs longer than ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"reader still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def read_entries(path: Path, fmt: str) -> list[EntryRecord | RecordProblem]:
    """Read with the entry readers; every item is a record or a problem with a message."""
    with no_hang():
        items = list(iter_records(path, fmt=fmt, defaults=DEFAULTS))
    for item in items:
        assert isinstance(item, EntryRecord | RecordProblem)
        if isinstance(item, RecordProblem):
            assert item.message.strip() and item.source.file == str(path)
    return items


def read_measure_files(path: Path) -> None:
    """Read as measures (CSV or JSON) and as a series CSV: problems, never exceptions."""
    with no_hang():
        batch = read_measures(path)
        if path.suffix == ".csv":
            _, problems = read_series(path)
            assert all(p.message.strip() for p in problems)
    assert all(p.message.strip() for p in batch.problems)


def read_dataset(load: Callable[[Path], object], path: Path) -> None:
    """An evaluation loader returns its data or raises SourceFormatError, nothing else."""
    try:
        with no_hang():
            load(path)
    except SourceFormatError as err:
        assert str(err).strip()


def one_problem(items: list[EntryRecord | RecordProblem]) -> RecordProblem:
    """The single problem a wholly unreadable file yields."""
    problems = [i for i in items if isinstance(i, RecordProblem)]
    assert problems, items
    return problems[0]


# -- random bytes -------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(min_size=1, max_size=4096), fmt=st.sampled_from(available_formats()))
def test_random_bytes_in_every_entry_format(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / f"random{EXTENSIONS[fmt]}"
    path.write_bytes(data)
    read_entries(path, fmt)


@FUZZ
@given(data=st.binary(min_size=1, max_size=4096), suffix=st.sampled_from([".csv", ".json"]))
def test_random_bytes_as_measures_and_series(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"measures{suffix}"
    path.write_bytes(data)
    read_measure_files(path)


@FUZZ
@given(data=st.binary(min_size=1, max_size=2048))
def test_random_bytes_as_evaluation_datasets(tmp_path: Path, data: bytes) -> None:
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv", "corpus.tsv"):
        (tmp_path / name).write_bytes(data)
    for load, name in (
        (load_beir_corpus, "corpus.jsonl"),
        (load_beir_queries, "queries.jsonl"),
        (load_beir_qrels, "qrels.tsv"),
    ):
        read_dataset(load, tmp_path / name)
    read_dataset(load_octis, tmp_path)


# -- text that is almost right ------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(value=JSON_VALUES)
def test_any_json_value_in_json_formats_and_measures(tmp_path: Path, value: object) -> None:
    text = json.dumps(value)
    for fmt in ("json", "jsonl"):
        path = tmp_path / f"value{EXTENSIONS[fmt]}"
        path.write_text(text, encoding="utf-8")
        read_entries(path, fmt)
    path = tmp_path / "measures.json"
    path.write_text(json.dumps({"measures": [value]}), encoding="utf-8")
    read_measure_files(path)


LINES = st.lists(st.text(max_size=40), min_size=1, max_size=10)


@FUZZ
@given(lines=LINES, fmt=st.sampled_from(["csv", "md", "txt", "jsonl"]))
def test_any_text_in_text_formats(tmp_path: Path, lines: list[str], fmt: str) -> None:
    path = tmp_path / f"text{EXTENSIONS[fmt]}"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    read_entries(path, fmt)


# -- truncated files ----------------------------------------------------------------------


def valid_file(tmp_path: Path, fmt: str) -> Path:
    """A small valid file of ``fmt`` that reads as at least one record."""
    path = tmp_path / f"valid{EXTENSIONS[fmt]}"
    record = {"id": "a1", "title": "Huddle", "body": "We met daily and falls went down."}
    writers: dict[str, Callable[[], object]] = {
        "csv": lambda: path.write_text("id,title,body\na1,Huddle,We met daily.\n"),
        "json": lambda: path.write_text(json.dumps([record, {**record, "id": "a2"}])),
        "jsonl": lambda: path.write_text(json.dumps(record) + "\n" + json.dumps(record)),
        "md": lambda: path.write_text("---\ntitle: Huddle\ntags: [a, b]\n---\n# Huddle\n\nText.\n"),
        "txt": lambda: path.write_text("Huddle\n\nWe met daily.\n"),
        "pdf": lambda: write_pdf(path, ["We met daily and falls went down."] * 3, title="H"),
        "docx": lambda: write_docx(path, ["We met daily."] * 5, title="H", table=[["a", "b"]]),
    }
    writers[fmt]()
    return path


@pytest.mark.parametrize("fmt", available_formats())
def test_truncated_files_read_as_records_or_problems(tmp_path: Path, fmt: str) -> None:
    path = valid_file(tmp_path, fmt)
    whole = path.read_bytes()
    records = [i for i in read_entries(path, fmt) if isinstance(i, EntryRecord)]
    assert records, f"the untruncated {fmt} file must read"
    cut = tmp_path / f"cut{path.suffix}"
    for size in sorted({1, 2, 7, *range(16, len(whole), max(1, len(whole) // 40))}):
        cut.write_bytes(whole[:size])
        read_entries(cut, fmt)


# -- huge lines, wrong encodings, deep nesting --------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md", "txt"])
def test_a_five_megabyte_line(tmp_path: Path, fmt: str) -> None:
    body = "word " * 1_000_000
    content = {
        "jsonl": json.dumps({"title": "t", "body": body}),
        "json": json.dumps([{"title": "t", "body": body}]),
        "csv": f"title,body\nt,{body}\n",
        "md": f"# t\n{body}",
        "txt": body,
    }[fmt]
    path = tmp_path / f"huge{EXTENSIONS[fmt]}"
    path.write_text(content, encoding="utf-8")
    items = read_entries(path, fmt)
    assert len(items) == 1


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "cp1252"])
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md", "txt"])
def test_text_in_another_encoding_is_a_clear_problem(
    tmp_path: Path, fmt: str, encoding: str
) -> None:
    text = {
        "jsonl": '{"title": "Café", "body": "Crème brûlée at the naïve café."}\n',
        "json": '[{"title": "Café", "body": "Crème brûlée at the naïve café."}]',
        "csv": "title,body\nCafé,Crème brûlée at the naïve café.\n",
        "md": "# Café\n\nCrème brûlée at the naïve café.\n",
        "txt": "Café\n\nCrème brûlée at the naïve café.\n",
    }[fmt]
    path = tmp_path / f"enc{EXTENSIONS[fmt]}"
    path.write_bytes(text.encode(encoding))
    problem = one_problem(read_entries(path, fmt))
    assert "UTF-8" in problem.message


def test_wrong_encoding_in_measures_series_and_datasets(tmp_path: Path) -> None:
    latin = "measure_id,project\ncafé,x\n".encode("latin-1")
    for name in ("m.csv", "m.json"):
        (tmp_path / name).write_bytes(latin)
        batch = read_measures(tmp_path / name)
        assert batch.problems and not batch.records
    (tmp_path / "s.csv").write_bytes(latin)
    assert read_series(tmp_path / "s.csv")[1]
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv", "corpus.tsv"):
        (tmp_path / name).write_bytes('{"_id": "é"}\tx\té\n'.encode("utf-16"))
    for load, target in (
        (load_beir_corpus, tmp_path / "corpus.jsonl"),
        (load_beir_queries, tmp_path / "queries.jsonl"),
        (load_beir_qrels, tmp_path / "qrels.tsv"),
        (load_octis, tmp_path),
    ):
        with pytest.raises(SourceFormatError, match="UTF-8"):
            load(target)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_a_problem(tmp_path: Path, opening: str) -> None:
    nested = opening * DEEP
    for fmt in ("json", "jsonl"):
        path = tmp_path / f"deep{EXTENSIONS[fmt]}"
        path.write_text(nested, encoding="utf-8")
        assert "nested too deeply" in one_problem(read_entries(path, fmt)).message
    path = tmp_path / "deep.json"
    path.write_text(nested, encoding="utf-8")
    batch = read_measures(path)
    assert batch.problems and "nested too deeply" in batch.problems[0].message
    (tmp_path / "corpus.jsonl").write_text(nested + "\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="nested too deeply"):
        load_beir_corpus(tmp_path / "corpus.jsonl")


def test_a_number_too_long_to_convert_is_a_problem(tmp_path: Path) -> None:
    digits = "9" * 10_000
    for fmt in ("json", "jsonl"):
        path = tmp_path / f"long{EXTENSIONS[fmt]}"
        path.write_text(f'[{{"title": {digits}}}]' if fmt == "json" else f'{{"title": {digits}}}')
        read_entries(path, fmt)
    path = tmp_path / "long.json"
    path.write_text(f'{{"measures": [{{"id": {digits}}}]}}')
    read_measure_files(path)


def test_a_huge_csv_field_in_measures_and_series_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("measure_id,project\n" + "x" * 2_000_000 + ",p\n", encoding="utf-8")
    read_measure_files(path)
    assert read_measures(path).problems
