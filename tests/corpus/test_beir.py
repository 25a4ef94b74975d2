from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.beir import (
    BeirDocument,
    BeirFormatError,
    BeirQuery,
    load_beir,
    load_beir_corpus,
    load_beir_qrels,
)
from corpus.formats import SourceFormatError


def write_folder(folder: Path, *, queries_name: str = "queries.jsonl") -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "Huddles", "text": "Daily huddles cut falls.", "metadata": {}},
        {"_id": 2, "text": "No title here."},
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    queries = [{"_id": "q1", "text": "do huddles help"}, {"_id": "q2", "text": "train only"}]
    (folder / queries_name).write_text("\n".join(json.dumps(q) for q in queries) + "\n\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\t2\t0\n")
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq2\t2\t2\n")
    return folder


def test_load_beir_reads_all_three_parts(tmp_path: Path) -> None:
    data = load_beir(write_folder(tmp_path), "test")
    assert data.documents == (
        BeirDocument("d1", "Huddles", "Daily huddles cut falls."),
        BeirDocument("2", "", "No title here."),
    )
    assert data.queries == (BeirQuery("q1", "do huddles help"),)
    assert data.qrels == {"q1": {"d1": 1, "2": 0}}
    assert load_beir(tmp_path, "train").queries == (BeirQuery("q2", "train only"),)


def test_split_queries_file_is_used_when_there_is_no_queries_jsonl(tmp_path: Path) -> None:
    data = load_beir(write_folder(tmp_path, queries_name="queries_test.jsonl"), "test")
    assert [q.query_id for q in data.queries] == ["q1"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"title": "x"}', "'_id'"),
        ('{"_id": "d1", "text": "again"}', "repeats"),
        ('{"_id": "d9", "text": 5}', "'text' must be a string"),
    ],
)
def test_malformed_corpus_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "d1", "text": "ok"}\n\n' + line + "\n")
    with pytest.raises(BeirFormatError, match=message) as caught:
        load_beir_corpus(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: ")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, SourceFormatError)


@pytest.mark.parametrize(
    ("row", "message"), [("q1\td1", "3 tab-separated"), ("q1\td1\thigh", "not an integer")]
)
def test_malformed_qrels_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "test.tsv"
    path.write_text(f"query-id\tcorpus-id\tscore\nq0\td0\t1\n{row}\n")
    with pytest.raises(BeirFormatError, match=message) as caught:
        load_beir_qrels(path)
    assert caught.value.line == 3


def test_missing_files_and_unknown_judged_queries(tmp_path: Path) -> None:
    with pytest.raises(BeirFormatError, match="file not found") as caught:
        load_beir(tmp_path)
    assert caught.value.file == str(tmp_path / "corpus.jsonl")
    write_folder(tmp_path / "x")
    (tmp_path / "x" / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq7\td1\t1\n")
    with pytest.raises(BeirFormatError, match="'q7'"):
        load_beir(tmp_path / "x", "dev")


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=8), texts, texts),
        unique_by=lambda t: t[0],
        max_size=6,
    )
)
def test_corpus_survives_write_then_read(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]]
) -> None:
    path = tmp_path_factory.mktemp("beir") / "corpus.jsonl"
    lines = [json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_beir_corpus(path) == tuple(BeirDocument(i, t, x) for i, t, x in rows)
