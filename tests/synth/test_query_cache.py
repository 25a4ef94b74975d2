"""The query-vector cache in front of the real model (`SYNTH_EMBEDDING_QUERY_CACHE_SIZE`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from synth.config import EmbeddingConfig
from synth.embedding import CacheStats, QueryCachingEmbedder, build_embedder, normalise_query
from synth.ports import Embedder

pytestmark = pytest.mark.slow


class Counting:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.encoded: list[str] = []
        self.name = inner.name
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.encoded.extend(texts)
        return self.inner.encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)


@pytest.fixture
def counting(real_embedder: Embedder) -> Counting:
    return Counting(real_embedder)


def test_a_repeat_comes_from_the_cache_with_the_models_vector(
    counting: Counting, real_embedder: Embedder
) -> None:
    cache = QueryCachingEmbedder(counting, 8)
    first = cache.encode(["falls prevention huddles"])
    again = cache.encode(["  falls   prevention\thuddles\n"])  # same words, other spacing
    assert counting.encoded == ["falls prevention huddles"]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, real_embedder.encode(["falls prevention huddles"]), atol=1e-6)
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.capacity) == (1, 1, 1, 8)
    assert first.shape == (1, real_embedder.dim) and first.dtype == np.float32


def test_different_text_is_a_miss_and_the_vectors_differ(counting: Counting) -> None:
    cache = QueryCachingEmbedder(counting, 8)
    a, b = cache.encode(["medication errors"])[0], cache.encode(["medication error rates"])[0]
    assert counting.encoded == ["medication errors", "medication error rates"]
    assert float(a @ b) < 0.999
    assert cache.stats().misses == 2


def test_the_least_recently_used_query_is_dropped_at_capacity(counting: Counting) -> None:
    cache = QueryCachingEmbedder(counting, 2)
    for text in ("hand hygiene", "sepsis screening", "hand hygiene", "pressure ulcers"):
        cache.encode([text])
    assert cache.stats().entries == 2
    cache.encode(["hand hygiene"])  # used recently: kept
    cache.encode(["sepsis screening"])  # least recently used: dropped, so encoded again
    assert counting.encoded == [
        "hand hygiene",
        "sepsis screening",
        "pressure ulcers",
        "sepsis screening",
    ]


def test_callers_cannot_corrupt_a_cached_vector(counting: Counting) -> None:
    cache = QueryCachingEmbedder(counting, 8)
    vector = cache.encode(["discharge planning"])
    kept = vector.copy()
    vector[:] = 0.0  # the caller's own array
    np.testing.assert_array_equal(cache.encode(["discharge planning"]), kept)


def test_bulk_requests_go_straight_to_the_model(counting: Counting) -> None:
    cache = QueryCachingEmbedder(counting, 8)
    passages = [f"passage number {i} about ward rounds" for i in range(6)]
    vectors = cache.encode(passages)
    assert vectors.shape == (6, counting.dim)
    assert counting.encoded == passages
    assert cache.stats() == CacheStats(0, 0, 0, 8)  # nothing cached or counted


def test_mixed_short_request_encodes_only_the_new_texts(counting: Counting) -> None:
    cache = QueryCachingEmbedder(counting, 8)
    cache.encode(["falls"])
    out = cache.encode(["falls", "delirium", "falls"])
    assert counting.encoded == ["falls", "delirium"]
    np.testing.assert_array_equal(out[0], out[2])
    assert cache.encode([]).shape == (0, counting.dim)


def test_build_embedder_adds_the_cache_only_when_sized() -> None:
    config = EmbeddingConfig()
    assert not isinstance(build_embedder(config), QueryCachingEmbedder)
    cached = build_embedder(config.model_copy(update={"query_cache_size": 16}))
    assert isinstance(cached, QueryCachingEmbedder)
    assert cached.name == cached.inner.name  # vectors are stored under the model's own name


def test_normalise_query() -> None:
    assert normalise_query("  a\t b \n c ") == "a b c"
    assert normalise_query("Falls") != normalise_query("falls")  # case is the model's business
