"""Retrieval evaluation through the product's own search path (BM25, dense, hybrid)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from models import Entry
from synth.core.metrics import Qrels, mrr_at_k, ndcg_at_k, recall_at_k
from synth.engine import Engine
from synth.ports import ProgressReporter
from synth.search.query import SearchMode, SearchQuery, Viewer
from synth.search.service import search_entries

__all__ = ["RetrievalScores", "evaluate_retrieval"]

MODES: tuple[SearchMode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True, slots=True)
class RetrievalScores:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries."""

    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int

    def to_dict(self) -> dict[str, float | int]:
        """Return the ``synth eval retrieval --json`` form of one mode."""
        return {
            "ndcg@10": round(self.ndcg_at_10, 4),
            "recall@100": round(self.recall_at_100, 4),
            "mrr@10": round(self.mrr_at_10, 4),
            "queries": self.queries,
        }


def evaluate_retrieval(
    engine: Engine,
    queries: Sequence[tuple[str, str]],
    qrels: Qrels,
    *,
    modes: Sequence[SearchMode] = MODES,
    progress: ProgressReporter | None = None,
) -> dict[str, RetrievalScores]:
    """Run every judged query through :func:`search_entries` in each mode and score the runs.

    Entries are matched to the dataset's documents by their source id. No per-organisation
    cap applies, and each list is taken 100 deep (Recall@100).
    """
    judged = [(qid, text) for qid, text in queries if qrels.get(qid)]
    indexes = engine.open_indexes()
    config = engine.config.search.model_copy(update={"depth": max(engine.config.search.depth, 300)})
    with engine.sessions() as session:
        source_ids = dict(session.execute(select(Entry.id, Entry.external_id)).all())
        results: dict[str, RetrievalScores] = {}
        for mode in modes:
            if progress is not None:
                progress.start(len(judged), f"Evaluating {mode}")
            run: dict[str, dict[str, float]] = {}
            for qid, text in judged:
                hits = search_entries(
                    session,
                    indexes,
                    engine.embedder,
                    SearchQuery(text=text, k=100, per_organisation=0, mode=mode),
                    viewer=Viewer.operator(),
                    config=config,
                )
                run[qid] = {str(source_ids[h.entry_id]): h.score for h in hits}
                if progress is not None:
                    progress.advance()
            results[mode] = RetrievalScores(
                ndcg_at_10=ndcg_at_k(run, qrels, 10),
                recall_at_100=recall_at_k(run, qrels, 100),
                mrr_at_10=mrr_at_k(run, qrels, 10),
                queries=len(run),
            )
    return results
