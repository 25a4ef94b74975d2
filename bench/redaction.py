"""Benchmark redaction: per-kind precision/recall and person-finder throughput.

Run from the repository root: ``python bench/redaction.py``. It scores ``redact_all`` over the
labelled set plus 300 synthetic paragraphs composed from its sentences, then times the spaCy
person finder with and without the capitalisation pre-filter.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from synth.core.redaction import ALL_KINDS, RedactionKind, redact_all
from synth.core.redaction_eval import (
    KindScore,
    LabelledText,
    compose_paragraphs,
    parse_labelled,
    score_spans,
)
from synth.ner import SpacyPersonFinder, find_name_segments, may_contain_name

LABELLED = Path(__file__).resolve().parents[1] / "tests/synth/data/redaction_labelled.jsonl"
SYNTHETIC_PARAGRAPHS = 300


def load_items() -> list[LabelledText]:
    """Return the labelled sentences followed by the synthetic paragraphs."""
    sentences = parse_labelled(LABELLED.read_text(encoding="utf-8").splitlines())
    return sentences + compose_paragraphs(sentences, SYNTHETIC_PARAGRAPHS, seed=13)


def evaluate(
    items: Sequence[LabelledText], finder: SpacyPersonFinder
) -> dict[RedactionKind, KindScore]:
    """Score ``redact_all`` with ``finder`` over ``items``."""
    results = redact_all([i.text for i in items], kinds=ALL_KINDS, person_finder=finder)
    return score_spans([i.spans for i in items], [r.spans for r in results])


def format_scores(title: str, scores: dict[RedactionKind, KindScore]) -> str:
    """Return a plain-text table of precision, recall and support per kind."""
    lines = [title, f"{'kind':<14} {'precision':>9} {'recall':>7} {'support':>8} {'predicted':>9}"]
    lines += [
        f"{s.kind.name:<14} {s.precision:>9.3f} {s.recall:>7.3f} {s.support:>8} {s.predicted:>9}"
        for s in scores.values()
    ]
    return "\n".join(lines)


def time_finder(finder: SpacyPersonFinder, texts: Sequence[str], repeats: int = 3) -> float:
    """Return the best paragraphs per second of ``finder`` over ``texts``."""
    finder.find_persons(texts[:32])  # warm up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        finder.find_persons(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    """Print the score tables and the throughput of the person finder."""
    items = load_items()
    with_filter, without_filter = SpacyPersonFinder(), SpacyPersonFinder(prefilter=False)
    print(f"{len(items)} texts ({len(items) - SYNTHETIC_PARAGRAPHS} labelled sentences)")
    labelled = items[:-SYNTHETIC_PARAGRAPHS]
    print(format_scores("\nlabelled sentences only", evaluate(labelled, with_filter)))
    print(format_scores("\nall texts, with pre-filter", evaluate(items, with_filter)))
    print(format_scores("\nall texts, without pre-filter", evaluate(items, without_filter)))
    print(
        f"\n{'person finder':<20} {'skipped':>9} {'chars sent':>10} {'texts/s':>8} {'without':>8}"
    )
    groups = (("labelled sentences", labelled), ("paragraphs", items[-SYNTHETIC_PARAGRAPHS:]))
    for name, group in groups:
        sample = [i.text for i in group]
        skipped = sum(not may_contain_name(t) for t in sample)
        sent = sum(end - start for t in sample for start, end in find_name_segments(t))
        share = sent / sum(len(t) for t in sample)
        fast, slow = time_finder(with_filter, sample), time_finder(without_filter, sample)
        print(f"{name:<20} {skipped:>4}/{len(sample):<4} {share:>10.1%} {fast:>8.1f} {slow:>8.1f}")
    print("skipped: texts the pre-filter keeps from the model; chars sent: share it passes on")


if __name__ == "__main__":
    main()
