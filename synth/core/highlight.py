"""Find where query terms occur in a passage (by stem), for highlights and "why it matched"."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=1024)
def _query_stems(query: str) -> frozenset[str]:
    """:func:`stem_terms` of a query, remembered: each hit of a search highlights the same one."""
    return frozenset(stem_terms(query))


def compute_highlights(query: str, passage: str) -> list[tuple[int, int]]:
    """Return character spans of ``passage`` words whose stem is a query stem.

    Adjacent matches separated only by spaces or hyphens merge into one span.

    Example:
        >>> text = "Night staff joined the safety huddles."
        >>> [text[s:e] for s, e in compute_highlights("huddle for night shifts", text)]
        ['Night', 'huddles']
    """
    return list(_highlights(query, passage))


@functools.lru_cache(maxsize=256)
def _highlights(query: str, passage: str) -> tuple[tuple[int, int], ...]:
    """Highlights of one (query, passage) pair, remembered a while.

    A search asks twice per hit: for its highlights, then for its shared phrases.
    """
    wanted = _query_stems(query)
    if not wanted:
        return ()
    matches = list(_WORD.finditer(passage))
    words = [match.group().lower() for match in matches]
    spans: list[tuple[int, int]] = []
    # One call stems the whole passage rather than one call per word.
    for match, word, stem in zip(matches, words, _STEMMER.stemWords(words), strict=True):
        if stem not in wanted or word in STOP_WORDS:
            continue
        start, end = match.span()
        if spans and passage[spans[-1][1] : start].strip(" -") == "":
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return tuple(spans)


def compute_shared_phrases(query: str, passage: str, *, limit: int = 5) -> list[str]:
    """Return up to ``limit`` distinct highlighted phrases, longest first."""
    seen: dict[str, None] = {}
    for start, end in compute_highlights(query, passage):
        seen.setdefault(passage[start:end].lower(), None)
    phrases: Sequence[str] = sorted(seen, key=lambda p: (-len(p.split()), list(seen).index(p)))
    return list(phrases[:limit])
