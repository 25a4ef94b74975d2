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


#: Lower-case word -> stem, shared by all searches; it stops growing when full.
_STEMS: dict[str, str] = {}
_STEMS_LIMIT = 200_000


def _stems(words: list[str]) -> list[str]:
    """Stems of ``words``, from the memo (the stemmer runs once per new word)."""
    memo = _STEMS
    new = [w for w in dict.fromkeys(words) if w not in memo]
    if not new:
        return [memo[w] for w in words]
    fresh = dict(zip(new, _STEMMER.stemWords(new), strict=True))
    if len(memo) + len(fresh) <= _STEMS_LIMIT:
        memo.update(fresh)
    return [fresh[w] if w in fresh else memo[w] for w in words]


#: Snowball's English stemmer changes only a word's ending, so a word's stem and the word
#: share their first two letters — except these three irregular forms (dying -> die).
_IRREGULAR_HEADS = {"die": "dy", "lie": "ly", "tie": "ty"}


_JOINERS = "'’-"  # join two runs of letters into one word of ``_WORD``


@functools.lru_cache(maxsize=1024)
def _heads(query: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The query's stems, and the first two letters that a passage word needs to stem to one."""
    wanted = _query_stems(query)
    heads = {stem[:2] for stem in wanted} | {
        _IRREGULAR_HEADS[stem] for stem in wanted if stem in _IRREGULAR_HEADS
    }
    return wanted, tuple(sorted(heads))


def _word_starts(lowered: str, heads: tuple[str, ...]) -> list[int]:
    """Offsets where a word of ``_WORD`` begins with one of ``heads``, in order.

    A word begins at a letter or digit (what ``_WORD`` counts: ``str.isalnum``) after none,
    nor after an apostrophe or hyphen that follows one (which joins it to the word before).
    """
    found: set[int] = set()
    for head in heads:
        at = lowered.find(head)
        while at != -1:
            joined = at >= 2 and lowered[at - 1] in _JOINERS and lowered[at - 2].isalnum()
            if not (at and lowered[at - 1].isalnum()) and not joined:
                found.add(at)
            at = lowered.find(head, at + 1)
    return sorted(found)


@functools.lru_cache(maxsize=256)
def _highlights(query: str, passage: str) -> tuple[tuple[int, int], ...]:
    """Highlights of one (query, passage) pair, remembered a while.

    A search asks twice per hit: for its highlights, then for its shared phrases.
    """
    wanted, heads = _heads(query)
    if not wanted:
        return ()
    lowered = passage.lower()
    if len(lowered) != len(passage):  # a letter whose lower case is longer (e.g. "İ")
        return _highlights_slowly(wanted, passage)
    spans: list[tuple[int, int]] = []
    memo = _STEMS
    for start in _word_starts(lowered, heads):
        match = _WORD.match(lowered, start)
        assert match is not None  # a letter or digit begins a word
        word = match.group()
        if word in STOP_WORDS:
            continue
        stem = memo.get(word)
        if (stem if stem is not None else _stems([word])[0]) in wanted:
            _extend(spans, passage, *match.span())
    return tuple(spans)


def _highlights_slowly(wanted: frozenset[str], passage: str) -> tuple[tuple[int, int], ...]:
    """:func:`_highlights` by stemming every word (offsets of the original text)."""
    matches = list(_WORD.finditer(passage))
    words = [match.group().lower() for match in matches]
    spans: list[tuple[int, int]] = []
    for match, word, stem in zip(matches, words, _stems(words), strict=True):
        if stem in wanted and word not in STOP_WORDS:
            _extend(spans, passage, *match.span())
    return tuple(spans)


def _extend(spans: list[tuple[int, int]], passage: str, start: int, end: int) -> None:
    """Append a span, merged with the last one when only spaces or hyphens lie between."""
    if spans and passage[spans[-1][1] : start].strip(" -") == "":
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


def compute_shared_phrases(query: str, passage: str, *, limit: int = 5) -> list[str]:
    """Return up to ``limit`` distinct highlighted phrases, longest first."""
    seen: dict[str, None] = {}
    for start, end in compute_highlights(query, passage):
        seen.setdefault(passage[start:end].lower(), None)
    phrases: Sequence[str] = sorted(seen, key=lambda p: (-len(p.split()), list(seen).index(p)))
    return list(phrases[:limit])
