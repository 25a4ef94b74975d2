"""The OCTIS corpus reader: tokens and labels, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.formats import SourceFormatError
from corpus.octis import load_octis


def test_reads_tokens_and_labels_from_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "news" / "octis_preprocessed"
    folder.mkdir(parents=True)
    (folder / "corpus.tsv").write_text(
        "goal match win\ttrain\tsport\n\nvote poll\ttest\tpolitics\n"
    )
    data = load_octis(tmp_path / "news")
    assert data.name == "news"
    assert data.documents == (("goal", "match", "win"), ("vote", "poll"))
    assert data.labels == ("sport", "politics")


def test_line_without_label_is_named(tmp_path: Path) -> None:
    (tmp_path / "corpus.tsv").write_text("goal match\ttrain\tsport\nvote poll\ttest\n")
    with pytest.raises(SourceFormatError, match=r"corpus\.tsv: line 2"):
        load_octis(tmp_path)


def test_missing_corpus(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match=r"no corpus\.tsv"):
        load_octis(tmp_path)
