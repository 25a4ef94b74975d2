"""The onnx-int8 embedding backend: offline export, cache, fidelity to torch, end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from models import Passage
from synth.config import EmbeddingConfig, RedactionConfig
from synth.embedding import BACKENDS, EMBEDDERS, build_embedder, resolve_model_path
from synth.embedding_onnx import OnnxInt8Embedder, build_onnx_int8_model, model_cache_key
from synth.engine import Engine
from synth.errors import ConfigError
from synth.ports import Embedder
from synth.search.query import SearchQuery, Viewer
from synth.search.service import search_entries
from synth.services.ingest import ingest_records
from synth.services.reembedding import reembed_passages
from synth.types import EntryRecord, SourceRef, build_entry_record
from tests.conftest import HashingEmbedder, make_engine

SENTENCES = [
    "Huddles to spot deteriorating patients on night shift.",
    "We moved the falls risk assessment to the first hour after admission.",
    "Hydration prompts at every home visit reduced urinary tract infections.",
    "Safety crosses on the ward noticeboard made pressure ulcers visible to everyone.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def onnx_embedder(cache_dir: Path) -> Embedder:
    """Built once per module: the export runs offline (conftest sets HF_HUB_OFFLINE)."""
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    return build_embedder(EmbeddingConfig(backend="onnx-int8", cache_dir=str(cache_dir)))


def test_backends_map_to_registered_embedders() -> None:
    assert set(BACKENDS) == {"torch", "onnx-int8"}
    assert all(name in EMBEDDERS for name in BACKENDS.values())


def test_settings_choose_the_backend_and_cache_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(embedding_backend="onnx-int8", data_dir=tmp_path)
    embedding = settings.engine_config().embedding
    assert embedding.backend == "onnx-int8"
    assert embedding.cache_dir == str(tmp_path / "models")
    assert Settings.model_fields["embedding_backend"].default == "onnx-int8"
    assert EmbeddingConfig().backend == "torch"  # code that builds configs directly


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="torch"):
        EmbeddingConfig(backend="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"synth\.embedder\.onnx_int8\.v1"):
        build_embedder(EmbeddingConfig(), "synth.embedder.nope.v1")


@pytest.mark.slow
def test_vectors_are_unit_length_and_close_to_torch(
    onnx_embedder: Embedder, real_embedder: Embedder
) -> None:
    onnx = onnx_embedder.encode(SENTENCES)
    torch = real_embedder.encode(SENTENCES)
    assert onnx.shape == torch.shape == (len(SENTENCES), 384)
    assert onnx.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() >= 0.98, cosines
    # Deterministic for the same input; alone (one-thread session) or in a batch (bulk session)
    # the rows stay in order and close (dynamic int8 scales activations per batch, so not equal).
    np.testing.assert_array_equal(onnx_embedder.encode(SENTENCES), onnx)
    alone = np.vstack([onnx_embedder.encode([s]) for s in SENTENCES])
    assert (alone * onnx).sum(axis=1).min() >= 0.98
    assert np.argmax(alone @ onnx.T, axis=1).tolist() == list(range(len(SENTENCES)))


@pytest.mark.slow
def test_name_differs_and_tokens_match_torch(
    onnx_embedder: Embedder, real_embedder: Embedder
) -> None:
    assert onnx_embedder.name == real_embedder.name + "+onnx-int8"
    assert onnx_embedder.dim == real_embedder.dim
    assert onnx_embedder.max_tokens == real_embedder.max_tokens == 256
    texts = [*SENTENCES, "  padded  ", "word " * 400]
    assert onnx_embedder.count_tokens(texts) == real_embedder.count_tokens(texts)
    assert onnx_embedder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_long_text_is_truncated_like_torch(
    onnx_embedder: Embedder, real_embedder: Embedder
) -> None:
    long_text = " ".join(SENTENCES * 20)
    cosine = float((onnx_embedder.encode([long_text]) * real_embedder.encode([long_text])).sum())
    assert cosine >= 0.98


@pytest.mark.slow
def test_the_export_is_cached_and_reused(onnx_embedder: Embedder, cache_dir: Path) -> None:
    model_dir = resolve_model_path("all-MiniLM-L6-v2")
    key = model_cache_key(model_dir)
    assert key.startswith("all-MiniLM-L6-v2-") and "-ort" in key
    target = cache_dir / key / "model.int8.onnx"
    assert target.is_file()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".build-")]
    stamp = target.stat().st_mtime_ns
    assert build_onnx_int8_model(model_dir, cache_dir) == target
    assert target.stat().st_mtime_ns == stamp
    again = OnnxInt8Embedder(EmbeddingConfig(backend="onnx-int8", cache_dir=str(cache_dir)))
    np.testing.assert_allclose(again.encode(SENTENCES), onnx_embedder.encode(SENTENCES), atol=1e-6)


def records() -> list[EntryRecord]:
    return [
        build_entry_record(
            {
                "id": f"e{n}",
                "kind": "story",
                "title": text.split(" ", 3)[-1],
                "body": text,
                "network": "falls-prevention",
                "organisation": "westmoor-hospital",
                "visibility": "public",
                "occurred_on": "2025-01-01",
            },
            source=SourceRef(file="t.jsonl", line=n),
        )
        for n, text in enumerate(SENTENCES, 1)
    ]


def dense_search(engine: Engine) -> tuple[set[str], list[str]]:
    """Stored model names, and passages found for a paraphrase of one sentence."""
    with engine.sessions() as session:
        models = set(session.scalars(select(Passage.embedding_model)))
        query = SearchQuery(text="keeping people drinking water at home", k=2, mode="dense")
        hits = search_entries(
            session,
            engine.open_indexes(),
            engine.embedder,
            query,
            viewer=Viewer.operator(),
            config=engine.config.search,
        )
    return models, [hit.passage.text for hit in hits]


@pytest.mark.slow
def test_ingest_and_dense_search_end_to_end(
    onnx_embedder: Embedder, store_url: str, tmp_path: Path
) -> None:
    engine = make_engine(store_url, tmp_path, redaction=RedactionConfig(enabled=False))
    engine.__dict__["embedder"] = onnx_embedder
    try:
        ingest_records(engine, records())
        models, found = dense_search(engine)
        assert models == {"all-MiniLM-L6-v2+onnx-int8"}
        assert found and found[0].startswith("Hydration prompts")
    finally:
        engine.close()


@pytest.mark.slow
def test_reembed_moves_a_store_to_the_new_backend(
    onnx_embedder: Embedder, store_url: str, tmp_path: Path
) -> None:
    engine = make_engine(store_url, tmp_path, redaction=RedactionConfig(enabled=False))
    engine.__dict__["embedder"] = HashingEmbedder()
    try:
        ingest_records(engine, records())
        engine.__dict__["embedder"] = onnx_embedder
        engine.__dict__.pop("search_indexes", None)
        assert dense_search(engine) == ({"test-hashing-embedder"}, [])  # the trap
        report = reembed_passages(engine, batch_size=3)
        assert (report.passages, report.encoded) == (4, 4)
        models, found = dense_search(engine)
        assert models == {"all-MiniLM-L6-v2+onnx-int8"}
        assert found and found[0].startswith("Hydration prompts")
        assert reembed_passages(engine).passages == 0
    finally:
        engine.close()


@pytest.mark.slow
def test_reembed_cli(
    onnx_embedder: Embedder, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    engine.__dict__["embedder"] = HashingEmbedder()
    ingest_records(engine, records())
    engine.close()
    monkeypatch.setenv("SYNTH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTH_EMBEDDING_BACKEND", "onnx-int8")
    monkeypatch.setenv("SYNTH_EMBEDDING_CACHE_DIR", str(cache_dir))
    result = CliRunner().invoke(app, ["reembed", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "model": "all-MiniLM-L6-v2+onnx-int8",
        "passages": 4,
        "encoded": 4,
        "cache_hits": 0,
    }
