"""Test vectors: clustered unit vectors, so that HNSW recall means something."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def unit_vectors(n: int, dim: int, seed: int = 0) -> NDArray[np.float32]:
    """Vectors drawn around 20 random centres (like topics), normalised."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    data = centres[rng.integers(0, 20, n)] + 0.6 * rng.standard_normal((n, dim))
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data.astype(np.float32)
