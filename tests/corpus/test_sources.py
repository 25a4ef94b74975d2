from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpus import ReaderLimits, SourceFormatError, iter_records, iter_source_files
from synth.types import RecordProblem, SourceRef
from tests.corpus.files import DEFAULTS

ALL_EXTENSIONS = (".csv", ".docx", ".json", ".jsonl", ".md", ".pdf", ".txt")
TEXT_EXTENSIONS = (".csv", ".json", ".jsonl", ".md", ".txt")


def only_problem(path: Path, **kwargs: object) -> RecordProblem:
    items = list(iter_records(path, defaults=DEFAULTS, **kwargs))  # type: ignore[arg-type]
    assert len(items) == 1, items
    (problem,) = items
    assert isinstance(problem, RecordProblem)
    assert problem.source == SourceRef(file=str(path))
    assert problem.field is None
    return problem


@pytest.mark.parametrize("extension", TEXT_EXTENSIONS)
def test_not_utf8_file_is_one_problem(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"latin1{extension}"
    path.write_bytes("title,body\nCaf\u00e9,Cr\u00e8me br\u00fbl\u00e9e\n".encode("latin-1"))
    problem = only_problem(path)
    assert problem.message.startswith("is not UTF-8 text (invalid byte at offset 14)")


def test_not_utf8_late_in_jsonl_yields_no_partial_records(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    good = b'{"title": "T", "body": "B"}\n'
    path.write_bytes(good * 2000 + b'{"title": "\xff"}\n')
    problem = only_problem(path)
    assert f"offset {len(good) * 2000 + 11:,}" in problem.message


@pytest.mark.parametrize("extension", ALL_EXTENSIONS)
def test_empty_file_is_one_problem(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"empty{extension}"
    path.write_bytes(b"")
    assert only_problem(path).message == "is empty"


@pytest.mark.parametrize("extension", ALL_EXTENSIONS)
def test_file_over_max_file_bytes_is_one_problem(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"big{extension}"
    path.write_bytes(b"x" * 2_000)
    problem = only_problem(path, limits=ReaderLimits(max_file_bytes=1_000))
    assert problem.message == "2,000 bytes is over the max_file_bytes limit (1,000 bytes)"


def test_missing_file_and_folder_are_problems(tmp_path: Path) -> None:
    assert only_problem(tmp_path / "gone.jsonl").message.startswith("cannot be read: ")
    folder = tmp_path / "folder.md"
    folder.mkdir()
    assert only_problem(folder).message == "is not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_not_read(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    assert only_problem(pipe).message == "is not a regular file"


# --- iter_source_files --------------------------------------------------------------------


def make_tree(root: Path) -> None:
    for name in (
        "b.csv",
        "a.md",
        "notes.xlsx",
        "README",
        ".hidden.md",
        "~$locked.docx",
        "sub/z.PDF",
        "sub/c.jsonl",
        "sub/deeper/d.txt",
        ".git/config.json",
        "a-sub/e.ndjson",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_directories_expand_recursively_in_name_order(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = [path.relative_to(tmp_path).as_posix() for path in iter_source_files([tmp_path])]
    assert found == [
        "a-sub/e.ndjson",
        "a.md",
        "b.csv",
        "sub/c.jsonl",
        "sub/deeper/d.txt",
        "sub/z.PDF",
    ]


def test_named_files_are_kept_and_duplicates_dropped(tmp_path: Path) -> None:
    make_tree(tmp_path)
    paths = [
        tmp_path / "README",
        tmp_path / "sub",
        tmp_path / "sub" / "c.jsonl",
        tmp_path / ".hidden.md",
    ]
    found = [path.relative_to(tmp_path).as_posix() for path in iter_source_files(paths)]
    assert found == ["README", "sub/c.jsonl", "sub/deeper/d.txt", "sub/z.PDF", ".hidden.md"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.md").write_text("x")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "link.md").symlink_to(tmp_path / "real" / "a.md")
    found = [path.name for path in iter_source_files([tmp_path])]
    assert found == ["a.md"]


def test_missing_path_raises_naming_it_before_iteration(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x")
    missing = tmp_path / "nope"
    with pytest.raises(SourceFormatError) as info:
        iter_source_files([tmp_path, missing])
    assert info.value.file == str(missing)
    assert str(missing) in str(info.value)
