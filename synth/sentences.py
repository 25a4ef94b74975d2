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
        results: list[list[tuple[int, int]]] = []
        for text in texts:
            spans: list[tuple[int, int]] = []
            offset = 0
            for paragraph in text.split("\n\n"):
                if paragraph.strip():
                    for sent in self._nlp(paragraph).sents:
                        start, end = _trim(paragraph, sent.start_char, sent.end_char)
                        if end > start:
                            spans.append((offset + start, offset + end))
                offset += len(paragraph) + 2
            results.append(spans)
        return results


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
