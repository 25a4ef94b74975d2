"""Describe a persisted index (model, dimension, ids) so a stale or foreign index is refused.

Every index folder holds a ``manifest.json`` next to the index files. It records what the
vectors mean (model, dimension, normalisation), which passages are in the index (count, last
id, a checksum of the sorted ids) and how far the index has followed deletions, so the engine
can tell at load time whether the index still matches the store, and rebuild it if not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import synth
from synth.errors import SynthError

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_FORMAT",
    "IndexManifest",
    "IndexMismatchError",
    "build_manifest",
    "compute_ids_checksum",
    "load_manifest",
    "save_manifest",
    "verify_manifest",
    "write_atomically",
]

#: File name of the manifest inside an index folder.
MANIFEST_FILE = "manifest.json"
#: Version of the manifest layout; bump it when a field changes meaning.
MANIFEST_FORMAT = 1


class IndexMismatchError(SynthError):
    """A persisted index does not match the model, the settings or the stored passages."""

    code = "index.mismatch"
    title = "Index does not match"


@dataclass(frozen=True, slots=True)
class IndexManifest:
    """What a persisted index holds and how it was built.

    Attributes:
        kind: Versioned index kind, e.g. ``"synth.index.dense.flat.v1"``.
        model: Name of the embedding model (or tokenizer, for a lexical index).
        dim: Vector dimension (0 for a lexical index).
        normalised: Whether the vectors are unit length (inner product == cosine).
        passage_count: Live passages in the index.
        last_passage_id: Highest passage id in the index, or None when it is empty.
        last_deletion_id: Id of the last deletion the index has applied, or None.
        ids_checksum: SHA-256 of the sorted live passage ids as little-endian int64.
        synth_version: ``synth.__version__`` that wrote the index.
        created_at: When the index was written (timezone aware).
        format: Manifest layout version.
    """

    kind: str
    model: str
    dim: int
    normalised: bool
    passage_count: int
    last_passage_id: int | None
    last_deletion_id: int | None
    ids_checksum: str
    synth_version: str
    created_at: dt.datetime
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        """Return the manifest as a JSON document (stable key order)."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IndexManifest:
        """Parse a manifest written by :meth:`to_json`.

        Raises:
            IndexMismatchError: The text is not a manifest of a layout this version reads.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IndexMismatchError(f"manifest is not JSON ({exc}); rebuild the index") from None
        if not isinstance(data, dict):
            raise IndexMismatchError("manifest is not a JSON object; rebuild the index")
        return cls(**_checked_fields(data))


_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "model": (str,),
    "dim": (int,),
    "normalised": (bool,),
    "passage_count": (int,),
    "last_passage_id": (int, type(None)),
    "last_deletion_id": (int, type(None)),
    "ids_checksum": (str,),
    "synth_version": (str,),
    "created_at": (str,),
    "format": (int,),
}


def _checked_fields(data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(IndexManifest)}
    missing = sorted(names - data.keys())
    unknown = sorted(data.keys() - names)
    if missing or unknown:
        raise IndexMismatchError(
            f"manifest fields do not match (missing: {missing}, unknown: {unknown}); "
            "rebuild the index"
        )
    for name, types in _TYPES.items():
        value = data[name]
        bad_bool = isinstance(value, bool) and bool not in types
        if bad_bool or not isinstance(value, types):
            raise IndexMismatchError(f"manifest field '{name}' has a wrong type; rebuild the index")
    if data["format"] != MANIFEST_FORMAT:
        raise IndexMismatchError(
            f"manifest format {data['format']} is not {MANIFEST_FORMAT}; rebuild the index"
        )
    try:
        created = dt.datetime.fromisoformat(data["created_at"])
    except ValueError:
        raise IndexMismatchError(
            "manifest 'created_at' is not ISO 8601; rebuild the index"
        ) from None
    return {**data, "created_at": created}


def compute_ids_checksum(ids: Iterable[int] | NDArray[np.int64]) -> str:
    """Return the SHA-256 hex digest of the sorted unique ids as little-endian int64 bytes.

    Example:
        >>> compute_ids_checksum([3, 1, 2]) == compute_ids_checksum([1, 2, 3, 3])
        True
    """
    array = np.unique(np.fromiter(ids, dtype=np.int64) if not isinstance(ids, np.ndarray) else ids)
    return hashlib.sha256(array.astype("<i8").tobytes()).hexdigest()


def build_manifest(
    kind: str,
    *,
    model: str,
    dim: int,
    ids: NDArray[np.int64],
    normalised: bool = True,
    last_deletion_id: int | None = None,
    created_at: dt.datetime | None = None,
) -> IndexManifest:
    """Describe an index holding the passages ``ids``.

    Args:
        kind: Versioned index kind.
        model: Embedding model (or tokenizer) name.
        dim: Vector dimension (0 for a lexical index).
        ids: Live passage ids in the index (any order).
        normalised: Whether the vectors are unit length.
        last_deletion_id: Last deletion applied to the index, if deletions are tracked.
        created_at: Timestamp to record; defaults to now (UTC).

    Returns:
        The manifest.
    """
    unique = np.unique(np.asarray(ids, dtype=np.int64))
    return IndexManifest(
        kind=kind,
        model=model,
        dim=dim,
        normalised=normalised,
        passage_count=int(unique.size),
        last_passage_id=int(unique[-1]) if unique.size else None,
        last_deletion_id=last_deletion_id,
        ids_checksum=compute_ids_checksum(unique),
        synth_version=synth.__version__,
        created_at=created_at or dt.datetime.now(dt.UTC),
    )


def verify_manifest(
    manifest: IndexManifest,
    *,
    model: str,
    dim: int,
    kinds: Iterable[str] | None = None,
    normalised: bool = True,
    ids: NDArray[np.int64] | None = None,
) -> None:
    """Check that a persisted index is usable with the current model and passages.

    Args:
        manifest: The manifest read from the index folder.
        model: The model now configured.
        dim: Its dimension.
        kinds: Index kinds that are acceptable, or None for any.
        normalised: Whether the vectors must be unit length.
        ids: The passage ids the index should hold, or None to skip that check.

    Raises:
        IndexMismatchError: Anything differs; the message lists every difference.
    """
    problems = []
    allowed = sorted(kinds) if kinds is not None else None
    if allowed is not None and manifest.kind not in allowed:
        problems.append(f"kind '{manifest.kind}' is not one of {', '.join(allowed)}")
    if manifest.model != model:
        problems.append(f"model '{manifest.model}' is not the configured '{model}'")
    if manifest.dim != dim:
        problems.append(f"dimension {manifest.dim} is not {dim}")
    if manifest.normalised != normalised:
        problems.append(f"normalised={manifest.normalised} where {normalised} is needed")
    if ids is not None and compute_ids_checksum(ids) != manifest.ids_checksum:
        problems.append(
            f"the index holds {manifest.passage_count} passages, which differ from the "
            f"{np.unique(ids).size} stored"
        )
    if problems:
        raise IndexMismatchError("index does not match: " + "; ".join(problems) + "; rebuild it")


@contextmanager
def write_atomically(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and move it over ``path``.

    Readers see either the old file or the complete new one, never a partial write.

    Raises:
        OSError: The file could not be written or moved (the temporary file is removed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_manifest(folder: Path, manifest: IndexManifest) -> Path:
    """Write ``folder/manifest.json`` atomically and return its path."""
    path = Path(folder) / MANIFEST_FILE
    with write_atomically(path) as tmp:
        tmp.write_text(manifest.to_json(), encoding="utf-8")
    return path


def load_manifest(folder: Path) -> IndexManifest:
    """Read ``folder/manifest.json``.

    Raises:
        IndexMismatchError: The manifest is missing or unreadable.
    """
    path = Path(folder) / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndexMismatchError(f"{path} does not exist; build the index first") from None
    return IndexManifest.from_json(text)
