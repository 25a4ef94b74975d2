"""Find personal data in free text and replace it with typed placeholders such as ``[PERSON]``.

Patterns are regexes with checksums and context cues; names come from a :class:`PersonFinder`
(an NER model loaded elsewhere) and are cleaned here. Placeholders match no pattern and are
never names, so redacting redacted text changes nothing.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "ALL_KINDS",
    "PersonFinder",
    "RedactionKind",
    "RedactionResult",
    "Span",
    "find_pattern_spans",
    "is_valid_chi_number",
    "is_valid_nhs_number",
    "redact",
    "redact_all",
]


class RedactionKind(enum.StrEnum):
    """A kind of personal data; its placeholder is its upper-case name in brackets."""

    PERSON = "person"
    EMAIL = "email"
    PHONE = "phone"
    POSTCODE = "postcode"
    NHS_NUMBER = "nhs_number"
    CHI_NUMBER = "chi_number"
    DATE_OF_BIRTH = "date_of_birth"

    @property
    def placeholder(self) -> str:
        """Return the replacement text, e.g. ``[NHS_NUMBER]``."""
        return f"[{self.name}]"


#: Every kind; the usual ``kinds`` argument.
ALL_KINDS: frozenset[RedactionKind] = frozenset(RedactionKind)
_KIND_ORDER = {kind: i for i, kind in enumerate(RedactionKind)}


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` of the original text and what it holds."""

    start: int
    end: int
    kind: RedactionKind

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end})")


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text, the merged spans (offsets into the *original* text) and counts per kind.

    ``counts`` is a read-only :class:`types.MappingProxyType` with every kind as a key (zero
    when absent). It takes part in ``==`` but not in ``hash()``: it is derived from ``spans``,
    so hashing ``text`` and ``spans`` alone stays consistent with equality.
    """

    text: str
    spans: tuple[Span, ...]
    counts: Mapping[RedactionKind, int] = field(hash=False)


class PersonFinder(Protocol):
    """Finds person names, e.g. with an NER model."""

    def find_persons(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Return, for each text, the ``(start, end)`` character spans of person names."""
        ...


_PLACEHOLDER = re.compile("|".join(re.escape(k.placeholder) for k in RedactionKind))
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
)
# Trunk prefix, then up to three digit groups; _phone_end keeps the groups that make 10 digits.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[ -]?(?:\(0\)[ -]?)?|0|\(0(?=\d{2,5}\)))"
    r"(\d{2,5}\)?(?:[ -]?\d{2,8}){0,2})"
    r"(?:,? ?(?:ext|extn|x)\.? ?\d{1,5})?(?!\d)",
    re.IGNORECASE,
)
_POSTCODE = re.compile(
    r"(?<![\w\[])(?:GIR ?0AA|ZZ99 ?\d[A-Z]{2}|[A-PR-UWYZ]"
    r"(?:[A-HK-Y]?\d\d?|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRVWXY]) ?\d[ABD-HJLNP-UW-Z]{2})(?![\w\]])",
    re.IGNORECASE,
)
_TEN_DIGITS = re.compile(r"(?<![\d.,/])(?:\d{3}([ -]?)\d{3}\1\d{4}|\d{6}[ -]\d{4})(?![\d/]|[.,]\d)")
_CHI_CUE = re.compile(r"\bCHI\b|Community Health Index", re.IGNORECASE)
# "NHS number 999 482 1736": a number written as an NHS number is redacted even when its
# check digit is wrong (a typo does not make it less personal).
_NHS_CUE = re.compile(r"\bNHS\s*(?:number|no\.?|num\.?|#)\s*(?:is|was|:|-)?\s*\Z", re.IGNORECASE)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"(?<![\w/.-])(?:(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|1[0-2])\1(?:\d{{4}}|\d{{2}})"
    rf"|{_DAY}(?: of)? {_MONTH},? \d{{4}}|{_MONTH} {_DAY},? \d{{4}})(?![\w/]|\.\d)",
    re.IGNORECASE,
)
_CUE = r"(?:(?i:\bD\.?O\.?B\b\.?|\bdate of birth\b|\bborn\b(?: on| in)?)|(?<![\w.])b\.)"
# The gap allows no letters or digits, except a few linking words, so replacing a span inside
# it never brings a date into reach of a cue: that keeps redaction idempotent.
_DOB_BEFORE = re.compile(
    rf"{_CUE}[\s:;,(=-]{{0,4}}(?:(?:is|was|as|recorded as|given as)[\s:;,(=-]{{1,3}})?\Z"
)
_DOB_AFTER = re.compile(rf"[\s,(-]{{0,3}}{_CUE}")
_TITLES = r"Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sister|Matron|Charge Nurse|Staff Nurse"
_TITLE = re.compile(rf"(?:(?:{_TITLES}|Sr|Nurse|Rev|Revd|Cllr|Sir|Dame|Lady|Lord)\b\.?\s+)+")
_TITLED_NAME = re.compile(  # up to three capitalised words or initials, not a role ("Sister Ward")
    rf"\b(?:{_TITLES})\.? (?!(?:Ward|Bay|Practitioner|Specialist|Consultant|Lead|Manager)\b)"
    r"((?:[A-Z]\. ?)*[A-Z][A-Za-z'’-]*[a-z](?: [A-Z][A-Za-z'’-]*[a-z]){0,2})"
)
# "14 Quarry Lane": a house number, then words ending in a street word.
_ADDRESS = re.compile(
    r"(?<=\d )[\w' ]+ (?:Road|Street|Avenue|Lane|Drive|Crescent|Terrace|Close|Row|Way|Place"
    r"|Court|Gardens|Grove|Walk|View)\b"
)
_ORG_WORD = re.compile(
    r"\b(?:hospitals?|trust|surgery|practice|cent(?:re|er)|council|unit|services?|home|pharmacy"
    r"|network|nhs|board|clinic|infirmary|hospice|team|partnership|foundation|health(?:care)?|care"
    r"|group|collaborative|university|college|school|academy|institute|general|royal|ltd|icb"
    r"|hscp|ccg)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def is_valid_nhs_number(digits: str) -> bool:
    """Return whether ten digits pass the NHS number modulus-11 check (weights 10 to 2).

    Example:
        >>> is_valid_nhs_number("9434765919"), is_valid_nhs_number("9434765918")
        (True, False)
    """
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    return check != 10 and check % 11 == int(digits[9])


def is_valid_chi_number(digits: str) -> bool:
    """Return whether ten digits are a CHI number: a real DDMMYY date, then the modulus-11 check.

    Example:
        >>> is_valid_chi_number("1403411239"), is_valid_chi_number("3102411231")
        (True, False)
    """
    if not is_valid_nhs_number(digits):
        return False
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if not 1 <= month <= 12:
        return False
    longest = max(calendar.monthrange(century + year, month)[1] for century in (1900, 2000))
    return 1 <= day <= longest


def _phone_end(match: re.Match[str]) -> int | None:
    """Return where the phone number in a candidate match ends, or None if it is not one."""
    national = match.group(1)
    if national[0] not in "1235789":
        return None
    count = 0
    for group in re.finditer(r"\d+", national):
        count += len(group.group())
        if count == 10:
            return match.end() if group.end() == len(national) else match.start(1) + group.end()
        if count > 10:
            return None
    return None


def _iter_phones(text: str) -> Iterable[Span]:
    """Yield phone numbers, searching again right after each one (a match may overreach)."""
    match = _PHONE.search(text)
    while match:
        end = _phone_end(match)
        if end is not None:
            yield Span(match.start(), end, RedactionKind.PHONE)
        match = _PHONE.search(text, end or match.start() + 1)


def _iter_health_numbers(text: str) -> Iterable[Span]:
    for match in _TEN_DIGITS.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if not is_valid_nhs_number(digits):
            if _NHS_CUE.search(text, max(0, match.start() - 25), match.start()):
                yield Span(match.start(), match.end(), RedactionKind.NHS_NUMBER)
            continue
        kind = RedactionKind.NHS_NUMBER
        if is_valid_chi_number(digits):
            window = text[max(0, match.start() - 40) : match.end() + 15]
            if _CHI_CUE.search(window):
                kind = RedactionKind.CHI_NUMBER
        yield Span(match.start(), match.end(), kind)


def _iter_dates_of_birth(text: str) -> Iterable[Span]:
    for match in _DATE.finditer(text):
        start, end = match.span()
        before = _DOB_BEFORE.search(text, max(0, start - 40), start)
        if before is not None or _DOB_AFTER.match(text, end, end + 12):
            yield Span(start, end, RedactionKind.DATE_OF_BIRTH)


def find_pattern_spans(text: str, kinds: frozenset[RedactionKind]) -> list[Span]:
    """Return the spans of pattern-detectable personal data of the given kinds (may overlap).

    A ten-digit number that passes the checksum is an NHS number, or a CHI number when its
    first six digits are a date and "CHI" is written near it. A date counts only near a
    birth cue ("DOB", "date of birth", "born on", "b."). Person names are not patterns.

    Example:
        >>> [s.kind.value for s in find_pattern_spans("DOB 14/03/1941", ALL_KINDS)]
        ['date_of_birth']
    """
    spans: list[Span] = []
    if RedactionKind.EMAIL in kinds:
        spans += (Span(*m.span(), RedactionKind.EMAIL) for m in _EMAIL.finditer(text))
    if RedactionKind.PHONE in kinds:
        spans += _iter_phones(text)
    if RedactionKind.POSTCODE in kinds:  # one case throughout: "Fy2 3rd" is prose
        codes = (m for m in _POSTCODE.finditer(text) if m[0] in (m[0].upper(), m[0].lower()))
        spans += (Span(*m.span(), RedactionKind.POSTCODE) for m in codes)
    if kinds & {RedactionKind.NHS_NUMBER, RedactionKind.CHI_NUMBER}:
        spans += (s for s in _iter_health_numbers(text) if s.kind in kinds)
    if RedactionKind.DATE_OF_BIRTH in kinds:
        spans += _iter_dates_of_birth(text)
    return spans


def _trim_person(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim spaces, punctuation, a possessive and leading titles ("Sister Ellis" -> "Ellis")."""
    segment = text[start:end]
    stripped = segment.lstrip(" \t\n\"'‘“(,")
    start += len(segment) - len(stripped)
    title = _TITLE.match(text, start, end)
    start = title.end() if title else start
    segment = text[start:end].rstrip(" \t\n\"'’”),.;:")
    segment = re.sub(r"['’]s?$", "", segment)
    return start, start + len(segment)


def _looks_like_name(text: str, start: int, end: int) -> bool:
    """Reject acronyms, scores ("NEWS2"), lower-case phrases, organisations and addresses."""
    segment = text[start:end]
    if _ADDRESS.match(text, start, end) or _TITLE.fullmatch(segment + " "):
        return False
    words = _WORD.findall(segment)
    if not words or any(ch.isdigit() for ch in segment) or re.fullmatch(r"[A-Z]{2,6}", segment):
        return False
    return any(word[0].isupper() for word in words) and not _ORG_WORD.search(segment)


def _titled_names(text: str) -> list[tuple[int, int]]:
    """Return names written after a title ("Dr Ewan Grant"): NER misses many of them."""
    return [m.span(1) for m in _TITLED_NAME.finditer(text)]


def _person_spans(text: str, found: Iterable[tuple[int, int]]) -> list[Span]:
    """Trim titles from raw name spans; drop placeholders and what does not look like a name."""
    held = [m.span() for m in _PLACEHOLDER.finditer(text)]
    spans: list[Span] = []
    for raw_start, raw_end in found:
        start, end = _trim_person(text, max(0, raw_start), min(len(text), raw_end))
        if start >= end or any(start < h_end and h_start < end for h_start, h_end in held):
            continue
        if _looks_like_name(text, start, end):
            spans.append(Span(start, end, RedactionKind.PERSON))
    return spans


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping spans into their union, typed by the longest member.

    Ties go to the kind listed first in :class:`RedactionKind`, then to the earlier start.
    """
    groups: list[list[Span]] = []
    group_end = -1
    for span in sorted(spans, key=lambda s: (s.start, s.end, _KIND_ORDER[s.kind])):
        if groups and span.start < group_end:
            groups[-1].append(span)
        else:
            groups.append([span])
        group_end = max(group_end, span.end)
    merged = []
    for group in groups:
        best = min(group, key=lambda s: (s.start - s.end, _KIND_ORDER[s.kind], s.start))
        merged.append(Span(group[0].start, max(s.end for s in group), best.kind))
    return merged


def redact(text: str, spans: Iterable[Span]) -> RedactionResult:
    """Replace the (merged) spans of ``text`` by their placeholders and count them per kind.

    Raises:
        ValueError: If a span ends beyond the text.

    Example:
        >>> redact("Call 01632 960412", [Span(5, 17, RedactionKind.PHONE)]).text
        'Call [PHONE]'
    """
    merged = _merge(spans)
    if merged and max(s.end for s in merged) > len(text):
        raise ValueError("a span ends beyond the text")
    parts: list[str] = []
    position = 0
    counts = dict.fromkeys(RedactionKind, 0)
    for span in merged:
        parts += (text[position : span.start], span.kind.placeholder)
        position = span.end
        counts[span.kind] += 1
    parts.append(text[position:])
    return RedactionResult("".join(parts), tuple(merged), MappingProxyType(counts))


def redact_all(
    texts: Sequence[str],
    *,
    kinds: frozenset[RedactionKind],
    person_finder: PersonFinder | None,
) -> list[RedactionResult]:
    """Redact a batch of texts: patterns for each, person names through one finder call.

    Names are looked for only when ``PERSON`` is in ``kinds`` and a finder is given; names
    after a title ("Dr Ewan Grant") are added to the finder's. Titles stay ("Sister [PERSON]");
    organisation, place and address-like spans, acronyms and placeholders are dropped.

    Raises:
        ValueError: If the finder returns a different number of results than texts.

    Example:
        >>> redact_all(["a.b@example.org"], kinds=ALL_KINDS, person_finder=None)[0].text
        '[EMAIL]'
    """
    persons: list[list[tuple[int, int]]] = [[] for _ in texts]
    if RedactionKind.PERSON in kinds and person_finder is not None and texts:
        found = person_finder.find_persons(texts)
        if len(found) != len(texts):
            raise ValueError(f"person finder returned {len(found)} results for {len(texts)}")
        persons = [[*raw, *_titled_names(text)] for text, raw in zip(texts, found, strict=True)]
    return [
        redact(text, find_pattern_spans(text, kinds) + _person_spans(text, raw))
        for text, raw in zip(texts, persons, strict=True)
    ]
