"""Key-phrase vocabulary: spaCy lookup lemmas, English and domain stop words, surface forms.

Passages are lemmatised once (``nlp.pipe``) into space-joined lemma strings that the topic
model's CountVectorizer reads with a plain whitespace tokenizer, so long per-topic documents
never pass through spaCy again. A :class:`SurfaceForms` table maps each lemma back to the
word people wrote most often ("deteriorate" → "deteriorating"), so labels read naturally.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import spacy
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = ["Lemmatiser", "SurfaceForms", "build_stop_words", "split_lemmas"]

#: Function words the English list misses in improvement reports.
_REPORT_STOP_WORDS = frozenset(
    {"also", "did", "does", "doing", "got", "just", "like", "really", "said", "use", "used",
     "using", "way", "week", "weeks", "month", "months", "time", "lot", "thing", "things"}
)  # fmt: skip


def build_stop_words(domain: Iterable[str] = ()) -> list[str]:
    """English stop words plus report fillers plus the configured domain words (lower case)."""
    words = set(ENGLISH_STOP_WORDS) | _REPORT_STOP_WORDS | {w.lower() for w in domain}
    return sorted(words)


def split_lemmas(text: str) -> list[str]:
    """Tokenizer for pre-lemmatised text (a module-level function, so models can be saved)."""
    return text.split()


@dataclass
class SurfaceForms:
    """Most frequent written form of each lemma, to turn lemma n-grams back into words."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, lemma: str, surface: str) -> None:
        """Count one occurrence of ``surface`` for ``lemma``."""
        self.counts.setdefault(lemma, Counter())[surface] += 1

    def render(self, phrase: str) -> str:
        """Return ``phrase`` (space-separated lemmas) in its most common written form."""
        words = []
        for lemma in phrase.split():
            seen = self.counts.get(lemma)
            words.append(seen.most_common(1)[0][0] if seen else lemma)
        return " ".join(words)


class Lemmatiser:
    """spaCy blank English pipeline with the lookup lemmatiser (spacy-lookups-data)."""

    def __init__(self) -> None:
        self._nlp = spacy.blank("en")
        self._nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        self._nlp.initialize()
        self._nlp.max_length = 5_000_000

    def lemmatise(self, texts: Sequence[str], surfaces: SurfaceForms | None = None) -> list[str]:
        """Return one lower-case lemma string per text (alphabetic tokens of 2+ letters)."""
        out = []
        for doc in self._nlp.pipe(texts, batch_size=256):
            lemmas = []
            for token in doc:
                if not token.is_alpha or len(token.text) < 2:
                    continue
                lemma = (token.lemma_ or token.text).lower()
                lemmas.append(lemma)
                if surfaces is not None:
                    surfaces.add(lemma, token.text.lower())
            out.append(" ".join(lemmas))
        return out
