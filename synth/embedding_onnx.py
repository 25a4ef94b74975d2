"""The same sentence-transformers model, exported to ONNX, quantised to int8, run by onnxruntime.

The export is a generated artefact: it is built from the local model on first use into a cache
folder keyed by model name, weights hash and onnxruntime version, written aside and renamed into
place, so a reader never sees half a file. Tokenisation, mean pooling over the attention mask and
L2 normalisation follow the sentence-transformers pipeline of the model (``1_Pooling``,
``sentence_bert_config.json``), so only the int8 arithmetic differs from the torch backend.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from synth.config import EmbeddingConfig
from synth.embedding import resolve_model_path, stored_model_name
from synth.errors import ConfigError, ModelNotFoundError

if TYPE_CHECKING:
    import onnxruntime  # type: ignore[import-untyped]

__all__ = ["ONNX_INT8_SUFFIX", "OnnxInt8Embedder", "build_onnx_int8_model", "model_cache_key"]

logger = logging.getLogger(__name__)

#: Appended to the model name: vectors of this backend are stored and indexed apart from torch's.
ONNX_INT8_SUFFIX = "+onnx-int8"
#: Bump when the export or quantisation recipe changes, so old cache files are not reused.
_RECIPE = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_FEW = 4
_WEIGHT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")


def _ort() -> Any:
    """Import onnxruntime, or say how to install it."""
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - depends on the environment
        raise ModelNotFoundError(
            "the onnx-int8 embedding backend needs onnxruntime and onnx: run `make install` "
            "(they are in requirements.txt), or set SYNTH_EMBEDDING_BACKEND=torch"
        ) from None
    return onnxruntime


def model_cache_key(model_dir: Path) -> str:
    """Return the cache folder name: model name, weights hash, onnxruntime version, recipe."""
    digest = hashlib.sha256()
    for name in _WEIGHT_FILES:
        file = model_dir / name
        if file.exists():
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stored_model_name(model_dir)).strip("-")[-60:]
    return f"{slug}-{digest.hexdigest()[:16]}-ort{_ort().__version__}-r{_RECIPE}"


def build_onnx_int8_model(model_dir: Path, cache_dir: Path) -> Path:
    """Return the int8 ONNX file of ``model_dir``, exporting and quantising it on first use.

    Export and quantisation run in a temporary folder beside the target; the finished file is
    renamed into place, so concurrent builders race harmlessly and readers see whole files only.
    """
    target = cache_dir / model_cache_key(model_dir) / "model.int8.onnx"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("building the int8 ONNX embedding model", extra={"path": str(target)})
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        staged = Path(tmp) / "model.int8.onnx"
        _export_fp32(model_dir, fp32)
        from onnxruntime.quantization import (  # type: ignore[import-untyped]
            QuantType,
            quantize_dynamic,
        )

        advice = _DropPreprocessAdvice()
        logging.getLogger().addFilter(advice)
        try:  # MatMul weights only: the embedding table stays fp32 (measured closer to torch)
            quantize_dynamic(
                fp32,
                staged,
                per_channel=True,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            logging.getLogger().removeFilter(advice)
        os.replace(staged, target)
    return target


class _DropPreprocessAdvice(logging.Filter):
    """Hide onnxruntime's advice to pre-process (its shape inference fails on this graph)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _export_fp32(model_dir: Path, out: Path) -> None:
    """Export the transformer (token embeddings out) with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # A padded example, so the traced graph is the one that applies the attention mask.
    example = tokenizer(["a padded example", "a"], padding=True, return_tensors="pt")

    class _TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(_INPUTS, inputs, strict=True))).last_hidden_state  # type: ignore[no-any-return]

    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "token_embeddings")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notes
        torch.onnx.export(
            _TokenEmbeddings(),
            tuple(example[name] for name in _INPUTS),
            str(out),
            input_names=list(_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _session(model: Path, threads: int) -> onnxruntime.InferenceSession:
    ort = _ort()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class OnnxInt8Embedder:
    """An :class:`~synth.ports.Embedder`: the model's int8 ONNX export on onnxruntime."""

    def __init__(self, config: EmbeddingConfig) -> None:
        from transformers import AutoTokenizer

        model_dir = resolve_model_path(config.model)
        pooling = _read_json(model_dir / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens"):
            raise ConfigError(
                f"the onnx-int8 backend supports mean-pooled models only; '{config.model}' "
                "pools otherwise: set SYNTH_EMBEDDING_BACKEND=torch"
            )
        model_file = build_onnx_int8_model(model_dir, Path(config.cache_dir or "var/models"))
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        limit = _read_json(model_dir / "sentence_bert_config.json").get("max_seq_length")
        self._max_tokens = int(limit or min(self._tokenizer.model_max_length, 512))
        self._dim = int(_read_json(model_dir / "config.json")["hidden_size"])
        self._name = stored_model_name(model_dir) + ONNX_INT8_SUFFIX
        self._batch_size = config.batch_size
        # One thread for a search query (as the torch path); onnxruntime's default for bulk.
        self._single = _session(model_file, 1)
        self._bulk = _session(model_file, 0)
        self._lock = threading.Lock()
        logger.info("embedding model loaded", extra={"model": self._name, "dim": self._dim})

    @property
    def name(self) -> str:
        """Stable model name recorded with every stored vector (differs from torch's)."""
        return self._name

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads (longer input is truncated)."""
        return self._max_tokens

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return an (n, dim) float32 array of unit-length embeddings.

        Texts are stripped and encoded longest first in batches, as sentence-transformers does,
        so each batch pads to similar lengths.
        """
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(text) for text in texts], kind="stable")
        session = self._single if len(texts) <= _FEW else self._bulk
        with self._lock:
            for start in range(0, len(order), self._batch_size):
                rows = order[start : start + self._batch_size]
                out[rows] = self._encode_batch(session, [texts[i].strip() for i in rows])
        return out

    def _encode_batch(
        self, session: onnxruntime.InferenceSession, texts: list[str]
    ) -> NDArray[np.float32]:
        features = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_tokens, return_tensors="np"
        )
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in _INPUTS}
        tokens = np.asarray(session.run(["token_embeddings"], feeds)[0], dtype=np.float32)
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Return word pieces per text, special tokens included, before truncation."""
        encoded = self._tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]
