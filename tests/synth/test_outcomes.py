"""The outcome classifier with the hashing test embedder and the real sentence splitter."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.config import OutcomeConfig
from synth.core.outcome_cues import OutcomeLabel
from synth.errors import ConfigError
from synth.outcomes import OutcomeClassifier, load_prototypes
from synth.sentences import SpacySentenceSplitter
from tests.conftest import HashingEmbedder

PDSA = (
    "Plan: We will put a sticker on every chart for two weeks.\n\n"
    "Prediction: Half of patients will have the check done.\n\n"
    "Study: Done in 16 of 30 within a day. Several nurses had never been shown the technique.\n\n"
    "Act: Ask the educator for a teaching slot. Repeat the audit in a month."
)


@pytest.fixture(scope="module")
def splitter() -> SpacySentenceSplitter:
    return SpacySentenceSplitter()


def classifier(splitter: SpacySentenceSplitter, **config: object) -> OutcomeClassifier:
    return OutcomeClassifier(HashingEmbedder(), splitter, OutcomeConfig(**config))  # type: ignore[arg-type]


def test_packaged_prototypes_cover_every_label_and_none() -> None:
    seeds = load_prototypes()
    assert set(seeds) == {*(label.value for label in OutcomeLabel), "none"}
    assert all(len(v) >= 10 for v in seeds.values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- just a list\n", "expected a mapping"),
        ("worked: [a]\nmaybe: [b]\n", "key 'maybe'"),
        ("worked: nope\n", "key 'worked'"),
        ("none: [a]\n", "no outcome label"),
    ],
)
def test_bad_prototype_files_name_file_and_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "protos.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_prototypes(path)
    assert str(path) in info.value.message
    with pytest.raises(ConfigError, match="cannot read"):
        load_prototypes(tmp_path / "missing.yaml")


def test_pdsa_sections_and_offsets(splitter: SpacySentenceSplitter) -> None:
    [outcomes] = classifier(splitter).predict([PDSA])
    labelled = {PDSA[o.start : o.end]: o for o in outcomes}
    assert all(0 <= o.start < o.end <= len(PDSA) for o in outcomes)
    assert not any(text.startswith(("Plan:", "Prediction:")) for text in labelled)
    assert labelled["Act: Ask the educator for a teaching slot."].label == OutcomeLabel.NEXT_STEP
    assert labelled["Repeat the audit in a month."].method == "section"
    study = [o for t, o in labelled.items() if "16 of 30" in t or "never been shown" in t]
    assert len(study) == 2 and all(o.label != OutcomeLabel.NEXT_STEP for o in study)


def test_sections_off_reads_sentences_alone(splitter: SpacySentenceSplitter) -> None:
    [outcomes] = classifier(splitter, sections=False, method="cues").predict([PDSA])
    plan = [o for o in outcomes if PDSA[o.start : o.end].startswith("Plan:")]
    assert plan and plan[0].label == OutcomeLabel.NEXT_STEP  # "We will..." without the heading


def test_cues_method_embeds_nothing(splitter: SpacySentenceSplitter) -> None:
    model = classifier(splitter, method="cues")
    [outcomes] = model.predict(
        ["The rota was the main barrier to attending. The ward has 20 beds."]
    )
    assert [o.label for o in outcomes] == [OutcomeLabel.BARRIER]
    assert model._embedder.encoded == []  # type: ignore[attr-defined]


def test_prototypes_embedded_once_and_nearest_wins(splitter: SpacySentenceSplitter) -> None:
    embedder = HashingEmbedder()
    seeds = {
        "worked": ["pineapple rota brilliant success everywhere"],
        "barrier": ["printer jammed again and again"],
        "none": ["the ward has beds"],
    }
    model = OutcomeClassifier(embedder, splitter, OutcomeConfig(method="prototypes"), seeds)
    first = model.predict(["Pineapple rota brilliant success everywhere today."])
    model.predict(["The printer jammed again and again."])
    assert embedder.encoded.count("printer jammed again and again") == 1
    assert [o.label for o in first[0]] == [OutcomeLabel.WORKED]
    assert first[0][0].method == "prototype"


def test_empty_inputs(splitter: SpacySentenceSplitter) -> None:
    assert classifier(splitter).predict([]) == []
    assert classifier(splitter).predict(["", "Hi."]) == [[], []]
