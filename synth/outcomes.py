"""Label the sentences of a text as worked, did not work, barrier, enabler or next step.

:class:`OutcomeClassifier` splits a text into sentences, scores each with the cue lexicon
and against embedded seed sentences (prototypes, embedded once per classifier), and applies
the decision of :func:`synth.core.outcome_cues.decide`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from numpy.typing import NDArray

from synth.config import OutcomeConfig
from synth.core.outcome_cues import (
    SECTION_RULES,
    DecisionParams,
    OutcomeLabel,
    SectionRule,
    cue_scores,
    decide,
    prototype_scores,
    section_of,
    strip_heading,
)
from synth.errors import ConfigError
from synth.ports import Embedder, SentenceSplitter

__all__ = ["NONE", "OutcomeClassifier", "SentenceOutcome", "load_prototypes"]

#: The prototype key of sentences that report no outcome.
NONE = "none"
_LABELS: tuple[str, ...] = (*(label.value for label in OutcomeLabel), NONE)


@dataclass(frozen=True, slots=True)
class SentenceOutcome:
    """A labelled sentence: ``text[start:end]``, its label, confidence and deciding method."""

    start: int
    end: int
    label: OutcomeLabel
    confidence: float
    method: str


def load_prototypes(path: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Read seed sentences per label from YAML (default: ``synth/data/outcome_prototypes.yaml``).

    Raises:
        ConfigError: The file is missing, is not a mapping of label to sentences, or names
            an unknown label (the message names the file and the key).
    """
    if path is None:
        source = resources.files("synth.data").joinpath("outcome_prototypes.yaml")
        name, text = "synth/data/outcome_prototypes.yaml", source.read_text(encoding="utf-8")
    else:
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read outcome prototypes: {exc.strerror}") from None
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping of label to a list of sentences")
    out: dict[str, tuple[str, ...]] = {}
    for key, sentences in data.items():
        if key not in _LABELS:
            raise ConfigError(f"{name}: key '{key}': unknown label; use one of {_LABELS}")
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise ConfigError(f"{name}: key '{key}': expected a list of sentences")
        out[key] = tuple(s.strip() for s in sentences if s.strip())
    if not any(out.get(label.value) for label in OutcomeLabel):
        raise ConfigError(f"{name}: no outcome label has any sentences")
    return out


@dataclass(frozen=True, slots=True)
class _Sentence:
    text_index: int
    start: int
    end: int
    text: str
    rule: SectionRule | None


class OutcomeClassifier:
    """Sentence outcome labels for texts (fit embeds the prototypes; predict labels).

    Args:
        embedder: Embeds prototypes and sentences (unit-length vectors).
        splitter: Sentence boundaries.
        config: Method and thresholds.
        prototypes: Seed sentences per label; default :func:`load_prototypes` of
            ``config.prototypes``.
    """

    def __init__(
        self,
        embedder: Embedder,
        splitter: SentenceSplitter,
        config: OutcomeConfig | None = None,
        prototypes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.config = config or OutcomeConfig()
        self._embedder = embedder
        self._splitter = splitter
        seeds = prototypes if prototypes is not None else load_prototypes(self.config.prototypes)
        self._prototype_texts = [s for label in _LABELS for s in seeds.get(label, ())]
        self._prototype_labels = [label for label in _LABELS for _ in seeds.get(label, ())]
        self._vectors: NDArray[np.float32] | None = None
        self._params = DecisionParams(
            method=self.config.method,
            min_similarity=self.config.min_similarity,
            margin=self.config.margin,
            cue_bonus=self.config.cue_bonus,
        )

    @property
    def embedder(self) -> Embedder:
        """The embedder of prototypes (and of sentences, unless ``predict`` is given one)."""
        return self._embedder

    @property
    def method(self) -> str:
        """The configured method: ``cues``, ``prototypes`` or ``hybrid``."""
        return self.config.method

    def fit(self, embedder: Embedder | None = None) -> OutcomeClassifier:
        """Embed the prototypes (once; later calls reuse the vectors).

        ``embedder`` (same model) encodes them instead of the classifier's own.
        """
        if self._vectors is None and self.config.method != "cues":
            self._vectors = (embedder or self._embedder).encode(self._prototype_texts)
        return self

    def predict(
        self, texts: Sequence[str], *, embedder: Embedder | None = None
    ) -> list[list[SentenceOutcome]]:
        """Return the labelled sentences of each text (offsets into that text), in order.

        Sentences that report no outcome are left out. ``embedder`` (same model) encodes the
        sentences instead of the classifier's own, e.g. through the store's embedding cache.
        """
        sentences = self._sentences(texts)
        scores = self._prototype_scores(sentences, embedder or self._embedder)
        results: list[list[SentenceOutcome]] = [[] for _ in texts]
        for row, sentence in enumerate(sentences):
            sims: dict[OutcomeLabel, float] = {}
            none_sim = 0.0
            if scores is not None and row in scores:
                values = scores[row]
                sims = {label: float(values[i]) for i, label in enumerate(OutcomeLabel)}
                none_sim = float(values[-1])
            decision = decide(
                cue_scores(sentence.text),
                sims,
                none_sim,
                sentence.rule,
                self._params,
                words=len(sentence.text.split()),
            )
            if decision is not None:
                results[sentence.text_index].append(
                    SentenceOutcome(
                        sentence.start,
                        sentence.end,
                        decision.label,
                        decision.confidence,
                        decision.method,
                    )
                )
        return results

    def _sentences(self, texts: Sequence[str]) -> list[_Sentence]:
        """Split texts into sentences, each with the rule of its template section."""
        out = []
        for index, (text, spans) in enumerate(zip(texts, self._splitter.split(texts), strict=True)):
            for start, end in spans:
                sentence = strip_heading(text[start:end])
                out.append(_Sentence(index, start, end, sentence, self._rule(text, start)))
        return out

    def _rule(self, text: str, start: int) -> SectionRule | None:
        if not self.config.sections:
            return None
        paragraph_start = text.rfind("\n\n", 0, start + 1)
        paragraph_start = 0 if paragraph_start < 0 else paragraph_start + 2
        section = section_of(text[paragraph_start : paragraph_start + 20])
        return SECTION_RULES.get(section) if section else None

    def _needs_prototypes(self, sentence: _Sentence) -> bool:
        """Whether the decision can use prototype scores (not a heading, not forced)."""
        if len(sentence.text.split()) < self._params.min_words:
            return False
        return sentence.rule is None or (
            sentence.rule.forced is None and bool(sentence.rule.allowed)
        )

    def _prototype_scores(
        self, sentences: list[_Sentence], embedder: Embedder
    ) -> dict[int, NDArray[np.float32]] | None:
        """Prototype scores of the sentences whose decision can use them (others skipped)."""
        if self.config.method == "cues":
            return None
        rows = [i for i, s in enumerate(sentences) if self._needs_prototypes(s)]
        if not rows:
            return {}
        self.fit(embedder)
        assert self._vectors is not None
        vectors = embedder.encode([sentences[i].text for i in rows])
        matrix = prototype_scores(
            vectors @ self._vectors.T, self._prototype_labels, _LABELS, self.config.top_k
        )
        return dict(zip(rows, matrix, strict=True))
