"""The topic evaluation end to end on 300 BBC documents: real model, real UMAP + HDBSCAN."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.octis import load_octis
from synth.core.topic_metrics import build_reference, compute_npmi
from synth.services.topic_evaluation import evaluate_topics
from tests.conftest import make_engine

pytestmark = pytest.mark.slow

BBC = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bbc_news"


@pytest.fixture(scope="module")
def bbc_subset() -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    if not BBC.exists():
        pytest.skip(f"BBC evaluation data not found at {BBC}")
    data = load_octis(BBC)
    return data.documents[:300], data.labels[:300]


def test_evaluation_end_to_end(
    tmp_path: Path,
    real_embedder: object,
    bbc_subset: tuple[tuple[tuple[str, ...], ...], tuple[str, ...]],
) -> None:
    documents, labels = bbc_subset
    engine = make_engine(f"sqlite:///{tmp_path / 'eval.db'}", tmp_path)
    engine.__dict__["embedder"] = real_embedder
    try:
        result = evaluate_topics(engine, documents, labels, nr_topics=(6, 10), seeds=(0,))
        again = evaluate_topics(engine, documents, labels, nr_topics=(6,), seeds=(0,))
    finally:
        engine.close()

    report = result.to_dict()
    for scores in (report, report["baseline"], report["ours_key_phrases"]):
        assert isinstance(scores, dict)
        assert set(scores) >= {"npmi", "diversity", "nmi", "ari"}
        assert -1.0 <= scores["npmi"] <= 1.0 and 0.0 < scores["diversity"] <= 1.0
        assert 0.0 <= scores["nmi"] <= 1.0 and -1.0 <= scores["ari"] <= 1.0
    assert result.ours.runs == result.baseline.runs == 2
    # Topics found on BBC news agree with its five desks well above chance.
    assert result.ours.means["nmi"] > 0.3 and result.baseline.means["nmi"] > 0.3
    assert result.documents == 300 and result.embedded_now > 0
    assert again.embedded_now == 0  # the store's embedding cache served every document
    # The same seed gives the same fit.
    first = next(r for r in result.runs if r.configuration == "ours" and r.nr_topics == 6)
    repeat = next(r for r in again.runs if r.configuration == "ours")
    assert first.words == repeat.words

    # NPMI of one fitted run agrees with gensim's CoherenceModel (the OCTIS call).
    gensim_models = pytest.importorskip("gensim.models")
    from gensim.corpora import Dictionary

    texts = [list(d) for d in documents]
    topics = [list(w) for w in first.words]
    expected = gensim_models.CoherenceModel(
        topics=topics, texts=texts, dictionary=Dictionary(texts), coherence="c_npmi", topn=10
    ).get_coherence()
    assert compute_npmi(topics, build_reference(texts)) == pytest.approx(expected, abs=1e-3)
    assert first.npmi == pytest.approx(expected, abs=1e-3)
