"""Protocols for the pluggable stages of the engine (embedder, sentence splitter, progress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["Embedder", "ProgressReporter", "SentenceSplitter"]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    @property
    def name(self) -> str:
        """Stable model name recorded with every stored vector."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return an (n, dim) array of normalised embeddings."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Return the model's word-piece count per text (to measure truncation)."""
        ...

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; longer input is truncated."""
        ...


class SentenceSplitter(Protocol):
    """Finds sentence boundaries as character spans."""

    def split(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Return sentence (start, end) spans per text."""
        ...


class ProgressReporter(Protocol):
    """Receives progress of a long job (a rich bar in the CLI, job status in the API)."""

    def start(self, total: int, description: str) -> None:
        """Begin a phase of ``total`` units."""
        ...

    def advance(self, units: int = 1) -> None:
        """Record ``units`` more done."""
        ...
