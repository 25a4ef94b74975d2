"""The pure outcome cue lexicon, section rules, prototype scoring and decision."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synth.core.outcome_cues import (
    SECTION_RULES,
    DecisionParams,
    OutcomeLabel,
    cue_scores,
    decide,
    prototype_scores,
    section_of,
    strip_heading,
)

L = OutcomeLabel


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("The new checklist worked well on both wards.", L.WORKED),
        ("Waits fell from 40 days to 12.", L.WORKED),
        ("The reminder didn't work and we dropped it.", L.DID_NOT_WORK),
        ("The leaflet failed to change anything.", L.DID_NOT_WORK),
        ("The biggest barrier was a lack of protected time.", L.BARRIER),
        ("It stalled because nobody owned the data.", L.BARRIER),
        ("Having a named pharmacist made it easier for nurses to ask.", L.ENABLER),
        ("Next we will test it on the night shift.", L.NEXT_STEP),
        ("We plan to share the template with the network.", L.NEXT_STEP),
        ("PDSA 2 will try a text message instead.", L.NEXT_STEP),
    ],
)
def test_cues_point_to_the_label(sentence: str, label: OutcomeLabel) -> None:
    scores = cue_scores(sentence)
    assert max(scores, key=lambda k: scores[k]) == label


def test_plain_description_has_no_strong_cue() -> None:
    assert all(v < 1 for v in cue_scores("The ward has twenty beds.").values())


def test_sections_and_headings() -> None:
    assert section_of("Plan: Put a sticker on every chart.") == "plan"
    assert section_of("Now what? Ask the educator.") == "now_what"
    assert section_of("Do you know what happened?") is None
    assert strip_heading("So what? It mattered.") == "It mattered."
    assert strip_heading("No heading here.") == "No heading here."


def test_prototype_scores_average_the_top_k() -> None:
    sims = np.array([[0.9, 0.1, 0.5, 0.2]], dtype=np.float32)
    out = prototype_scores(sims, ["a", "a", "b", "b"], ["a", "b", "c"], k=2)
    assert out[0, 0] == pytest.approx(0.5)
    assert out[0, 1] == pytest.approx(0.35)
    assert out[0, 2] == -1.0
    top1 = prototype_scores(sims, ["a", "a", "b", "b"], ["a", "b"], k=1)
    assert top1[0].tolist() == pytest.approx([0.9, 0.5])


@given(st.permutations(list(range(6))))
def test_prototype_scores_ignore_prototype_order(order: list[int]) -> None:
    rng = np.random.default_rng(0)
    sims = rng.uniform(-1, 1, (3, 6)).astype(np.float32)
    labels = ["a", "a", "b", "b", "c", "c"]
    base = prototype_scores(sims, labels, ["a", "b", "c"], k=2)
    shuffled = prototype_scores(sims[:, order], [labels[i] for i in order], ["a", "b", "c"], k=2)
    np.testing.assert_allclose(base, shuffled, rtol=1e-6)


def test_decide_sections_force_or_forbid() -> None:
    params = DecisionParams("hybrid")
    act = decide({}, {}, 0.0, SECTION_RULES["act"], params, words=6)
    assert act is not None and act.label == L.NEXT_STEP and act.method == "section"
    plan = decide({L.WORKED: 2.0}, {L.WORKED: 0.9}, 0.0, SECTION_RULES["plan"], params, words=6)
    assert plan is None
    study = decide(
        {L.NEXT_STEP: 1.0},
        {L.NEXT_STEP: 0.9, L.BARRIER: 0.2},
        0.5,
        SECTION_RULES["study"],
        params,
        words=6,
    )
    assert study is not None and study.label == L.BARRIER  # findings: never next_step, never none


def test_decide_methods() -> None:
    sims = {L.WORKED: 0.5, L.BARRIER: 0.45, L.ENABLER: 0.1, L.DID_NOT_WORK: 0.1, L.NEXT_STEP: 0.1}
    cues = {L.BARRIER: 1.0}
    by_cues = decide(cues, {}, 0.0, None, DecisionParams("cues"), words=8)
    assert by_cues is not None and by_cues.label == L.BARRIER and by_cues.method == "cue"
    assert decide({}, {}, 0.0, None, DecisionParams("cues"), words=8) is None
    proto = decide(cues, sims, 0.3, None, DecisionParams("prototypes"), words=8)
    assert proto is not None and proto.label == L.WORKED and proto.method == "prototype"
    assert decide(cues, sims, 0.48, None, DecisionParams("prototypes"), words=8) is None
    hybrid = decide(cues, sims, 0.3, None, DecisionParams("hybrid", cue_bonus=0.1), words=8)
    assert hybrid is not None and hybrid.label == L.BARRIER and hybrid.method == "cue"
    assert 0 < hybrid.confidence < 1


def test_short_headings_get_no_label() -> None:
    assert decide({L.NEXT_STEP: 1.0}, {}, 0.0, None, DecisionParams("cues"), words=2) is None
