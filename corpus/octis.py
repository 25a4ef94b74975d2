"""Read a topic-modelling benchmark in OCTIS layout: preprocessed documents with gold labels.

Layout: a folder holding ``corpus.tsv`` (one document per line: space-separated tokens, a tab,
the partition, a tab, the label), or a dataset folder with such a folder named
``octis_preprocessed/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.formats import SourceFormatError

__all__ = ["OctisDataset", "load_octis"]


@dataclass(frozen=True, slots=True)
class OctisDataset:
    """Tokenised documents and their gold labels, in file order."""

    name: str
    documents: tuple[tuple[str, ...], ...]
    labels: tuple[str, ...]


def _corpus_file(folder: Path) -> Path:
    for candidate in (folder / "corpus.tsv", folder / "octis_preprocessed" / "corpus.tsv"):
        if candidate.is_file():
            return candidate
    raise SourceFormatError(
        "no corpus.tsv here or in octis_preprocessed/: give an OCTIS dataset folder",
        file=folder,
    )


def load_octis(folder: Path) -> OctisDataset:
    """Load the OCTIS corpus under ``folder`` (tokens and labels of every document).

    Raises:
        SourceFormatError: The corpus is missing, or a line lacks its label (file and line named).
    """
    path = _corpus_file(folder)
    try:
        documents, labels = _read_corpus(path)
    except UnicodeDecodeError:
        raise SourceFormatError("is not UTF-8 text; re-save it as UTF-8", file=path) from None
    if not documents:
        raise SourceFormatError("the corpus has no documents", file=path)
    return OctisDataset(name=folder.name, documents=tuple(documents), labels=tuple(labels))


def _read_corpus(path: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    documents: list[tuple[str, ...]] = []
    labels: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or not fields[2].strip():
                raise SourceFormatError(
                    f"line {number}: expected 'tokens<TAB>partition<TAB>label'", file=path
                )
            documents.append(tuple(fields[0].split()))
            labels.append(fields[2].strip())
    return documents, labels
