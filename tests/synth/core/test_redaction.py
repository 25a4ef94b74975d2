"""Unit and property tests for synth.core.redaction (patterns, merging, persons, idempotence)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synth.core.redaction import (
    ALL_KINDS,
    RedactionKind,
    RedactionResult,
    Span,
    find_pattern_spans,
    is_valid_chi_number,
    is_valid_nhs_number,
    redact,
    redact_all,
)

K = RedactionKind
PATTERN_KINDS = ALL_KINDS - {K.PERSON}


def found(text: str, kinds: frozenset[RedactionKind] = PATTERN_KINDS) -> list[tuple[str, K]]:
    """Return (matched text, kind) for the merged pattern spans of ``text``."""
    result = redact(text, find_pattern_spans(text, kinds))
    return [(text[s.start : s.end], s.kind) for s in result.spans]


def nhs_check_digit(nine: str) -> int | None:
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return None if check == 10 else check % 11


class RegexFinder:
    """A deterministic PersonFinder for tests: every run of two capitalised words is a name."""

    def __init__(self) -> None:
        self.calls = 0

    def find_persons(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        self.calls += 1
        pattern = re.compile(r"[A-Z][a-z]+ [A-Z][a-z]+")
        return [[m.span() for m in pattern.finditer(text)] for text in texts]


class FixedFinder:
    """A PersonFinder that returns given spans (what an NER model might say)."""

    def __init__(self, spans: list[list[tuple[int, int]]]) -> None:
        self.spans = spans

    def find_persons(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.spans


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "maggie.ellis@harbourside.example.nhs.uk",
        "qi-team@westmoor-pct.example",
        "r.evans+care@example.co.uk",
        "DATA.RETURNS@Example.NHS.UK",
        "j_mensah@improvement-network.example.org",
    ],
)
def test_email_is_found_whole(email: str) -> None:
    assert found(f"Send it to {email}, thanks.") == [(email, K.EMAIL)]


@pytest.mark.parametrize(
    "text", ["user at example dot com", "@harbourside on social media", "a@b", "x@y.c", "a@@b.com"]
)
def test_email_negatives(text: str) -> None:
    assert found(text) == []


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "01632 960412",
        "01632960412",
        "01632 960 412",
        "07700 900318",
        "07700-900-318",
        "07700 900 318",
        "020 7946 0552",
        "0113 496 0231",
        "0161-496-0874",
        "+44 7700 900129",
        "+447700900129",
        "+44 (0)20 7946 0123",
        "0044 20 7946 0123",
        "(01632) 960 777",
        "(020) 7946 0552",
        "01632 960412 ext. 204",
        "01632 960412 x204",
        "0800 123 4567",
    ],
)
def test_phone_is_found_whole(phone: str) -> None:
    assert found(f"Call {phone} today.") == [(phone, K.PHONE)]


def test_phone_drops_a_trailing_number_group() -> None:
    assert found("Ring 07700 900318 24 hours a day.") == [("07700 900318", K.PHONE)]


@pytest.mark.parametrize(
    "text",
    [
        "We audited 1,204 charts and 0.87 were complete.",
        "Area code 01632 only.",
        "Scores 0 1 2 3 4 5 6 7 8 9 10 on the pain scale.",
        "Audit ref 2023 0416 8812 closed.",
        "Clinic 09:00 to 17:00 on 12/06/2024.",
        "Code 06123 456789 is not a UK number.",
        "Too long: 07700 900 12345.",
        "Staff completed 0116 audits.",
    ],
)
def test_phone_negatives(text: str) -> None:
    assert [kind for _, kind in found(text)] == []


# --- postcode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        *("LS6 2QT", "ls6 2qt", "G12 8QQ", "M145RT", "SW1A 1AA", "EC1A 1BB", "W1A 0AX"),
        *("CF10 3AT", "GIR 0AA", "ZZ99 3VZ", "KW15 1BX", "M1 1AE"),
    ],
)
def test_postcode_is_found(code: str) -> None:
    assert found(f"Lives at {code}.") == [(code, K.POSTCODE)]


@pytest.mark.parametrize(
    "text",
    [
        "A NEWS2 of 5 triggered a review.",
        "NEWS2 5 at 02:00.",
        "Ward A1 and Ward B2 piloted it.",
        "Ward 7B moved.",
        "Q1 2AB is not valid (Q cannot start a postcode).",
        "The Fy2 3rd rotation started.",
        "LS6 2CI has C and I in the inward code.",
        "Covid19 cases fell; B12 levels were checked.",
        "SBAR and PDSA 3 of 5.",
    ],
)
def test_postcode_negatives(text: str) -> None:
    assert found(text, frozenset({K.POSTCODE})) == []


# --- NHS and CHI numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "943-476-5919"])
def test_valid_nhs_number_is_found(number: str) -> None:
    assert found(f"NHS number {number} on the band.") == [(number, K.NHS_NUMBER)]


@pytest.mark.parametrize(
    "text",
    [
        "NHS 943 476 5918 fails the checksum.",
        "Mixed separators 943 476-5919 are not a format.",
        "Row 0000000000 and 1111111111 are fillers.",
        "Eleven digits 19434765919 are not one.",
        "Decimal 0.9434765919 is a ratio.",
        "Batch 8038528084 was recalled.",
    ],
)
def test_nhs_negatives(text: str) -> None:
    assert found(text) == []


def test_nhs_checksum_edge_cases() -> None:
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("943476591")
    assert not is_valid_nhs_number("94347659190")
    assert not is_valid_nhs_number("943476591a")
    assert not is_valid_nhs_number("4444444444")  # checksum passes, but a filler
    # a prefix whose check digit would be 10 is never valid, whatever the last digit
    prefix = next(
        f"{n:09d}" for n in range(400000000, 400001000) if nhs_check_digit(f"{n:09d}") is None
    )
    assert not any(is_valid_nhs_number(prefix + str(d)) for d in range(10))
    # check digit 11 becomes 0
    zero = next(f"{n:09d}" for n in range(400000000, 400001000) if nhs_check_digit(f"{n:09d}") == 0)
    assert is_valid_nhs_number(zero + "0")


def chi_like(prefix: str) -> str:
    """Return a ten-digit number starting ``prefix`` with a valid modulus-11 check digit."""
    for serial in range(1000):
        nine = f"{prefix}{serial:03d}"
        check = nhs_check_digit(nine)
        if check is not None and len(set(nine + str(check))) > 1:
            return nine + str(check)
    raise AssertionError(prefix)


def test_chi_checksum_examples() -> None:
    assert is_valid_chi_number("1403411239")
    assert not is_valid_chi_number("1403411238")  # bad check digit
    assert not is_valid_chi_number("3102411231")  # 31 February: checksum fine, date not


@pytest.mark.parametrize(
    ("prefix", "valid"),
    [
        ("290200", True),  # 1900 was not a leap year but 2000 was; the century is not written
        ("290296", True),
        ("290201", False),
        ("290297", False),
        ("311241", True),
        ("310441", False),  # April has 30 days
        ("001241", False),
        ("011341", False),
        ("010041", False),
    ],
)
def test_chi_date_rules(prefix: str, valid: bool) -> None:
    number = chi_like(prefix)
    assert is_valid_nhs_number(number)
    assert is_valid_chi_number(number) is valid


@pytest.mark.parametrize(
    "text",
    [
        "CHI 0811290794 was entered.",
        "Her CHI number is 1806789523.",
        "The CHI (230979 0788) was a day out.",
        "Community Health Index number 2107073139 was missing.",
        "The GP wrote 1503145905 (CHI) on it.",
    ],
)
def test_chi_with_a_cue(text: str) -> None:
    assert [kind for _, kind in found(text)] == [K.CHI_NUMBER]


def test_chi_valid_number_without_a_cue_is_an_nhs_number() -> None:
    assert found("Number 0811290794 was entered.") == [("0811290794", K.NHS_NUMBER)]
    far = "CHI was mentioned long, long, long ago in this note; later 0811290794 appeared."
    assert found(far) == [("0811290794", K.NHS_NUMBER)]


def test_chi_cue_does_not_turn_an_invalid_date_into_chi() -> None:
    assert found("CHI 3102411231 on the form.") == [("3102411231", K.NHS_NUMBER)]


def test_kinds_select_between_nhs_and_chi() -> None:
    text = "NHS 9434765919 and CHI 0811290794."
    assert found(text, frozenset({K.CHI_NUMBER})) == [("0811290794", K.CHI_NUMBER)]
    assert found(text, frozenset({K.NHS_NUMBER})) == [("9434765919", K.NHS_NUMBER)]


# --- dates of birth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("DOB 14/03/1941, admitted.", "14/03/1941"),
        ("D.O.B.: 07.11.1949 missing.", "07.11.1949"),
        ("dob: 4/5/33", "4/5/33"),
        ("Her date of birth is 2 August 1938.", "2 August 1938"),
        ("He was born on March 14th, 1952 in Dundee.", "March 14th, 1952"),
        ("Mrs T (b. 21 June 1947) asked.", "21 June 1947"),
        ("Born 1st December 1944, she lived alone.", "1st December 1944"),
        ("Date of birth: 30-01-1960; allergies none.", "30-01-1960"),
        ("The band showed 04/05/33 (DOB), wrongly.", "04/05/33"),
        ("DOB recorded as 14th of March 1941.", "14th of March 1941"),
        ("born in Sept 9, 1956 records", "Sept 9, 1956"),
        ("DOB Dec. 1, 1944", "Dec. 1, 1944"),
    ],
)
def test_date_of_birth_with_a_cue(text: str, date: str) -> None:
    assert found(text) == [(date, K.DATE_OF_BIRTH)]


@pytest.mark.parametrize(
    "text",
    [
        "The huddle on 14/03/2024 agreed the change.",
        "Cycle 3 started on 2 October 2023.",
        "The next event is on March 14th, 2025.",
        "The network was born in 2019 out of two collaboratives.",
        "We were born out of a merger; the first meeting was 3 May 2019.",
        "DOB unknown; reviewed 14/03/2024 by the team.",
        "Plan B. 14/03/2024 is the go-live.",
        "Dates 31/02/2024 and 14/13/2024 are not dates at all, DOB or not.",
    ],
)
def test_ordinary_dates_are_kept(text: str) -> None:
    assert [kind for _, kind in found(text)] == []


# --- merging, counts, results -----------------------------------------------------------------


def test_redact_replaces_and_counts() -> None:
    text = "Ring 07700 900318 or email a.b@example.org, or 01632 960412."
    result = redact_all([text], kinds=ALL_KINDS, person_finder=None)[0]
    assert result.text == "Ring [PHONE] or email [EMAIL], or [PHONE]."
    assert result.counts[K.PHONE] == 2
    assert result.counts[K.EMAIL] == 1
    assert result.counts[K.PERSON] == 0
    assert set(result.counts) == set(RedactionKind)


def test_overlapping_spans_merge_into_their_union_typed_by_the_longest() -> None:
    text = "abcdefghijklmnop"
    spans = [Span(2, 6, K.PHONE), Span(4, 12, K.PERSON), Span(10, 13, K.EMAIL)]
    result = redact(text, spans)
    assert result.spans == (Span(2, 13, K.PERSON),)
    assert result.text == "ab[PERSON]nop"
    assert result.counts[K.PERSON] == 1 and sum(result.counts.values()) == 1


def test_equal_length_tie_goes_to_the_kind_listed_first() -> None:
    spans = [Span(0, 4, K.POSTCODE), Span(2, 6, K.PHONE)]
    assert redact("abcdefgh", spans).spans == (Span(0, 6, K.PHONE),)
    assert redact("abcdefgh", list(reversed(spans))).spans == (Span(0, 6, K.PHONE),)


def test_touching_spans_stay_apart_and_duplicates_collapse() -> None:
    spans = [Span(0, 2, K.EMAIL), Span(2, 4, K.PHONE), Span(0, 2, K.EMAIL)]
    result = redact("abcdef", spans)
    assert result.spans == (Span(0, 2, K.EMAIL), Span(2, 4, K.PHONE))
    assert result.text == "[EMAIL][PHONE]ef"


def test_invalid_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid span"):
        Span(3, 3, K.EMAIL)
    with pytest.raises(ValueError, match="invalid span"):
        Span(-1, 2, K.EMAIL)
    with pytest.raises(ValueError, match="beyond"):
        redact("abc", [Span(1, 4, K.EMAIL)])


def test_result_is_frozen_and_hashable() -> None:
    first = redact("Call 01632 960412", [Span(5, 17, K.PHONE)])
    second = redact("Call 01632 960412", [Span(5, 17, K.PHONE)])
    assert first == second and hash(first) == hash(second)
    assert {first, second} == {first}
    with pytest.raises(TypeError):
        first.counts[K.PHONE] = 5  # type: ignore[index]
    with pytest.raises(AttributeError):
        first.text = "x"  # type: ignore[misc]


def test_redacting_redacted_text_changes_nothing() -> None:
    text = (
        "Sister Maggie Ellis (maggie.ellis@example.org, 07700 900318), DOB 14/03/1941, "
        "NHS 943 476 5919, CHI 0811290794, LS6 2QT."
    )
    finder = RegexFinder()
    once = redact_all([text], kinds=ALL_KINDS, person_finder=finder)[0]
    assert once.text == (
        "Sister [PERSON] ([EMAIL], [PHONE]), DOB [DATE_OF_BIRTH], "
        "NHS [NHS_NUMBER], CHI [CHI_NUMBER], [POSTCODE]."
    )
    twice = redact_all([once.text], kinds=ALL_KINDS, person_finder=finder)[0]
    assert twice.text == once.text and twice.spans == ()


# --- persons ----------------------------------------------------------------------------------


def person_text(text: str, spans: list[tuple[int, int]]) -> str:
    return redact_all([text], kinds=ALL_KINDS, person_finder=FixedFinder([spans]))[0].text


def test_titles_stay_and_names_go() -> None:
    text = "Sister Maggie Ellis met Dr. Amir Haddad and Mr Reid's wife."
    spans = [(0, 19), (24, 39), (44, 53)]
    assert person_text(text, spans) == "Sister [PERSON] met Dr. [PERSON] and Mr [PERSON]'s wife."


def test_names_after_a_title_are_found_without_the_finder() -> None:
    text = "Charge Nurse Callum Fraser and Dr A. Grant met Sister Ward staff."
    assert person_text(text, []) == "Charge Nurse [PERSON] and Dr [PERSON] met Sister Ward staff."


def test_names_after_a_title_need_a_finder() -> None:
    text = "Dr Ewan Grant phoned."
    assert redact_all([text], kinds=ALL_KINDS, person_finder=None)[0].text == text


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Harbourside General Hospital joined.", (0, 28)),
        ("Harbourside General joined.", (0, 19)),
        ("Westmoor Practice team met.", (0, 17)),
        ("NHS Westmoor Board funded it.", (0, 18)),
        ("A NEWS2 of 5 was recorded.", (2, 7)),
        ("The SBAR tool helped.", (4, 8)),
        ("She lives at 14 Quarry Lane with her son.", (16, 27)),
        ("Cavell Unit reopened.", (0, 11)),
        ("the patient was settled.", (0, 11)),
        ("Sister was on the ward.", (0, 6)),
    ],
)
def test_organisation_place_and_non_names_are_not_persons(text: str, span: tuple[int, int]) -> None:
    assert person_text(text, [span]) == text


def test_placeholders_are_never_names() -> None:
    text = "Sister [PERSON] spoke to [PERSON] and [EMAIL]."
    spans = [(0, 15), (7, 15), (26, 32), (38, 45)]
    assert person_text(text, spans) == text


def test_persons_only_when_asked_for() -> None:
    finder = RegexFinder()
    text = "Maggie Ellis rang 07700 900318."
    result = redact_all([text], kinds=PATTERN_KINDS, person_finder=finder)[0]
    assert result.text == "Maggie Ellis rang [PHONE]." and finder.calls == 0
    assert redact_all([], kinds=ALL_KINDS, person_finder=finder) == [] and finder.calls == 0
    result = redact_all([text], kinds=frozenset({K.PERSON}), person_finder=finder)[0]
    assert result.text == "[PERSON] rang 07700 900318." and finder.calls == 1


def test_a_finder_with_the_wrong_number_of_results_is_an_error() -> None:
    with pytest.raises(ValueError, match="results"):
        redact_all(["a", "b"], kinds=ALL_KINDS, person_finder=FixedFinder([[]]))


# --- properties -------------------------------------------------------------------------------

DIGIT = st.sampled_from("0123456789")
FILLER = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.;:", min_size=0, max_size=12)
PLACEHOLDERS = st.sampled_from([k.placeholder for k in RedactionKind])


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,10}", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}", fullmatch=True))
    return f"{local}@{domain}.{draw(st.sampled_from(['org', 'com', 'uk', 'scot']))}"


@st.composite
def phones(draw: st.DrawFn) -> str:
    digits = "".join(draw(st.lists(DIGIT, min_size=8, max_size=8)))
    first = draw(st.sampled_from("1237"))
    national = first + draw(DIGIT) + digits
    layout = draw(st.sampled_from(["0{a} {b}", "0{a}{b}", "0{a}-{b}", "+44 {a} {b}", "+44{a}{b}"]))
    split = draw(st.integers(2, 5))
    return layout.format(a=national[:split], b=national[split:])


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    nine = "".join(draw(st.lists(DIGIT, min_size=9, max_size=9)))
    check = nhs_check_digit(nine)
    number = nine + str(check if check is not None else 0)
    if not is_valid_nhs_number(number):
        number = "9434765919"
    sep = draw(st.sampled_from(["", " ", "-"]))
    return f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"


SECRETS = st.one_of(emails(), phones(), nhs_numbers())


@given(st.lists(st.one_of(FILLER, SECRETS, SECRETS), min_size=1, max_size=8))
def test_no_email_phone_or_nhs_number_survives(parts: list[str]) -> None:
    text = " ".join(parts)
    result = redact_all([text], kinds=ALL_KINDS, person_finder=None)[0]
    for part in parts:
        if re.search(r"\d|@", part):
            assert part not in result.text


TEXT_PARTS = st.one_of(FILLER, SECRETS, PLACEHOLDERS, st.sampled_from(["Maggie Ellis", "Dr Grant"]))


@given(st.lists(TEXT_PARTS, max_size=8))
def test_redaction_is_idempotent_and_keeps_placeholders(parts: list[str]) -> None:
    text = " ".join(parts)
    finder = RegexFinder()
    once = redact_all([text], kinds=ALL_KINDS, person_finder=finder)[0]
    twice = redact_all([once.text], kinds=ALL_KINDS, person_finder=finder)[0]
    assert twice.text == once.text
    for placeholder in {k.placeholder for k in RedactionKind}:
        assert once.text.count(placeholder) >= text.count(placeholder)


@st.composite
def texts_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(st.text(alphabet="ab [].-0123", min_size=1, max_size=40))
    bounds = st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text)))
    pairs = draw(st.lists(bounds.filter(lambda p: p[0] < p[1]), max_size=6))
    kinds = st.sampled_from(list(RedactionKind))
    return text, [Span(start, end, draw(kinds)) for start, end in pairs]


def rebuild(text: str, result: RedactionResult) -> str:
    out, position = [], 0
    for span in result.spans:
        out += [text[position : span.start], span.kind.placeholder]
        position = span.end
    return "".join([*out, text[position:]])


@given(texts_and_spans())
def test_merged_spans_are_in_bounds_ordered_and_apart(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    result = redact(text, spans)
    assert all(0 <= s.start < s.end <= len(text) for s in result.spans)
    assert all(a.end <= b.start for a, b in zip(result.spans, result.spans[1:], strict=False))
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert covered == {i for s in result.spans for i in range(s.start, s.end)}
    assert sum(result.counts.values()) == len(result.spans)


@given(texts_and_spans())
def test_text_outside_spans_is_preserved(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    result = redact(text, spans)
    assert result.text == rebuild(text, result)
    kept = [text[a.end : b.start] for a, b in zip(result.spans, result.spans[1:], strict=False)]
    assert all(piece in result.text for piece in kept)
