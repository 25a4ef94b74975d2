"""Precision, recall and F1 of sentence outcome labels against labelled texts.

Ground truth lists, per text, the sentences that report an outcome with their label; every
other sentence is ``none``. Predicted sentences are matched to labelled ones by normalised
text (lower case, single spaces, template heading dropped).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from synth.config import OutcomeConfig
from synth.core.normalise import normalise_text
from synth.core.outcome_cues import OutcomeLabel, strip_heading
from synth.errors import ConfigError
from synth.outcomes import OutcomeClassifier
from synth.ports import Embedder, SentenceSplitter
from synth.types import EntryRecord

__all__ = [
    "LabelScores",
    "LabelledText",
    "OutcomeEvaluation",
    "evaluate_outcomes",
    "labelled_texts",
    "load_outcome_truth",
    "normalise_sentence",
]

METHODS = ("cues", "prototypes", "hybrid")
_SPACE = re.compile(r"\s+")


def normalise_sentence(text: str) -> str:
    """The form sentences are matched in: heading dropped, lower case, single spaces.

    Example:
        >>> normalise_sentence("Study:  Done in 16 of 30.")
        'done in 16 of 30.'
    """
    return _SPACE.sub(" ", strip_heading(text.strip())).strip().lower()


@dataclass(frozen=True, slots=True)
class LabelledText:
    """A text with its labelled sentences; ``group`` (such as the entry kind) splits reports."""

    key: str
    text: str
    sentences: tuple[tuple[str, OutcomeLabel], ...]
    group: str = ""


def load_outcome_truth(folder: Path) -> dict[str, tuple[tuple[str, OutcomeLabel], ...]]:
    """Read ``{"id", "sentences": [{"text", "label"}]}`` lines from every ``*.jsonl`` in ``folder``.

    Raises:
        ConfigError: A line is not such a record (the message names file and line).
    """
    truth: dict[str, tuple[tuple[str, OutcomeLabel], ...]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    truth[str(record["id"])] = tuple(
                        (str(s["text"]), OutcomeLabel(s["label"]))
                        for s in record.get("sentences", [])
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise ConfigError(
                        f"{path}:{number}: not a labelled-sentence record: {exc}"
                    ) from None
    return truth


def labelled_texts(
    records: Iterable[EntryRecord], truth: dict[str, tuple[tuple[str, OutcomeLabel], ...]]
) -> list[LabelledText]:
    """Pair each record that has ground truth with it: normalised body, grouped by kind."""
    return [
        LabelledText(key, normalise_text(record.body), truth[key], record.kind.value)
        for record in records
        if (key := record.source.external_id or "") in truth
    ]


@dataclass(frozen=True, slots=True)
class LabelScores:
    """Precision, recall and F1 of one label (or their macro average)."""

    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, float | int]:
        """Rounded for reports."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


def _scores(tp: int, predicted: int, support: int) -> LabelScores:
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScores(precision, recall, f1, support)


@dataclass
class _Tally:
    tp: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    support: Counter[str] = field(default_factory=Counter)

    def add(self, gold: dict[str, OutcomeLabel], predicted: dict[str, OutcomeLabel]) -> None:
        self.support.update(label.value for label in gold.values())
        for sentence, label in predicted.items():
            self.predicted[label.value] += 1
            self.tp[label.value] += gold.get(sentence) == label

    def report(self) -> dict[str, LabelScores]:
        per_label = {
            label.value: _scores(
                self.tp[label.value], self.predicted[label.value], self.support[label.value]
            )
            for label in OutcomeLabel
        }
        values = list(per_label.values())
        per_label["macro"] = LabelScores(
            float(np.mean([s.precision for s in values])),
            float(np.mean([s.recall for s in values])),
            float(np.mean([s.f1 for s in values])),
            sum(s.support for s in values),
        )
        return per_label


@dataclass(frozen=True, slots=True)
class OutcomeEvaluation:
    """Scores per method and label, per method and group (macro), and corpus counts."""

    methods: dict[str, dict[str, LabelScores]]
    groups: dict[str, dict[str, LabelScores]]
    sentences: int
    labelled: int
    matched: int

    def to_dict(self) -> dict[str, object]:
        """The ``synth eval outcomes --json`` document."""
        out: dict[str, object] = {
            method: {label: s.to_dict() for label, s in scores.items()}
            for method, scores in self.methods.items()
        }
        out["by_group"] = {
            group: {method: s.to_dict() for method, s in scores.items()}
            for group, scores in self.groups.items()
        }
        out["sentences"] = self.sentences
        out["labelled"] = self.labelled
        out["matched"] = self.matched
        return out


class _MemoEmbedder:
    """Wraps an embedder so the methods compared in one run embed each text once."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._memo: dict[str, NDArray[np.float32]] = {}
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self._inner.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._memo[t] for t in texts])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._inner.count_tokens(texts)


def _predicted(
    classifier: OutcomeClassifier, texts: Sequence[LabelledText]
) -> list[dict[str, OutcomeLabel]]:
    results = classifier.predict([t.text for t in texts])
    return [
        {normalise_sentence(t.text[o.start : o.end]): o.label for o in outcomes}
        for t, outcomes in zip(texts, results, strict=True)
    ]


def evaluate_outcomes(
    texts: Sequence[LabelledText],
    *,
    embedder: Embedder,
    splitter: SentenceSplitter,
    config: OutcomeConfig | None = None,
    methods: Iterable[str] = METHODS,
) -> OutcomeEvaluation:
    """Label ``texts`` with each method and score the labels against their ground truth.

    Args:
        texts: Texts with their labelled sentences.
        embedder: The sentence embedder (each sentence is embedded once for all methods).
        splitter: Sentence boundaries, as at ingest.
        config: Thresholds; ``method`` is replaced by each of ``methods``.
        methods: Which of ``cues``, ``prototypes``, ``hybrid`` to score.

    Returns:
        Per-label and macro precision, recall and F1 per method, macro scores per group.
    """
    config = config or OutcomeConfig()
    memo = _MemoEmbedder(embedder)
    gold = [{normalise_sentence(s): label for s, label in t.sentences} for t in texts]
    spans = splitter.split([t.text for t in texts])
    split_sentences = [
        {normalise_sentence(t.text[a:b]) for a, b in s} for t, s in zip(texts, spans, strict=True)
    ]
    scored: dict[str, dict[str, LabelScores]] = {}
    groups: dict[str, dict[str, LabelScores]] = {}
    for method in methods:
        classifier = OutcomeClassifier(memo, splitter, config.model_copy(update={"method": method}))
        predicted = _predicted(classifier, texts)
        total, by_group = _Tally(), dict[str, _Tally]()
        for text, truth, found in zip(texts, gold, predicted, strict=True):
            total.add(truth, found)
            by_group.setdefault(text.group, _Tally()).add(truth, found)
        scored[method] = total.report()
        for group, tally in sorted(by_group.items()):
            groups.setdefault(group, {})[method] = tally.report()["macro"]
    return OutcomeEvaluation(
        methods=scored,
        groups=groups,
        sentences=sum(len(s) for s in spans),
        labelled=sum(len(g) for g in gold),
        matched=sum(len(set(g) & s) for g, s in zip(gold, split_sentences, strict=True)),
    )
