"""Score redaction spans against a labelled set: span-level precision and recall per kind."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from synth.core.redaction import RedactionKind, Span

__all__ = ["KindScore", "LabelledText", "compose_paragraphs", "parse_labelled", "score_spans"]


@dataclass(frozen=True, slots=True)
class LabelledText:
    """A text and its gold spans of personal data."""

    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class KindScore:
    """Span-level counts for one kind; a span matches when it overlaps one of the same kind."""

    kind: RedactionKind
    support: int  #: gold spans
    predicted: int  #: predicted spans
    found: int  #: gold spans overlapped by a predicted span
    correct: int  #: predicted spans that overlap a gold span

    @property
    def precision(self) -> float:
        """Return correct / predicted (1.0 when nothing was predicted)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Return found / support (1.0 when there is no gold span)."""
        return self.found / self.support if self.support else 1.0


def parse_labelled(lines: Iterable[str]) -> list[LabelledText]:
    """Parse JSON lines ``{"text": ..., "spans": [{"start", "end", "type"}]}``.

    ``type`` is a :class:`RedactionKind` name such as ``"NHS_NUMBER"``; blank lines are skipped.

    Raises:
        ValueError: If a span lies outside its text or a type is unknown.

    Example:
        >>> row = '{"text": "Call Tom", "spans": [{"start": 5, "end": 8, "type": "PERSON"}]}'
        >>> parse_labelled([row])[0].spans[0].kind
        <RedactionKind.PERSON: 'person'>
    """
    items = []
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        text = str(row["text"])
        try:
            spans = tuple(
                Span(int(s["start"]), int(s["end"]), RedactionKind[s["type"]]) for s in row["spans"]
            )
        except KeyError as exc:
            raise ValueError(f"unknown span type {exc} in {text!r}") from exc
        if any(span.end > len(text) for span in spans):
            raise ValueError(f"a span lies outside {text!r}")
        items.append(LabelledText(text, spans))
    return items


def _overlapping(span: Span, others: Iterable[Span]) -> bool:
    return any(o.kind == span.kind and o.start < span.end and span.start < o.end for o in others)


def score_spans(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]]
) -> dict[RedactionKind, KindScore]:
    """Return a :class:`KindScore` per kind over parallel sequences of gold and predicted spans.

    Raises:
        ValueError: If the two sequences differ in length.

    Example:
        >>> gold = [[Span(0, 3, RedactionKind.PERSON)]]
        >>> score = score_spans(gold, [[Span(1, 3, RedactionKind.PERSON)]])[RedactionKind.PERSON]
        >>> score.precision, score.recall
        (1.0, 1.0)
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold rows but {len(predicted)} predicted rows")
    counts = {kind: [0, 0, 0, 0] for kind in RedactionKind}
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        for span in gold_spans:
            counts[span.kind][0] += 1
            counts[span.kind][2] += _overlapping(span, predicted_spans)
        for span in predicted_spans:
            counts[span.kind][1] += 1
            counts[span.kind][3] += _overlapping(span, gold_spans)
    return {kind: KindScore(kind, *values) for kind, values in counts.items()}


def compose_paragraphs(
    items: Sequence[LabelledText], count: int, *, seed: int = 0, sizes: tuple[int, int] = (3, 6)
) -> list[LabelledText]:
    """Join random runs of labelled sentences into ``count`` paragraphs, shifting their spans.

    The same ``seed`` always gives the same paragraphs.
    """
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(count):
        parts: list[str] = []
        spans: list[Span] = []
        offset = 0
        for item in rng.sample(list(items), rng.randint(*sizes)):
            spans += (Span(s.start + offset, s.end + offset, s.kind) for s in item.spans)
            parts.append(item.text)
            offset += len(item.text) + 1
        paragraphs.append(LabelledText(" ".join(parts), tuple(spans)))
    return paragraphs
