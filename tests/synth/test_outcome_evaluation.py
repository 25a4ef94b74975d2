"""Scoring sentence outcome labels: exact counts on small texts, floors on the demo corpus."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from corpus import iter_records
from corpus.demo_data import DEMO_DIR, demo_entry_files
from synth.core.outcome_cues import OutcomeLabel
from synth.errors import ConfigError
from synth.sentences import SpacySentenceSplitter
from synth.services.ingest import validate_records
from synth.services.outcome_evaluation import (
    LabelledText,
    evaluate_outcomes,
    labelled_texts,
    load_outcome_truth,
    normalise_sentence,
)
from tests.conftest import HashingEmbedder

L = OutcomeLabel


def test_counts_on_a_small_text() -> None:
    text = LabelledText(
        "t1",
        "The main barrier was staffing. Next we will add a night huddle. "
        "The ward has twenty beds. We plan to move the ward.",
        (
            ("The main barrier was staffing.", L.BARRIER),
            ("Next we will add a night huddle.", L.NEXT_STEP),
            ("It worked well in the end.", L.WORKED),  # not in the text: a miss
        ),
        group="story",
    )
    result = evaluate_outcomes(
        [text], embedder=HashingEmbedder(), splitter=SpacySentenceSplitter(), methods=["cues"]
    )
    scores = result.methods["cues"]
    assert scores["barrier"].precision == 1.0 and scores["barrier"].recall == 1.0
    assert scores["next_step"].precision == 0.5 and scores["next_step"].recall == 1.0
    assert scores["worked"].recall == 0.0 and scores["worked"].support == 1
    assert scores["macro"].support == 3
    assert (result.sentences, result.labelled, result.matched) == (4, 3, 2)
    document = result.to_dict()
    assert set(document) == {"cues", "by_group", "sentences", "labelled", "matched"}
    assert set(document["cues"]) == {*(label.value for label in L), "macro"}  # type: ignore[arg-type]
    assert "story" in document["by_group"]  # type: ignore[operator]


def test_matching_ignores_headings_case_and_spaces() -> None:
    assert normalise_sentence("Act:  Keep the  Huddle.") == normalise_sentence("keep the huddle.")


def test_bad_truth_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"id": "x", "sentences": []}\n'
        '{"id": "y", "sentences": [{"text": "t", "label": "great"}]}\n'
    )
    with pytest.raises(ConfigError, match=r"a\.jsonl:2"):
        load_outcome_truth(tmp_path)


@pytest.fixture(scope="module")
def demo_texts() -> list[LabelledText]:
    records, problems = validate_records(
        itertools.chain.from_iterable(iter_records(f) for f in demo_entry_files())
    )
    assert not problems
    return labelled_texts(records, load_outcome_truth(DEMO_DIR / "ground_truth"))


def test_demo_ground_truth_is_big_enough(demo_texts: list[LabelledText]) -> None:
    assert len(demo_texts) == 320
    assert sum(len(t.sentences) for t in demo_texts) >= 150


@pytest.mark.slow
def test_demo_scores_hold_with_the_real_model(
    demo_texts: list[LabelledText], real_embedder: object
) -> None:
    result = evaluate_outcomes(
        demo_texts,
        embedder=real_embedder,  # type: ignore[arg-type]
        splitter=SpacySentenceSplitter(),
    )
    macro = {method: scores["macro"] for method, scores in result.methods.items()}
    # Measured (docs/benchmarks.md): macro F1 cues 0.451, prototypes 0.377, hybrid 0.499.
    assert macro["cues"].f1 >= 0.42
    assert macro["prototypes"].f1 >= 0.34
    assert macro["hybrid"].f1 >= 0.47
    assert macro["hybrid"].f1 > max(macro["cues"].f1, macro["prototypes"].f1)
    assert result.methods["hybrid"]["next_step"].f1 >= 0.78
    assert min(s.f1 for label, s in result.methods["hybrid"].items() if label != "macro") >= 0.34
    assert result.matched >= 0.99 * result.labelled
