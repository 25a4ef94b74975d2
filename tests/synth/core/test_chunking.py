from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from synth.core.chunking import build_chunks, count_words, fit_chunks_to_window
from synth.sentences import SpacySentenceSplitter

SPLITTER = SpacySentenceSplitter()


def chunks_of(text: str, **kw: int) -> list[str]:
    spans = SPLITTER.split([text])[0]
    return [c.text for c in build_chunks(text, spans, **kw)]


def test_sentences_are_packed_up_to_target() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten."
    assert chunks_of(text, target_words=6, max_words=8) == [
        "One two three. Four five six.",
        "Seven eight nine. Ten.",
    ]


def test_never_exceeds_max_words_by_adding_a_sentence() -> None:
    text = "Ward seven tried huddles daily. Night staff joined them after two weeks of trying."
    assert chunks_of(text, target_words=9, max_words=10) == [
        "Ward seven tried huddles daily.",
        "Night staff joined them after two weeks of trying.",
    ]


def test_overlong_sentence_is_cut_at_word_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(25))
    parts = chunks_of(text, target_words=10, max_words=10)
    assert [count_words(p) for p in parts] == [10, 10, 5]


def test_overlap_repeats_trailing_sentence() -> None:
    text = "Aa bb. Cc dd. Ee ff."
    assert chunks_of(text, target_words=4, max_words=6, overlap_sentences=1) == [
        "Aa bb. Cc dd.",
        "Cc dd. Ee ff.",
    ]


def test_paragraph_break_ends_a_sentence() -> None:
    text = "Heading without stop\n\nBody sentence here."
    spans = SPLITTER.split([text])[0]
    assert [text[s:e] for s, e in spans] == ["Heading without stop", "Body sentence here."]


sentence = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=12), st.integers(5, 40), st.integers(0, 2))
def test_chunks_map_back_to_the_body(parts: list[str], target: int, overlap: int) -> None:
    text = ". ".join(parts)
    spans = SPLITTER.split([text])[0]
    chunks = build_chunks(
        text, spans, target_words=target, max_words=target + 10, overlap_sentences=overlap
    )
    for i, chunk in enumerate(chunks):
        assert chunk.ordinal == i
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert count_words(chunk.text) <= target + 10
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_overflowing_passages_are_split_at_sentences() -> None:
    text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu."
    spans = SPLITTER.split([text])[0]
    chunks = build_chunks(text, spans, target_words=12, max_words=12)
    assert len(chunks) == 1
    fitted = fit_chunks_to_window(text, spans, chunks, [40], max_tokens=20)
    assert [c.ordinal for c in fitted] == list(range(len(fitted)))
    assert len(fitted) >= 2
    assert all(text[c.start : c.end] == c.text for c in fitted)
    assert " ".join(c.text for c in fitted) == text
    assert fit_chunks_to_window(text, spans, chunks, [20], max_tokens=20) == chunks
