r"""SciFact study in the product's shape, on the vectors a ``synth eval retrieval`` store holds.

    SYNTH_EMBEDDING_BACKEND=onnx-int8 SYNTH_DATA_DIR=var/backends/onnx-int8 \
      SYNTH_OUTCOMES__ENABLED=false synth eval retrieval --dataset ../shared/data/scifact --json
    .venv/bin/python bench/scifact_product.py --data-dir var/backends/onnx-int8 \
      --backend onnx-int8 [--json out.json]

``bench/scifact_tuning.py`` studies SciFact at the document level with torch vectors of its
own; this bench reads the passages, titles and stored embeddings of the store that the eval
command left under ``<data dir>/eval/`` (so the vectors are exactly the ones the product
searches, whatever the backend), encodes the queries one at a time as ``search_entries`` does,
and replays the product's search: dense and BM25 passage lists ``depth`` deep, fused as
passages (then each entry takes its best one) or as entries (``SYNTH_SEARCH__FUSION_LEVEL``),
the first 100 entries scored as ``synth eval retrieval`` scores them (which lists at least 300
passages deep). A numpy replica of the fusion runs the grids and is checked against the
product's own functions first; on the product defaults this bench reproduces the eval
command's figures exactly. Every choice is made on the 809 TRAIN queries, starting from the
defaults before the study (passage-level fusion), one factor at a time, a change kept only
if it gains at least ``MIN_GAIN``; the 300 TEST queries are read only for the final table.

Data: SciFact (Wadden et al., 2020), CC BY-NC 2.0, in the BEIR benchmark (Thakur et al., 2021).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
from numpy.typing import NDArray
from scifact_tuning import Score, Table  # the same measures and tables (run from bench/)
from sqlalchemy import create_engine, select

from corpus.beir import load_beir
from models import Entry, Passage
from synth.config import EmbeddingConfig
from synth.core.chunking import with_title
from synth.core.fusion import Scored, aggregate_passages, convex, rrf
from synth.core.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from synth.embedding import build_embedder
from synth.index import DenseIndex, LexicalIndex

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "var" / "bench-cache"
DEPTH = 1000  # passages kept per list; every setup below reads a prefix of these
EVAL_DEPTH = 300  # synth eval retrieval lists at least this many passages per retriever


@dataclass(frozen=True)
class Store:
    """The passages of an eval store, in id order."""

    ids: NDArray[np.int64]
    entry_of: dict[int, int]  # passage id -> entry id
    doc_of: dict[int, str]  # entry id -> dataset document id
    titles: list[str]
    texts: list[str]
    vectors: NDArray[np.float32]
    model: str


def eval_store(data_dir: Path, dataset: Path) -> Path:
    """The store ``synth eval retrieval --dataset`` uses under ``data_dir`` (same key)."""
    key = hashlib.sha256(str(dataset.resolve()).encode()).hexdigest()[:10]
    return data_dir / "eval" / f"{dataset.name}-{key}" / "store.db"


def read_store(path: Path) -> Store:
    """Read passages, their entry's title and source id, and their stored vectors."""
    if not path.exists():
        raise SystemExit(f"{path} not found: run synth eval retrieval with this data dir first")
    engine = create_engine(f"sqlite:///{path}")
    query = (
        select(
            Passage.id,
            Passage.entry_id,
            Entry.external_id,
            Entry.title,
            Passage.text,
            Passage.embedding,
            Passage.embedding_model,
            Passage.embedding_dim,
        )
        .join(Entry, Entry.id == Passage.entry_id)
        .order_by(Passage.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    engine.dispose()
    models = {r.embedding_model for r in rows}
    if len(models) != 1:
        raise SystemExit(f"expected one embedding model in the store, found {sorted(models)}")
    dim = rows[0].embedding_dim
    vectors = np.frombuffer(b"".join(r.embedding for r in rows), dtype="<f4").reshape(-1, dim)
    return Store(
        ids=np.asarray([r.id for r in rows], dtype=np.int64),
        entry_of={r.id: r.entry_id for r in rows},
        doc_of={r.entry_id: str(r.external_id) for r in rows},
        titles=[r.title for r in rows],
        texts=[r.text for r in rows],
        vectors=vectors.astype(np.float32),
        model=models.pop(),
    )


def encode_queries(backend: str, model: str, texts: Sequence[str], tag: str) -> NDArray[np.float32]:
    """Encode each query alone (as search does; int8 vectors vary with the batch), cached."""
    digest = hashlib.sha256("\0".join([model, *texts]).encode("utf-8")).hexdigest()[:20]
    path = CACHE / f"{tag}-{digest}.npy"
    if path.exists():
        cached: NDArray[np.float32] = np.load(path)
        return cached
    embedder = build_embedder(EmbeddingConfig(backend=backend))
    if embedder.name != model:
        raise SystemExit(
            f"the store holds {model} vectors; backend {backend} gives {embedder.name}"
        )
    vectors = np.concatenate([embedder.encode([t]) for t in texts]).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


@dataclass(frozen=True)
class Split:
    """The judged queries of one split, and their passage lists."""

    name: str
    query_ids: list[str]
    texts: list[str]
    qrels: dict[str, dict[str, int]]


def read_split(folder: Path, name: str) -> Split:
    """Queries with at least one judgement, as ``evaluate_retrieval`` keeps them."""
    data = load_beir(folder, name)
    judged = [q for q in data.queries if data.qrels.get(q.query_id)]
    return Split(name, [q.query_id for q in judged], [q.text for q in judged], data.qrels)


Lists = list[list[Scored]]


def lexical_texts(store: Store, title_times: int) -> list[str]:
    """Texts BM25 indexes: "title. passage" with the title repeated ``title_times`` times."""
    if title_times == 1:
        return [with_title(t, x) for t, x in zip(store.titles, store.texts, strict=True)]
    return [
        " ".join([t.strip()] * (title_times - 1) + [with_title(t, x)]) if t.strip() else x
        for t, x in zip(store.titles, store.texts, strict=True)
    ]


# --------------------------------------------------------------------------- the product's shape


@dataclass(frozen=True)
class Setup:
    """One way of turning the two passage lists into an entry ranking."""

    fusion: str = "convex"  # "convex" or "rrf"
    normalisation: str = "zscore"
    alpha: float = 0.5
    rrf_k: float = 10.0
    depth: int = 100  # product setting; the eval lists max(depth, 300)
    level: str = "passage"  # "passage": fuse passages, then entries; "entry": the other way
    second: float = 0.0  # weight of an entry's second-best passage (geometric beyond)
    title_times: int = 1

    def label(self) -> str:
        """Short description for tables."""
        how = (
            f"convex {self.normalisation} α={self.alpha:g}"
            if self.fusion == "convex"
            else f"RRF k={self.rrf_k:g}"
        )
        extra = f" {self.level}-level" if self.level != "passage" else ""
        extra += f" +{self.second:g}×2nd" if self.second else ""
        extra += f" BM25 title×{self.title_times}" if self.title_times != 1 else ""
        return f"{how} depth={self.depth}{extra}"


def fuse_lists(dense: list[Scored], lexical: list[Scored], setup: Setup) -> list[Scored]:
    """``synth.search.service._fuse``."""
    if not dense or not lexical:
        return dense or lexical
    if setup.fusion == "convex":
        return convex(dense, lexical, setup.alpha, normalisation=setup.normalisation)  # type: ignore[arg-type]
    return rrf([dense, lexical], k=setup.rrf_k)


def rank_entries(fused: list[Scored], entry_of: dict[int, int], second: float) -> list[Scored]:
    """``_rank_entries`` without the organisation cap: best passage, plus a share of the rest."""
    if second:
        return aggregate_passages(fused, entry_of, method="max+decay", decay=second)
    best: dict[int, float] = {}
    for pid, score in fused:
        entry = entry_of[pid]
        if entry not in best or score > best[entry]:
            best[entry] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def ranking(dense: list[Scored], lexical: list[Scored], store: Store, setup: Setup) -> list[Scored]:
    """The entry ranking ``search_entries`` would return for one query (hybrid)."""
    depth = max(setup.depth, EVAL_DEPTH)
    dense, lexical = dense[:depth], lexical[:depth]
    if setup.level == "entry":
        dense = rank_entries(dense, store.entry_of, setup.second)
        lexical = rank_entries(lexical, store.entry_of, setup.second)
        return fuse_lists(dense, lexical, setup)
    return rank_entries(fuse_lists(dense, lexical, setup), store.entry_of, setup.second)


def score(rankings: Sequence[list[Scored]], split: Split, store: Store) -> Score:
    """Score entry rankings as ``evaluate_retrieval`` does (first 100, by their scores)."""
    run = {
        qid: {store.doc_of[e]: s for e, s in r[:100]}
        for qid, r in zip(split.query_ids, rankings, strict=True)
    }
    return Score(
        ndcg_at_k(run, split.qrels, 10),
        recall_at_k(run, split.qrels, 100),
        mrr_at_k(run, split.qrels, 10),
    )


@dataclass(frozen=True)
class Runs:
    """Per split: dense passage lists and BM25 passage lists by title weight."""

    dense: dict[str, Lists]
    lexical: dict[tuple[str, int], Lists]


def evaluate(setup: Setup, split: Split, runs: Runs, store: Store) -> Score:
    """Hybrid scores of ``setup`` on ``split``, through the product's own fusion functions."""
    dense, lexical = runs.dense[split.name], runs.lexical[(split.name, setup.title_times)]
    return score(
        [ranking(d, x, store, setup) for d, x in zip(dense, lexical, strict=True)], split, store
    )


# The grids below run hundreds of setups over 809 queries: this numpy replica of
# convex/rrf + best-passage (+ decayed rest) gives the same entry scores up to the last bits of
# a float sum; ``check_fast`` compares the two on the product defaults before the study.


def _normalised(scores: NDArray[np.float64], method: str) -> tuple[NDArray[np.float64], float]:
    if method == "minmax":
        span = scores.max() - scores.min()
        return ((scores - scores.min()) / span if span > 0 else np.ones_like(scores)), 0.0
    std = scores.std()
    if std == 0:
        return np.zeros_like(scores), 0.0
    values = (scores - scores.mean()) / std
    return values, float(values.min())


def _entry_max(
    ids: NDArray[np.int64], scores: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    order = np.lexsort((-scores, ids))
    ids, scores = ids[order], scores[order]
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return ids[first], scores[first]


def fast_ranking(
    dense: tuple[NDArray[np.int64], NDArray[np.float64]],
    lexical: tuple[NDArray[np.int64], NDArray[np.float64]],
    entry_of: NDArray[np.int64],
    setup: Setup,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Entry ids and scores (unsorted) for one query; ids in ``dense``/``lexical`` are rows."""
    depth = max(setup.depth, EVAL_DEPTH)
    (d_ids, d_s), (l_ids, l_s) = (
        (dense[0][:depth], dense[1][:depth]),
        (
            lexical[0][:depth],
            lexical[1][:depth],
        ),
    )
    if setup.level == "entry":
        if setup.second:
            raise ValueError("the replica scores entry-level lists by their best passage only")
        d_ids, d_s = _entry_max(entry_of[d_ids], d_s)
        l_ids, l_s = _entry_max(entry_of[l_ids], l_s)
    if d_ids.size == 0 or l_ids.size == 0:
        ids, fused = (d_ids, d_s) if d_ids.size else (l_ids, l_s)
    else:
        ids = np.union1d(d_ids, l_ids)
        if setup.fusion == "convex":
            (nd, fd), (nl, fl) = (
                _normalised(d_s, setup.normalisation),
                _normalised(l_s, setup.normalisation),
            )
        else:
            nd, fd = 1.0 / (setup.rrf_k + np.arange(1, d_s.size + 1, dtype=np.float64)), 0.0
            nl, fl = 1.0 / (setup.rrf_k + np.arange(1, l_s.size + 1, dtype=np.float64)), 0.0
        a = np.full(ids.size, fd)
        a[np.searchsorted(ids, d_ids)] = nd
        b = np.full(ids.size, fl)
        b[np.searchsorted(ids, l_ids)] = nl
        fused = setup.alpha * a + (1 - setup.alpha) * b if setup.fusion == "convex" else a + b
    if setup.level == "entry":
        return ids, fused
    entries = entry_of[ids]
    order = np.lexsort((-fused, entries))
    entries, fused = entries[order], fused[order]
    starts = np.flatnonzero(np.r_[True, entries[1:] != entries[:-1]])
    if not setup.second:
        return entries[starts], fused[starts]
    rank = np.arange(entries.size) - np.repeat(starts, np.diff(np.r_[starts, entries.size]))
    part = np.where(rank == 0, fused, np.maximum(fused, 0) * setup.second ** rank.astype(float))
    return entries[starts], np.add.reduceat(part, starts)


@dataclass(frozen=True)
class Arrays:
    """The lists of :class:`Runs` as arrays of passage rows (for :func:`fast_ranking`)."""

    dense: dict[str, list[tuple[NDArray[np.int64], NDArray[np.float64]]]]
    lexical: dict[tuple[str, int], list[tuple[NDArray[np.int64], NDArray[np.float64]]]]
    entry_of: NDArray[np.int64]  # passage row -> entry id


def to_arrays(runs: Runs, store: Store) -> Arrays:
    """Passage ids become rows of ``store.ids`` (sorted), so entry lookups are one take."""

    def convert(lists: Lists) -> list[tuple[NDArray[np.int64], NDArray[np.float64]]]:
        out = []
        for items in lists:
            ids = np.asarray([i for i, _ in items], dtype=np.int64)
            out.append(
                (np.searchsorted(store.ids, ids), np.asarray([s for _, s in items], dtype=float))
            )
        return out

    entry_of = np.asarray([store.entry_of[int(i)] for i in store.ids], dtype=np.int64)
    return Arrays(
        {k: convert(v) for k, v in runs.dense.items()},
        {k: convert(v) for k, v in runs.lexical.items()},
        entry_of,
    )


def fast_evaluate(setup: Setup, split: Split, arrays: Arrays, store: Store) -> Score:
    """Hybrid scores of ``setup`` on ``split`` through :func:`fast_ranking`."""
    dense, lexical = arrays.dense[split.name], arrays.lexical[(split.name, setup.title_times)]
    rankings = []
    for d, x in zip(dense, lexical, strict=True):
        ids, scores = fast_ranking(d, x, arrays.entry_of, setup)
        top = np.lexsort((ids, -scores))[:100]
        rankings.append([(int(ids[i]), float(scores[i])) for i in top])
    return score(rankings, split, store)


def check_fast(split: Split, runs: Runs, arrays: Arrays, store: Store) -> None:
    """The replica must reproduce the product's functions (to 1e-4) before the study uses it."""
    for setup in (
        Setup(),
        Setup(normalisation="minmax", second=0.2),
        Setup(fusion="rrf"),
        Setup(level="entry", alpha=0.4),
    ):
        exact, fast = (
            evaluate(setup, split, runs, store),
            fast_evaluate(setup, split, arrays, store),
        )
        print(f"  check {setup.label()}: product {exact.ndcg:.5f}, replica {fast.ndcg:.5f}")
        if abs(exact.ndcg - fast.ndcg) > 1e-4 or abs(exact.recall - fast.recall) > 1e-4:
            raise SystemExit("the numpy replica disagrees with the product's fusion")


def single(lists: Lists, split: Split, store: Store, second: float = 0.0) -> Score:
    """BM25 or dense alone, entries from their best passage (as the eval does)."""
    return score(
        [rank_entries(x[:EVAL_DEPTH], store.entry_of, second) for x in lists], split, store
    )


# --------------------------------------------------------------------------- the study


#: A change is kept only if it beats the current choice by this much nDCG@10 on TRAIN: the
#: 95 % bootstrap interval of a paired difference over the 809 queries is about ±0.005, so
#: smaller steps are noise that a greedy search would otherwise stack up. Candidates within
#: this much of the best count as equal, and the first of them in the order given (simplest
#: first: no new parameter before a tuned weight) is taken.
MIN_GAIN = 0.001


def grid(
    table: Table, current: Setup, setups: Sequence[Setup], run: Callable[[Setup], Score]
) -> Setup:
    """Run ``current`` and every setup; keep a change only if it clears :data:`MIN_GAIN`."""
    results = {s: table.add(s.label(), run(s)) for s in [current, *setups]}
    top = max(r.ndcg for r in results.values())
    floor = max(results[current].ndcg + MIN_GAIN, top - MIN_GAIN)
    return next((s for s in setups if results[s].ndcg >= floor), current)


def study(train: Split, arrays: Arrays, store: Store) -> tuple[Setup, list[Table]]:
    """One factor at a time on TRAIN, from the earlier defaults (passage-level fusion)."""

    def run(setup: Setup) -> Score:
        return fast_evaluate(setup, train, arrays, store)

    def vary(base: Setup, **change: object) -> Setup:
        return Setup(**{**asdict(base), **change})

    def weights(base: Setup) -> list[Setup]:
        return [
            vary(base, fusion="convex", normalisation=n, alpha=a / 20)
            for n in ("zscore", "minmax")
            for a in range(7, 15)
            if ("convex", n, a / 20) != (base.fusion, base.normalisation, base.alpha)
        ]

    best = Setup()  # SearchConfig before this study: fusion_level "passage"
    tables = [Table("Fusion (TRAIN, 809 queries, hybrid)", [])]
    fusion = [*weights(best), *(Setup(fusion="rrf", rrf_k=k) for k in (5, 10, 20, 60))]
    best = grid(tables[0], best, fusion, run)
    tables.append(Table("Entry scoring (TRAIN, hybrid)", []))
    scoring = [vary(best, level="entry"), *(vary(best, second=w) for w in (0.05, 0.1, 0.2, 0.3))]
    best = grid(tables[1], best, scoring, run)
    tables.append(Table("BM25 title weight (TRAIN, hybrid)", []))
    best = grid(tables[2], best, [vary(best, title_times=t) for t in (2, 3)], run)
    tables.append(Table("Fusion weight again, with the choices above (TRAIN, hybrid)", []))
    best = grid(tables[3], best, weights(best), run)
    # Deeper lists: reported, not candidates. An HNSW index (above 50k passages) must search
    # with efSearch >= depth, so 1000-deep lists would cost the latency targets.
    tables.append(Table("Fusion depth, not a candidate (TRAIN, hybrid)", []))
    for depth in (500, 1000):
        tables[4].add(vary(best, depth=depth).label(), run(vary(best, depth=depth)))
    return best, tables


def report(split: Split, runs: Runs, store: Store, chosen: Setup) -> Table:
    """BM25, dense and hybrid of the product defaults and of the chosen setup."""
    table = Table(f"{split.name.upper()} ({len(split.query_ids)} queries)", [])
    table.add("BM25 (product: title. passage)", single(runs.lexical[(split.name, 1)], split, store))
    if chosen.title_times != 1:
        lexical = runs.lexical[(split.name, chosen.title_times)]
        table.add(f"BM25 title×{chosen.title_times}", single(lexical, split, store))
    table.add("dense (product)", single(runs.dense[split.name], split, store))
    table.add(f"hybrid, earlier default: {Setup().label()}", evaluate(Setup(), split, runs, store))
    table.add(f"hybrid, chosen on train: {chosen.label()}", evaluate(chosen, split, runs, store))
    return table


def build_runs(store: Store, splits: Sequence[Split], backend: str, titles: Sequence[int]) -> Runs:
    """Dense (exact, as the product below 50k passages) and BM25 lists for every query."""
    dense_index = DenseIndex(store.vectors.shape[1])
    dense_index.add(store.ids, store.vectors)
    dense: dict[str, Lists] = {}
    lexical: dict[tuple[str, int], Lists] = {}
    for split in splits:
        queries = encode_queries(backend, store.model, split.texts, f"queries-{split.name}")
        dense[split.name] = [dense_index.search(q, DEPTH) for q in queries]
    for times in titles:
        index = LexicalIndex().build(store.ids, lexical_texts(store, times))
        for split in splits:
            lexical[(split.name, times)] = [index.search(t, DEPTH) for t in split.texts]
    return Runs(dense, lexical)


def main() -> None:
    """Study on TRAIN, report the product defaults and the choice on TRAIN and TEST."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the BEIR folder")
    parser.add_argument("--data-dir", type=Path, required=True, help="SYNTH_DATA_DIR of the eval")
    parser.add_argument("--backend", default="onnx-int8", choices=("torch", "onnx-int8"))
    parser.add_argument("--json", type=Path, help="write the tables here")
    args = parser.parse_args()
    start = time.perf_counter()
    store = read_store(eval_store(args.data_dir, args.data))
    train, test = read_split(args.data, "train"), read_split(args.data, "test")
    print(f"{len(store.ids)} passages ({store.model}); {len(train.texts)} train, {len(test.texts)}")
    runs = build_runs(store, (train, test), args.backend, (1, 2, 3))
    print(f"lists ready after {time.perf_counter() - start:.0f} s", flush=True)
    arrays = to_arrays(runs, store)
    check_fast(train, runs, arrays, store)
    chosen, tables = study(train, arrays, store)
    tables += [report(train, runs, store, chosen), report(test, runs, store, chosen)]
    print("\n\n".join(t.markdown() for t in tables))
    print(f"\nchosen on train: {chosen}\n{time.perf_counter() - start:.0f} s in all")
    if args.json:
        out = {
            "chosen": asdict(chosen),
            "tables": {t.title: {n: asdict(s) for n, s in t.rows} for t in tables},
        }
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
