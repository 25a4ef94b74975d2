"""The bundled demo corpus meets its specification and its ground truth matches its text."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections import Counter, defaultdict

import pytest

from corpus import iter_records
from corpus.demo_data import DEMO_DIR, demo_entry_files, load_demo_registry
from synth.types import EntryKind, EntryRecord


@pytest.fixture(scope="module")
def records() -> list[EntryRecord]:
    items = list(itertools.chain.from_iterable(iter_records(f) for f in demo_entry_files()))
    problems = [i for i in items if not isinstance(i, EntryRecord)]
    assert problems == []
    return [i for i in items if isinstance(i, EntryRecord)]


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, object]]:
    rows = {}
    for path in sorted((DEMO_DIR / "ground_truth").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[row["id"]] = row
    return rows


def test_size_spread_and_kinds(records: list[EntryRecord]) -> None:
    assert len(records) >= 300
    assert len({r.network for r in records}) >= 8
    assert len({r.organisation for r in records}) >= 30
    months = {(r.occurred_on.year, r.occurred_on.month) for r in records if r.occurred_on}
    assert len(months) >= 24
    kinds = Counter(r.kind for r in records)
    assert set(kinds) == set(EntryKind)
    assert kinds.most_common(2)[0][0] in {EntryKind.PDSA, EntryKind.REFLECTION}
    words = [len(r.body.split()) for r in records]
    assert min(words) >= 35 and max(words) <= 650


def test_registry_is_consistent(records: list[EntryRecord]) -> None:
    registry = load_demo_registry()
    members = set(registry.memberships)
    projects = {p.slug: p for p in registry.projects}
    for r in records:
        assert (r.organisation, r.network) in members, r.source.external_id
        if r.project:
            assert projects[r.project].organisation == r.organisation


def test_ground_truth_quotes_the_text(
    records: list[EntryRecord], truth: dict[str, dict[str, object]]
) -> None:
    by_id = {r.source.external_id: r for r in records}
    assert set(truth) == set(by_id)
    labels: Counter[str] = Counter()
    themes: dict[str, set[str]] = defaultdict(set)
    for entry_id, row in truth.items():
        record = by_id[entry_id]
        text = record.title + "\n" + record.body
        for sentence in row["sentences"]:  # type: ignore[attr-defined]
            assert sentence["text"] in text, (entry_id, sentence["text"])
            labels[sentence["label"]] += 1
        for item in row["personal_data"]:  # type: ignore[attr-defined]
            assert item["text"] in text, (entry_id, item["text"])
        themes[row["themes"][0]].add(record.network)  # type: ignore[index]
    assert sum(labels.values()) >= 150
    assert set(labels) == {"worked", "did_not_work", "barrier", "enabler", "next_step"}
    planted = set(load_demo_registry().themes)
    assert all(len(themes[t]) >= 3 for t in planted), "each planted theme spans 3+ networks"


def test_measures_cover_projects_with_18_to_30_points() -> None:
    with (DEMO_DIR / "measures.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    series: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        series[row["measure_id"]].append(row)
        dt.date.fromisoformat(row["period"])
        float(row["value"])
    projects = {points[0]["project"] for points in series.values()}
    assert len(projects) >= 20
    assert all(18 <= len(points) <= 30 for points in series.values())
    truth = json.loads((DEMO_DIR / "measures_truth.json").read_text())
    assert set(truth) == set(series)
    assert {v["expected"] for v in truth.values()} >= {"improvement", "no signal"}
