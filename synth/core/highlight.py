"""Find where query terms occur in a passage (by stem), for highlights and "why it matched"."""

from __future__ import annotations

import re
from collections.abc import Sequence

import Stemmer
from spacy.lang.en.stop_words import STOP_WORDS

__all__ = ["compute_highlights", "compute_shared_phrases", "stem_terms"]

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_STEMMER = Stemmer.Stemmer("english")


def stem_terms(text: str) -> set[str]:
    """Return the stems of the content words of ``text`` (lower-case, stop words dropped)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return {s for s in _STEMMER.stemWords([w for w in words if w not in STOP_WORDS]) if s}


def compute_highlights(query: str, passage: str) -> list[tuple[int, int]]:
    """Return character spans of ``passage`` words whose stem is a query stem.

    Adjacent matches separated only by spaces or hyphens merge into one span.

    Example:
        >>> text = "Night staff joined the safety huddles."
        >>> [text[s:e] for s, e in compute_highlights("huddle for night shifts", text)]
        ['Night', 'huddles']
    """
    wanted = stem_terms(query)
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(passage):
        word = match.group().lower()
        if word in STOP_WORDS or _STEMMER.stemWord(word) not in wanted:
            continue
        start, end = match.span()
        if spans and passage[spans[-1][1] : start].strip(" -") == "":
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def compute_shared_phrases(query: str, passage: str, *, limit: int = 5) -> list[str]:
    """Return up to ``limit`` distinct highlighted phrases, longest first."""
    seen: dict[str, None] = {}
    for start, end in compute_highlights(query, passage):
        seen.setdefault(passage[start:end].lower(), None)
    phrases: Sequence[str] = sorted(seen, key=lambda p: (-len(p.split()), list(seen).index(p)))
    return list(phrases[:limit])
