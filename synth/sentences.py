"""Sentence boundaries from spaCy's rule-based sentencizer (fast; no trained model)."""

from __future__ import annotations

from collections.abc import Sequence

import spacy

__all__ = ["SpacySentenceSplitter"]


class SpacySentenceSplitter:
    """Split texts into sentences with ``spacy.blank("en")`` + ``sentencizer``.

    Paragraph breaks (blank lines) always end a sentence, so a heading or list item
    never runs into the next paragraph.
    """

    def __init__(self) -> None:
        self._nlp = spacy.blank("en")
        self._nlp.add_pipe("sentencizer")

    def split(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Return sentence (start, end) character spans per text, whitespace trimmed."""
        pieces: list[tuple[int, int, str]] = []  # (text index, offset, paragraph)
        for index, text in enumerate(texts):
            offset = 0
            for paragraph in text.split("\n\n"):
                if paragraph.strip():
                    pieces.append((index, offset, paragraph))
                offset += len(paragraph) + 2
        results: list[list[tuple[int, int]]] = [[] for _ in texts]
        docs = self._nlp.pipe(p for _, _, p in pieces)
        for (index, offset, paragraph), doc in zip(pieces, docs, strict=True):
            for sent in doc.sents:
                start, end = _trim(paragraph, sent.start_char, sent.end_char)
                if end > start:
                    results[index].append((offset + start, offset + end))
        return results


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
