from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from synth.core.dedupe import (
    compute_content_hash,
    compute_entry_vector,
    find_near_duplicates,
)
from synth.core.normalise import normalise_text
from synth.core.pseudonym import pseudonymise_author


def test_normalise_nfc_whitespace_and_boilerplate() -> None:
    raw = "Cafe\u0301  huddle\t notes  \r\n\n\n\nPage 2 of 9\nSent from my iPhone\n"
    assert normalise_text(raw) == "Café huddle notes"


def test_normalise_keeps_paragraphs() -> None:
    assert normalise_text("One.\n\n\n\nTwo.") == "One.\n\nTwo."


@given(st.text(max_size=300))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


def test_content_hash_ignores_case_punctuation_spacing() -> None:
    assert compute_content_hash("Falls fell, a lot!") == compute_content_hash("falls  fell a lot")
    assert compute_content_hash("Falls fell") != compute_content_hash("Falls rose")


def test_near_duplicates_against_store_and_within_batch() -> None:
    a = np.array([[1.0, 0.0]], dtype=np.float32)
    new = np.array([[0.99, 0.141], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    assert find_near_duplicates(new, a, threshold=0.95) == [0, None, 2]


@given(st.lists(st.lists(st.floats(-1, 1), min_size=3, max_size=3), min_size=1, max_size=5))
def test_entry_vector_is_unit_or_zero(rows: list[list[float]]) -> None:
    matrix = np.array(rows, dtype=np.float32)
    vector = compute_entry_vector(matrix)
    norm = float(np.linalg.norm(vector))
    assert norm < 1e-6 or abs(norm - 1) < 1e-4


def test_pseudonym_is_stable_and_keyed() -> None:
    a = pseudonymise_author("Anna Kowalski", b"key-1")
    assert a == pseudonymise_author("  anna   KOWALSKI ", b"key-1")
    assert a != pseudonymise_author("Anna Kowalski", b"key-2")
    assert "anna" not in a.lower()
