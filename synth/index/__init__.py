"""Search indexes over passages: dense (FAISS) and lexical (BM25), with their manifests.

Example:
    >>> import numpy as np
    >>> dense = build_dense_index(np.array([1, 2]), np.eye(2, dtype=np.float32))
    >>> dense.search(np.array([1, 0], dtype=np.float32), 1)
    [(1, 1.0)]
"""

from synth.index.dense import (
    DENSE_FLAT,
    DENSE_HNSW,
    DENSE_INDEX_KINDS,
    DenseIndex,
    HnswParams,
    build_dense_index,
)
from synth.index.lexical import (
    LEXICAL_BM25,
    TOKENIZERS,
    Bm25Params,
    EnglishTokenizer,
    LexicalIndex,
    Tokenizer,
    build_tokenizer,
)
from synth.index.manifest import (
    IndexManifest,
    IndexMismatchError,
    build_manifest,
    compute_ids_checksum,
    load_manifest,
    save_manifest,
    verify_manifest,
)

__all__ = [
    "DENSE_FLAT",
    "DENSE_HNSW",
    "DENSE_INDEX_KINDS",
    "LEXICAL_BM25",
    "TOKENIZERS",
    "Bm25Params",
    "DenseIndex",
    "EnglishTokenizer",
    "HnswParams",
    "IndexManifest",
    "IndexMismatchError",
    "LexicalIndex",
    "Tokenizer",
    "build_dense_index",
    "build_manifest",
    "build_tokenizer",
    "compute_ids_checksum",
    "load_manifest",
    "save_manifest",
    "verify_manifest",
]
