"""Fixtures of the index tests: 3,000 clustered unit vectors under sparse external ids."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from .vectors import unit_vectors


@pytest.fixture(scope="session")
def vectors() -> NDArray[np.float32]:
    return unit_vectors(3000, 32)


@pytest.fixture(scope="session")
def ids() -> NDArray[np.int64]:
    # Sparse, non-contiguous external ids: a filter must use these, not row positions.
    return (np.arange(3000, dtype=np.int64) * 7 + 1_000_003)[::-1].copy()
