"""Keyword search over passages with BM25 (bm25s), behind a versioned tokenizer.

bm25s scores a query from a static sparse matrix of precomputed BM25 weights (one column per
term). The index keeps the term frequencies behind that matrix, so a change of a few passages
(:meth:`LexicalIndex.updated`) tokenises only those passages and recomputes the weights with
numpy; the result equals a full build over the same passages (same document frequencies,
average length and scores), at a small share of its cost.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np
import Stemmer
from numpy.typing import NDArray
from scipy import sparse
from spacy.lang.en.stop_words import STOP_WORDS

from synth.errors import ConfigError
from synth.index.manifest import IndexMismatchError, write_atomically

__all__ = [
    "DEFAULT_TOKENIZER",
    "LEXICAL_BM25",
    "TOKENIZERS",
    "Bm25Params",
    "EnglishTokenizer",
    "LexicalIndex",
    "Tokenizer",
    "build_tokenizer",
]

logger = logging.getLogger(__name__)

#: Index kind recorded in the manifest of a BM25 index.
LEXICAL_BM25 = "synth.index.lexical.bm25.v1"
_POINTER_FILE = "lexical.json"
_IDS_FILE = "ids.npy"
_POSTINGS_FILE = "postings.npz"
_VOCAB_FILE = "vocab.json"
_FORMAT = 2  # ids, term counts and vocabulary (1: bm25s's own files, weights only)
_MASK_CACHE_SIZE = 8  # filters whose weight mask an index remembers
_TOKEN = re.compile(r"\w\w+")  # in findall, the same as r"\b\w\w+\b"


class Tokenizer(Protocol):
    """Turns texts into index terms; queries and passages must use the same one."""

    @property
    def name(self) -> str:
        """Versioned registry name, persisted with the index."""
        ...

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Return the terms of each text."""
        ...


class EnglishTokenizer:
    """Lowercase word tokens of two or more characters, English stop words removed.

    Stems are remembered per word (a corpus repeats a few tens of thousands of words), which
    makes tokenising about twice as fast as stemming every word.

    Args:
        name: Registry name reported by :attr:`name`.
        stem: Reduce terms with the Snowball English stemmer (PyStemmer).
        stop_words: Terms to drop (spaCy's English list by default).
    """

    #: Words remembered before the memory is cleared.
    CACHE_LIMIT = 500_000

    def __init__(self, name: str, *, stem: bool, stop_words: Collection[str] = STOP_WORDS) -> None:
        self._name = name
        self._stop_words = frozenset(stop_words)
        self._stemmer = Stemmer.Stemmer("english") if stem else None
        self._terms: dict[str, str] = {}  # word -> term ("" for a stop word)

    @property
    def name(self) -> str:
        """Versioned registry name."""
        return self._name

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Return the terms of each text.

        Example:
            >>> tokenizer = build_tokenizer("synth.tokenizer.en.snowball.v1")
            >>> tokenizer.tokenize(["The nurses ran huddles"])
            [['nurs', 'ran', 'huddl']]
        """
        terms = self._terms
        if len(terms) > self.CACHE_LIMIT:
            terms.clear()
        find, out = _TOKEN.findall, []
        for text in texts:
            words = find(text.lower())
            try:
                out.append([t for w in words if (t := terms[w])])
            except KeyError:
                self._learn(words)
                out.append([t for w in words if (t := terms[w])])
        return out

    def _learn(self, words: Sequence[str]) -> None:
        new = [w for w in dict.fromkeys(words) if w not in self._terms]
        kept = [w for w in new if w not in self._stop_words]
        stems = self._stemmer.stemWords(kept) if self._stemmer else kept
        self._terms.update(dict.fromkeys(new, ""))
        self._terms.update(zip(kept, stems, strict=True))


#: Tokenizers by versioned registry name.
TOKENIZERS: dict[str, Callable[[], Tokenizer]] = {
    "synth.tokenizer.en.v1": lambda: EnglishTokenizer("synth.tokenizer.en.v1", stem=False),
    "synth.tokenizer.en.snowball.v1": lambda: EnglishTokenizer(
        "synth.tokenizer.en.snowball.v1", stem=True
    ),
}
#: Snowball stemming: nDCG@10 0.695 against 0.665 unstemmed on SciFact TRAIN (BM25 0.9/0.4).
DEFAULT_TOKENIZER = "synth.tokenizer.en.snowball.v1"


def build_tokenizer(name: str) -> Tokenizer:
    """Build the tokenizer registered as ``name``.

    Raises:
        ConfigError: ``name`` is not registered (the message lists those that are).
    """
    try:
        factory = TOKENIZERS[name]
    except KeyError:
        known = ", ".join(sorted(TOKENIZERS))
        raise ConfigError(f"unknown tokenizer '{name}'; available: {known}") from None
    return factory()


@dataclass(frozen=True, slots=True)
class Bm25Params:
    """BM25 term-frequency saturation ``k1`` and length normalisation ``b`` (Lucene variant).

    The defaults were best on SciFact TRAIN over k1 0.6–2.1 x b 0.3–0.75, for whole abstracts
    and for title-prefixed passages alike (bench/scifact_tuning.py).
    """

    k1: float = 1.5
    b: float = 0.4


@dataclass(frozen=True, slots=True)
class _Postings:
    """Term frequencies by term (CSC: column ``t`` holds ``rows[indptr[t]:indptr[t + 1]]``).

    Rows are document positions (ascending within a column); ``lengths`` counts the terms of
    each document and ``vocab`` maps a term to its column.
    """

    tf: NDArray[np.float32]
    rows: NDArray[np.int32]
    indptr: NDArray[np.int64]
    lengths: NDArray[np.int64]
    vocab: dict[str, int]

    @classmethod
    def count(cls, tokens: Sequence[Sequence[str]], vocab: dict[str, int]) -> _Postings:
        """Count ``tokens`` (one list per document); new terms are added to ``vocab``."""
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        for term in dict.fromkeys(chain.from_iterable(tokens)):
            vocab.setdefault(term, len(vocab))  # a new term gets the next column
        terms = np.fromiter(
            map(vocab.__getitem__, chain.from_iterable(tokens)),
            dtype=np.int32,
            count=int(lengths.sum()),
        )
        starts = np.concatenate([[0], np.cumsum(lengths)])
        by_doc = sparse.csr_matrix(
            (np.ones(terms.size, dtype=np.float32), terms, starts),
            shape=(len(tokens), len(vocab)),
        )
        by_doc.sum_duplicates()
        by_term = by_doc.tocsc()  # rows come out ascending within each column
        return cls(
            tf=by_term.data.astype(np.float32, copy=False),
            rows=by_term.indices.astype(np.int32, copy=False),
            indptr=by_term.indptr.astype(np.int64, copy=False),
            lengths=lengths,
            vocab=vocab,
        )

    def without(self, drop: NDArray[np.bool_]) -> _Postings:
        """Return the postings without the documents flagged in ``drop`` (rows renumbered)."""
        kept = ~drop[self.rows]
        renumber = (np.cumsum(~drop) - 1).astype(np.int32)
        before = np.concatenate([[0], np.cumsum(kept)])
        return _Postings(
            tf=self.tf[kept],
            rows=renumber[self.rows[kept]],
            indptr=before[self.indptr],
            lengths=self.lengths[~drop],
            vocab=self.vocab,
        )

    def extended(self, other: _Postings) -> _Postings:
        """Return these postings followed by ``other``'s documents.

        ``other`` must have been counted on a copy of this vocabulary (its vocabulary extends
        this one).
        """
        width = len(other.vocab)
        old = np.concatenate([self.indptr, np.full(width + 1 - self.indptr.size, self.indptr[-1])])
        added = np.diff(other.indptr)
        at = np.repeat(old[1:], added)  # each new posting goes at the end of its column
        return _Postings(
            tf=np.insert(self.tf, at, other.tf),
            rows=np.insert(self.rows, at, other.rows + self.lengths.size),
            indptr=old + np.concatenate([[0], np.cumsum(added)]),
            lengths=np.concatenate([self.lengths, other.lengths]),
            vocab=other.vocab,
        )

    def weights(self, params: Bm25Params) -> NDArray[np.float32]:
        """BM25 weight of every posting, computed as bm25s computes them ("lucene").

        ``idf = log(1 + (N - df + 0.5) / (df + 0.5))`` (as float32), times
        ``tf / (k1 * (1 - b + b * length / mean length) + tf)``, rounded to float32.
        """
        if not self.tf.size:
            return np.zeros(0, dtype=np.float32)
        docs = self.lengths.size
        df = np.diff(self.indptr)
        idf = np.log(1 + (docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = params.k1 * ((1 - params.b) + params.b * self.lengths / self.lengths.mean())
        saturation = self.tf / (norm[self.rows] + self.tf)
        weights: NDArray[np.float32] = (np.repeat(idf, df) * saturation).astype(np.float32)
        return weights


class LexicalIndex:
    """A BM25 index over passages keyed by passage id.

    Args:
        tokenizer: A registered tokenizer name, or a tokenizer.
        params: BM25 parameters.

    Example:
        >>> index = LexicalIndex().build([4, 8], ["falls on the ward", "night-time medicines"])
        >>> [pid for pid, _ in index.search("ward falls", 5)]
        [4]
        >>> later = index.updated([9], ["falls clinic"], removed=[4])
        >>> [pid for pid, _ in later.search("ward falls", 5)]
        [9]
    """

    def __init__(
        self, tokenizer: str | Tokenizer = DEFAULT_TOKENIZER, params: Bm25Params | None = None
    ) -> None:
        self._tokenizer = build_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
        self._params = params or Bm25Params()
        self._ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._postings: _Postings | None = None
        self._retriever: bm25s.BM25 | None = None
        self._lock = threading.RLock()
        # Per read-only ``allowed`` array (a passage table's remembered filter): its weight
        # mask, valid while the index's ids are the same array.
        self._masks: dict[int, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]]
        self._masks = {}

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer applied to passages and queries."""
        return self._tokenizer

    @property
    def params(self) -> Bm25Params:
        """BM25 parameters."""
        return self._params

    def __len__(self) -> int:
        return int(self._ids.size)

    def ids(self) -> NDArray[np.int64]:
        """Return the passage ids in index order (a read-only array)."""
        view = self._ids.view()
        view.setflags(write=False)
        return view

    def build(self, ids: Sequence[int] | NDArray[np.int64], texts: Sequence[str]) -> LexicalIndex:
        """Index ``texts`` under passage ``ids``, replacing any earlier content; return self.

        Raises:
            ValueError: ``ids`` and ``texts`` differ in length, or an id repeats.
        """
        keys = _keys(ids, texts)
        postings = _Postings.count(self._tokenizer.tokenize(texts), {})
        self._install(keys, postings)
        return self

    def updated(
        self,
        ids: Sequence[int] | NDArray[np.int64],
        texts: Sequence[str],
        *,
        removed: Collection[int] | NDArray[np.int64] = (),
    ) -> LexicalIndex:
        """Return a new index without the ``removed`` passages and with ``texts`` added.

        Only ``texts`` are tokenised; every BM25 weight is then recomputed from the kept term
        counts, so the new index scores exactly like a :meth:`build` over the same passages
        (up to float rounding). This index is left unchanged for readers that hold it.

        Raises:
            ValueError: ``ids`` and ``texts`` differ in length, or an added id repeats or is
                already indexed (and not removed).
        """
        keys = _keys(ids, texts)
        with self._lock:
            current, postings = self._ids, self._postings
        gone = np.isin(current, np.fromiter(removed, dtype=np.int64, count=len(removed)))
        clash = np.intersect1d(keys, current[~gone])
        if clash.size:
            raise ValueError(f"passage ids already in the index: {clash[:5].tolist()}")
        fresh = LexicalIndex(self._tokenizer, self._params)
        if postings is None:
            return fresh.build(keys, texts)
        if gone.any():
            postings = postings.without(gone)
        if keys.size:
            counted = _Postings.count(self._tokenizer.tokenize(texts), dict(postings.vocab))
            postings = postings.extended(counted)
        fresh._install(np.concatenate([current[~gone], keys]), postings)
        return fresh

    def _install(self, keys: NDArray[np.int64], postings: _Postings) -> None:
        """Compute the weights of ``postings`` and make them what :meth:`search` reads."""
        retriever = None
        if keys.size:
            retriever = bm25s.BM25(k1=self._params.k1, b=self._params.b, method="lucene")
            retriever.scores = {
                "data": postings.weights(self._params),
                "indices": postings.rows,
                "indptr": postings.indptr,
                "num_docs": int(keys.size),
            }
            retriever.vocab_dict = postings.vocab
            retriever.unique_token_ids_set = set(postings.vocab.values())
            retriever.nonoccurrence_array = None
        with self._lock:
            self._ids, self._postings, self._retriever = keys, postings, retriever
            self._masks.clear()

    def search(
        self,
        query: str,
        k: int,
        *,
        allowed: Collection[int] | NDArray[np.int64] | None = None,
    ) -> list[tuple[int, float]]:
        """Return up to ``k`` (passage id, BM25 score) pairs, best first.

        Only passages sharing a term with the query are returned (their score is positive).

        Args:
            query: Free text, tokenised like the passages.
            k: Results wanted.
            allowed: Only these passage ids may be returned; the filter applies before
                ranking, so ``k`` results come back whenever ``k`` allowed passages match.
        """
        with self._lock:
            retriever, ids = self._retriever, self._ids
            if retriever is None or k <= 0:
                return []
            terms = retriever.get_tokens_ids(self._tokenizer.tokenize([query])[0])
            if not terms:
                return []
            mask = None if allowed is None else self._mask(allowed, ids)
            results = retriever.retrieve(
                [terms], k=min(k, ids.size), show_progress=False, weight_mask=mask
            )
        rows, scores = results.documents[0], results.scores[0]
        return [(int(ids[r]), float(s)) for r, s in zip(rows, scores, strict=True) if s > 0]

    def _mask(
        self, allowed: Collection[int] | NDArray[np.int64], ids: NDArray[np.int64]
    ) -> NDArray[np.float32]:
        """BM25 weight mask of ``allowed`` over ``ids``, remembered for read-only arrays."""
        pinned = isinstance(allowed, np.ndarray) and not allowed.flags.writeable
        if pinned:
            found = self._masks.get(id(allowed))
            if found is not None and found[0] is allowed and found[1] is ids:
                return found[2]
        wanted = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
        mask = np.isin(ids, wanted).astype(np.float32)
        mask.setflags(write=False)
        if pinned:
            assert isinstance(allowed, np.ndarray)
            while len(self._masks) >= _MASK_CACHE_SIZE:
                del self._masks[next(iter(self._masks))]
            self._masks[id(allowed)] = (allowed, ids, mask)  # holding ``allowed`` pins its id
        return mask

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` so that a reader sees the old or the new one whole.

        The files (passage ids, term counts, vocabulary; the weights are recomputed on load)
        go into a fresh sub-folder; ``lexical.json`` is then replaced atomically to point at
        it, and older sub-folders are removed.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"bm25-{uuid.uuid4().hex[:12]}"
        target = folder / name
        target.mkdir()
        with self._lock:
            ids, postings = self._ids, self._postings
        np.save(target / _IDS_FILE, ids, allow_pickle=False)
        if postings is not None:
            np.savez(
                target / _POSTINGS_FILE,
                tf=postings.tf,
                rows=postings.rows,
                indptr=postings.indptr,
                lengths=postings.lengths,
            )
            terms = sorted(postings.vocab, key=postings.vocab.__getitem__)
            (target / _VOCAB_FILE).write_text(json.dumps(terms), encoding="utf-8")
        pointer = {
            "folder": name,
            "format": _FORMAT,
            "tokenizer": self._tokenizer.name,
            **asdict(self._params),
        }
        with write_atomically(folder / _POINTER_FILE) as tmp:
            tmp.write_text(json.dumps(pointer, indent=2) + "\n", encoding="utf-8")
        for old in folder.glob("bm25-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexMismatchError: The folder holds no lexical index, one in an older layout, or
                one that names an unknown tokenizer.
        """
        pointer_path = Path(folder) / _POINTER_FILE
        try:
            pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
            target = Path(folder) / pointer["folder"]
            params = Bm25Params(k1=float(pointer["k1"]), b=float(pointer["b"]))
            index = cls(str(pointer["tokenizer"]), params)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexMismatchError(f"{pointer_path} is unreadable ({exc}); rebuild") from None
        except ConfigError as exc:
            raise IndexMismatchError(f"{pointer_path}: {exc.message}; rebuild") from None
        if pointer.get("format") != _FORMAT:
            raise IndexMismatchError(f"{pointer_path} is in an older layout; rebuild")
        keys = np.load(target / _IDS_FILE, allow_pickle=False).astype(np.int64)
        if keys.size:
            with np.load(target / _POSTINGS_FILE, allow_pickle=False) as arrays:
                terms = json.loads((target / _VOCAB_FILE).read_text(encoding="utf-8"))
                postings = _Postings(
                    tf=arrays["tf"],
                    rows=arrays["rows"],
                    indptr=arrays["indptr"],
                    lengths=arrays["lengths"],
                    vocab={term: i for i, term in enumerate(terms)},
                )
            index._install(keys, postings)
        return index


def _keys(ids: Sequence[int] | NDArray[np.int64], texts: Sequence[str]) -> NDArray[np.int64]:
    """Return ``ids`` as an array, checked against ``texts``.

    Raises:
        ValueError: ``ids`` and ``texts`` differ in length, or an id repeats.
    """
    keys = np.asarray(ids, dtype=np.int64).reshape(-1)
    if keys.size != len(texts):
        raise ValueError(f"{keys.size} ids for {len(texts)} texts")
    if np.unique(keys).size != keys.size:
        raise ValueError("passage ids repeat")
    return keys
