"""The one settings object of synth, read from ``SYNTH_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from synth.config import (
    DEFAULT_EMBEDDING_MODEL,
    ChunkConfig,
    DedupeConfig,
    EmbeddingConfig,
    EngineConfig,
    IndexConfig,
    JobConfig,
    MeasureConfig,
    OutcomeConfig,
    RedactionConfig,
    SearchConfig,
    ThemeConfig,
    TopicConfig,
)

__all__ = ["DEV_PSEUDONYM_KEY", "DEV_SESSION_SECRET", "Settings", "get_settings"]

DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key"
DEV_SESSION_SECRET = "dev-only-session-secret"


class Settings(BaseSettings):
    """Deployment settings. Every field is documented in the README (a test checks it)."""

    model_config = SettingsConfigDict(
        env_prefix="SYNTH_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    env: Literal["dev", "prod"] = Field("dev", description="`prod` refuses development secrets.")
    database_url: str = Field(
        "sqlite:///var/synth.db",
        description="SQLAlchemy URL of the store: SQLite (default) or "
        "postgresql+psycopg://user@host:5432/db.",
    )
    data_dir: Path = Field(Path("var"), description="Folder for indexes and fitted models.")
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Embedding model name or local sentence-transformers directory.",
    )
    embedding_batch_size: int = Field(64, ge=1, le=1024, description="Passages per encode batch.")
    embedding_backend: Literal["torch", "onnx-int8"] = Field(
        "onnx-int8",
        description="Embedding backend: `onnx-int8` (3.5x faster, same retrieval quality; "
        "docs/benchmarks.md) or `torch`. Vectors are stored under the backend's model name: "
        "after switching on an existing store, run `synth reembed`.",
    )
    embedding_cache_dir: Path | None = Field(
        None, description="Folder for the generated ONNX model; default <data_dir>/models."
    )
    embedding_query_cache_size: int = Field(
        4096,
        ge=0,
        le=1_000_000,
        description="Search-query vectors kept per process (LRU, keyed by model and "
        "whitespace-normalised query text); 0 turns the cache off.",
    )
    hf_hub_offline: bool = Field(
        True, description="Set HF_HUB_OFFLINE=1 so nothing is fetched from a model hub."
    )
    chunk: ChunkConfig = Field(ChunkConfig(), description="Passage sizes (SYNTH_CHUNK__*).")
    redaction: RedactionConfig = Field(
        RedactionConfig(), description="Personal-data redaction (SYNTH_REDACTION__*)."
    )
    dedupe: DedupeConfig = Field(DedupeConfig(), description="Near duplicates (SYNTH_DEDUPE__*).")
    index: IndexConfig = Field(IndexConfig(), description="Search indexes (SYNTH_INDEX__*).")
    search: SearchConfig = Field(SearchConfig(), description="Hybrid search (SYNTH_SEARCH__*).")
    jobs: JobConfig = Field(JobConfig(), description="Background jobs (SYNTH_JOBS__*).")
    outcomes: OutcomeConfig = Field(
        OutcomeConfig(), description="Sentence outcome labels (SYNTH_OUTCOMES__*)."
    )
    topics: TopicConfig = Field(TopicConfig(), description="Topic model (SYNTH_TOPICS__*).")
    themes: ThemeConfig = Field(ThemeConfig(), description="Theme classes (SYNTH_THEMES__*).")
    measures: MeasureConfig = Field(
        MeasureConfig(), description="Run and control chart rules (SYNTH_MEASURES__*)."
    )
    pseudonym_key: SecretStr = Field(
        SecretStr(DEV_PSEUDONYM_KEY),
        description="Secret key for author pseudonyms (HMAC). Required outside dev.",
    )
    host: str = Field("127.0.0.1", description="Address `synth serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `synth serve` listens on.")
    log_format: Literal["text", "json"] = Field("text", description="Log line format.")
    allow_anonymous_read: bool = Field(
        False, description="Serve `public` entries read-only to callers without an API key."
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per minute per API key (token bucket); 0 turns it off."
    )
    max_body_bytes: int = Field(
        20_000_000, ge=1024, description="Largest request body accepted (413 above)."
    )
    session_secret: SecretStr = Field(
        SecretStr(DEV_SESSION_SECRET),
        description="Secret that signs the web UI's session cookie. Required outside dev.",
    )
    session_max_age_hours: int = Field(
        12, ge=1, le=24 * 30, description="How long a web UI sign-in lasts (hours)."
    )

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.env != "dev" and self.pseudonym_key.get_secret_value() == DEV_PSEUDONYM_KEY:
            raise ValueError("SYNTH_PSEUDONYM_KEY must be set to a real secret when SYNTH_ENV=prod")
        secret = self.session_secret.get_secret_value()
        if self.env != "dev" and (secret == DEV_SESSION_SECRET or len(secret) < 32):
            raise ValueError(
                "SYNTH_SESSION_SECRET must be a real secret of 32+ characters when SYNTH_ENV=prod"
            )
        return self

    def engine_config(self) -> EngineConfig:
        """Return the engine's view of these settings."""
        return EngineConfig(
            database_url=self.database_url,
            data_dir=str(self.data_dir),
            embedding=EmbeddingConfig(
                model=self.embedding_model,
                batch_size=self.embedding_batch_size,
                backend=self.embedding_backend,
                cache_dir=str(self.embedding_cache_dir or self.data_dir / "models"),
                query_cache_size=self.embedding_query_cache_size,
            ),
            chunk=self.chunk,
            redaction=self.redaction,
            dedupe=self.dedupe,
            index=self.index,
            search=self.search,
            outcomes=self.outcomes,
            topics=self.topics,
            themes=self.themes,
            measures=self.measures,
            pseudonym_key=self.pseudonym_key.get_secret_value(),
        )


@lru_cache
def get_settings() -> Settings:
    """Return the process settings, read once from the environment."""
    return Settings()
