from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

import synth
from synth.errors import SynthError
from synth.index.manifest import (
    MANIFEST_FILE,
    IndexManifest,
    IndexMismatchError,
    build_manifest,
    compute_ids_checksum,
    load_manifest,
    save_manifest,
    verify_manifest,
    write_atomically,
)

WHEN = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def manifest(**changes: object) -> IndexManifest:
    base = build_manifest(
        "synth.index.dense.flat.v1",
        model="all-MiniLM-L6-v2",
        dim=384,
        ids=np.array([5, 3, 9], dtype=np.int64),
        last_deletion_id=12,
        created_at=WHEN,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_build_manifest_describes_the_ids() -> None:
    m = manifest()
    assert (m.passage_count, m.last_passage_id, m.last_deletion_id) == (3, 9, 12)
    assert m.synth_version == synth.__version__ and m.normalised
    empty = build_manifest("k", model="m", dim=2, ids=np.zeros(0, dtype=np.int64))
    assert empty.passage_count == 0 and empty.last_passage_id is None
    assert empty.created_at.tzinfo is not None


def test_checksum_ignores_order_and_repeats_but_not_content() -> None:
    a = compute_ids_checksum(np.array([3, 1, 2], dtype=np.int64))
    assert a == compute_ids_checksum([1, 2, 3, 3])
    assert a != compute_ids_checksum([1, 2, 4])
    assert a != compute_ids_checksum([1, 2])


def test_json_round_trip(tmp_path: Path) -> None:
    m = manifest()
    assert IndexManifest.from_json(m.to_json()) == m
    save_manifest(tmp_path, m)
    assert load_manifest(tmp_path) == m
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST_FILE]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("dim"), "missing"),
        (lambda d: d.update(extra=1), "unknown"),
        (lambda d: d.update(dim="384"), "'dim'"),
        (lambda d: d.update(normalised=1), "'normalised'"),
        (lambda d: d.update(dim=True), "'dim'"),
        (lambda d: d.update(format=2), "format 2"),
        (lambda d: d.update(created_at="yesterday"), "ISO 8601"),
    ],
)
def test_from_json_rejects_malformed_manifests(edit: object, message: str) -> None:
    data = json.loads(manifest().to_json())
    edit(data)  # type: ignore[operator]
    with pytest.raises(IndexMismatchError, match=message):
        IndexManifest.from_json(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="not JSON"):
        IndexManifest.from_json("{")


def test_mismatch_error_is_a_synth_error_with_a_code(tmp_path: Path) -> None:
    with pytest.raises(IndexMismatchError, match="build the index") as caught:
        load_manifest(tmp_path)
    assert isinstance(caught.value, SynthError)
    assert caught.value.code == "index.mismatch"


def test_verify_accepts_a_match_and_lists_every_difference() -> None:
    m = manifest()
    verify_manifest(m, model="all-MiniLM-L6-v2", dim=384, ids=np.array([9, 5, 3]))
    with pytest.raises(IndexMismatchError) as caught:
        verify_manifest(
            m,
            model="other-model",
            dim=768,
            kinds=["synth.index.dense.hnsw.v1"],
            ids=np.array([3, 5]),
        )
    text = caught.value.message
    for part in ("kind", "other-model", "768", "differ"):
        assert part in text


def test_write_atomically_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "index.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), write_atomically(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.bin"]
    with write_atomically(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
