"""BERTopic on stored passage embeddings.

UMAP + HDBSCAN, lemma n-grams, c-TF-IDF, KeyBERTInspired + MMR key phrases, and outliers
reduced by embedding similarity.

Nothing is re-embedded: the passages' stored vectors are given to BERTopic, and the only text
the embedding model sees is candidate key phrases (a few thousand short words). The model is
fitted in two steps so that key phrases describe the final topics: fit with c-TF-IDF only,
reduce outliers, then compute the representations once on the reduced assignment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synth.config import TopicConfig
from synth.core.dedupe import compute_entry_vector
from synth.ports import Embedder
from synth.topics.clustering import AdaptiveHDBSCAN, min_topics_for
from synth.topics.vocabulary import Lemmatiser, SurfaceForms, build_stop_words, split_lemmas

__all__ = ["FittedTopic", "TopicFit", "cap_outliers", "fit_topics", "resolve_sizes"]

OUTLIER = -1


@dataclass(frozen=True, slots=True)
class FittedTopic:
    """One topic of a fit: readable label, key phrases, members' centroid, representatives."""

    topic_id: int
    label: str
    key_phrases: tuple[str, ...]
    size: int
    centroid: NDArray[np.float32] = field(repr=False, compare=False)
    representatives: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class TopicFit:
    """A fitted topic model and what it says about each document (index-aligned)."""

    assignments: NDArray[np.int64]
    topics: tuple[FittedTopic, ...]
    coordinates: NDArray[np.float32]
    outlier_share_before_reduction: float
    min_topic_size: int
    umap_neighbors: int
    model: Any = field(repr=False)

    @property
    def outlier_share(self) -> float:
        """Share of documents left without a topic."""
        n = len(self.assignments)
        return float(np.mean(self.assignments == OUTLIER)) if n else 0.0


def resolve_sizes(config: TopicConfig, n_documents: int) -> tuple[int, int]:
    """Minimum topic size and UMAP neighbours for ``n_documents`` (config overrides the rule).

    min topic size = clamp(round(sqrt(n) / 3), 5, 150); UMAP neighbours =
    clamp(round(sqrt(n) / 2), 10, 50): about 8 and 12 for the 545-passage demo corpus, 33 and
    50 at 10k passages, 105 and 50 at 100k.
    """
    root = math.sqrt(max(n_documents, 1))
    size = config.min_topic_size or min(max(round(root / 3), 5), 150)
    neighbours = config.umap_neighbors or min(max(round(root / 2), 10), 50)
    return size, min(neighbours, max(n_documents - 1, 2))


class _StoredVectorBackend:
    """BERTopic embedding backend: stored vectors for known documents, the model for words."""

    def __init__(self, embedder: Embedder, known: dict[str, NDArray[np.float32]]) -> None:
        from bertopic.backend import BaseEmbedder

        class Backend(BaseEmbedder):  # type: ignore[misc]
            def embed(self, documents: list[str], verbose: bool = False) -> NDArray[np.float32]:  # noqa: ARG002
                missing = sorted({d for d in documents if d not in known})
                if missing:
                    known.update(zip(missing, embedder.encode(missing), strict=True))
                return np.stack([known[d] for d in documents])

        self.backend = Backend()


def _build_model(
    config: TopicConfig,
    n_documents: int,
    embedder: Embedder,
    known: dict[str, Any],
    nr_topics: int | None = None,
) -> Any:
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    size, neighbours = resolve_sizes(config, n_documents)
    umap_model = UMAP(
        n_neighbors=neighbours,
        n_components=min(config.umap_components, max(n_documents - 2, 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=config.random_state,
        n_epochs=config.umap_epochs,
        n_jobs=1,
        low_memory=True,
    )
    hdbscan_model = AdaptiveHDBSCAN(
        size, config.min_samples, config.cluster_selection, min_topics_for(n_documents)
    )
    return BERTopic(
        embedding_model=_StoredVectorBackend(embedder, known).backend,
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=_vectorizer(config, CountVectorizer),
        min_topic_size=size,
        top_n_words=10,
        calculate_probabilities=False,
        nr_topics=nr_topics,
    )


def _vectorizer(config: TopicConfig, count_vectorizer: Any) -> Any:
    return count_vectorizer(
        tokenizer=split_lemmas,
        token_pattern=None,
        lowercase=False,
        stop_words=build_stop_words(config.domain_stop_words),
        ngram_range=(1, config.ngram_max),
        min_df=config.min_document_frequency,
        max_features=config.max_phrases,
    )


def _representation(config: TopicConfig) -> list[Any]:
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    return [
        KeyBERTInspired(top_n_words=15, nr_candidate_words=40, random_state=config.random_state),
        MaximalMarginalRelevance(diversity=config.mmr_diversity, top_n_words=10),
    ]


def fit_topics(
    texts: Sequence[str],
    embeddings: NDArray[np.float32],
    config: TopicConfig,
    embedder: Embedder,
    *,
    nr_topics: int | None = None,
) -> TopicFit:
    """Fit topics on ``texts`` with their stored ``embeddings`` (unit length, one row each).

    ``nr_topics`` (evaluation) merges the clusters down to that many topics, BERTopic's count
    with the outlier topic included, before outliers are reduced; ``None`` keeps them all.
    """
    if len(texts) != len(embeddings):
        raise ValueError("texts and embeddings must be aligned")
    surfaces = SurfaceForms()
    docs = Lemmatiser().lemmatise(texts, surfaces)
    known = dict(zip(docs, embeddings, strict=True))
    model = _build_model(config, len(docs), embedder, known, nr_topics)
    first = np.asarray(model.fit_transform(docs, embeddings=embeddings)[0], dtype=np.int64)
    assignments = first
    if (first == OUTLIER).any() and (first != OUTLIER).any():
        reduced = model.reduce_outliers(
            docs, list(first), strategy="embeddings", embeddings=embeddings,
            threshold=config.outlier_threshold,
        )  # fmt: skip
        assignments = np.asarray(reduced, dtype=np.int64)
        assignments = cap_outliers(assignments, embeddings, config.max_outlier_share)
    model.update_topics(
        docs,
        topics=[int(t) for t in assignments],
        top_n_words=10,
        vectorizer_model=_vectorizer(config, type(model.vectorizer_model)),
        representation_model=_representation(config),
    )
    topics = _describe(model, assignments, embeddings, surfaces)
    _use_centroids(model, topics, embeddings.shape[1])
    size, neighbours = resolve_sizes(config, len(docs))
    return TopicFit(
        assignments=assignments,
        topics=topics,
        coordinates=_map_coordinates(model, len(docs)),
        outlier_share_before_reduction=float(np.mean(first == OUTLIER)),
        min_topic_size=size,
        umap_neighbors=neighbours,
        model=model,
    )


def cap_outliers(
    assignments: NDArray[np.int64], embeddings: NDArray[np.float32], max_share: float
) -> NDArray[np.int64]:
    """Assign the outliers closest to a topic until at most ``max_share`` of passages remain.

    The threshold of the first reduction is a cosine, and how many passages clear it moves with
    the fit (UMAP's layout differs across machines' floating point). This second step makes the
    share a bound: the remaining outliers, most similar first, join the topic whose centroid
    (mean unit vector of its passages) is nearest.
    """
    outliers = np.flatnonzero(assignments == OUTLIER)
    excess = len(outliers) - int(np.floor(max_share * len(assignments)))
    topics = np.unique(assignments[assignments != OUTLIER])
    if excess <= 0 or len(topics) == 0:
        return assignments
    centroids = np.stack([embeddings[assignments == t].mean(axis=0) for t in topics])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    rows = embeddings[outliers]
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    similarity = rows @ centroids.T
    nearest = similarity.argmax(axis=1)
    order = np.argsort(-similarity[np.arange(len(outliers)), nearest], kind="stable")[:excess]
    capped = assignments.copy()
    capped[outliers[order]] = topics[nearest[order]]
    return capped


def _describe(
    model: Any, assignments: NDArray[np.int64], embeddings: NDArray[np.float32],
    surfaces: SurfaceForms,
) -> tuple[FittedTopic, ...]:  # fmt: skip
    topics = []
    for topic_id in sorted(set(assignments.tolist()) - {OUTLIER}):
        members = np.flatnonzero(assignments == topic_id)
        centroid = compute_entry_vector(embeddings[members])
        closeness = embeddings[members] @ centroid
        order = members[np.argsort(-closeness, kind="stable")][:5]
        phrases = tuple(
            dict.fromkeys(surfaces.render(w) for w, _ in model.get_topic(topic_id) or [] if w)
        )
        topics.append(
            FittedTopic(
                topic_id=int(topic_id),
                label=build_label(phrases),
                key_phrases=phrases,
                size=len(members),
                centroid=centroid,
                representatives=tuple(int(i) for i in order),
            )
        )
    return tuple(topics)


def _use_centroids(model: Any, topics: Sequence[FittedTopic], dim: int) -> None:
    """Make the saved model assign new documents by member centroids, as the store does."""
    by_id = {t.topic_id: t.centroid for t in topics}
    rows = [by_id.get(i, np.zeros(dim, dtype=np.float32)) for i in sorted(set(model.topics_))]
    model.topic_embeddings_ = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)


def build_label(phrases: Sequence[str]) -> str:
    """A short label: the first phrase, plus the next one that adds a new word (≤ 2 phrases)."""
    if not phrases:
        return "(no key phrases)"
    chosen = [phrases[0]]
    words = set(phrases[0].split())
    for phrase in phrases[1:]:
        if not set(phrase.split()) <= words:
            chosen.append(phrase)
            break
    return ", ".join(chosen)


def _map_coordinates(model: Any, n_documents: int) -> NDArray[np.float32]:
    """2-D map positions: the first two principal axes of the UMAP embedding (no second fit)."""
    reduced = getattr(model.umap_model, "embedding_", None)
    if reduced is None or len(reduced) != n_documents:
        return np.zeros((n_documents, 2), dtype=np.float32)
    centred = np.asarray(reduced, dtype=np.float64) - np.mean(reduced, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coordinates: NDArray[np.float32] = (centred @ vt[:2].T).astype(np.float32)
    return coordinates
