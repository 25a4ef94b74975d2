"""Property: in any world, no route returns text from an entry the caller may not see.

Hypothesis builds small random worlds — networks, organisations, entries of every visibility
(each with a unique marker word in its title, body and tags) and API keys with random scopes,
networks and organisation, plus anonymous callers — seeds them into a real SQLite store and
serves them with the real app (the hashing embedder from ``tests/conftest.py``). Every GET
route that returns text is called as every caller: entry list and reads, search in all three
modes (one query naming every marker, and one per marker), more-like-this for every entry,
measures, themes and actions. A marker of an entry the caller may not see must never appear,
and every entry the caller may see must be readable (so the test cannot pass by refusing all).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import api.app
from api.app import create_app
from api.settings import Settings
from synth.services.directory import load_directory
from synth.services.ingest import ingest_records
from synth.services.keys import create_key
from synth.store import migrate
from synth.types import DirectoryEntry, EntryKind, EntryRecord, SourceRef, Visibility
from tests.api.stack import hashing_engine, stack_settings
from tests.reliability.corpus_gen import marker

pytestmark = pytest.mark.slow

MODES = ("hybrid", "dense", "bm25")
VISIBILITIES = ("public", "network", "private")


@dataclass(frozen=True)
class WorldEntry:
    network: int
    organisation: int
    visibility: str


@dataclass(frozen=True)
class WorldKey:
    scope: str
    networks: frozenset[int]
    organisation: int | None


@dataclass(frozen=True)
class World:
    networks: int
    organisations: int
    entries: tuple[WorldEntry, ...]
    keys: tuple[WorldKey, ...]
    anonymous_read: bool


@st.composite
def worlds(draw: st.DrawFn) -> World:
    networks = draw(st.integers(1, 3))
    organisations = draw(st.integers(1, 4))
    entry = st.builds(
        WorldEntry,
        st.integers(0, networks - 1),
        st.integers(0, organisations - 1),
        st.sampled_from(VISIBILITIES),
    )
    key = st.builds(
        WorldKey,
        st.sampled_from(["read", "read", "write", "admin"]),
        st.frozensets(st.integers(0, networks - 1), max_size=networks),
        st.none() | st.integers(0, organisations - 1),
    )
    return World(
        networks=networks,
        organisations=organisations,
        entries=tuple(draw(st.lists(entry, min_size=1, max_size=6))),
        keys=tuple(draw(st.lists(key, min_size=1, max_size=3))),
        anonymous_read=draw(st.booleans()),
    )


def may_see(key: WorldKey | None, entry: WorldEntry) -> bool:
    """The visibility rule, written independently of the product's code."""
    if key is not None and key.scope == "admin":
        return True
    if entry.visibility == "public":
        return True
    if key is None:
        return False
    if entry.visibility == "network":
        return entry.network in key.networks
    return entry.organisation == key.organisation


def _record(number: int, entry: WorldEntry) -> EntryRecord:
    word = marker(number)
    return EntryRecord(
        kind=EntryKind.STORY,
        title=f"Handover story {word}",
        body=f"Our ward tried safety huddles at shift handover. The {word} team saw falls drop "
        f"after bed alarms and hourly rounding were added to the handover.",
        network=f"net-{entry.network}",
        organisation=f"org-{entry.organisation}",
        visibility=Visibility(entry.visibility),
        tags=("handover", word),
        source=SourceRef(external_id=f"world-{number}"),
    )


def seed(world: World, folder: Path) -> tuple[Settings, list[str | None], list[int]]:
    """Store the world; return the settings, a token per key (None: anonymous) and entry ids."""
    settings = stack_settings(folder, allow_anonymous_read=world.anonymous_read)
    engine = hashing_engine(settings.engine_config())
    migrate(engine.db)
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=[DirectoryEntry(f"net-{n}", f"Net {n}") for n in range(world.networks)],
            organisations=[
                DirectoryEntry(f"org-{o}", f"Org {o}") for o in range(world.organisations)
            ],
            projects=[],
            memberships=[],
        )
        tokens: list[str | None] = [
            create_key(
                session,
                name=f"key-{i}",
                scopes=[key.scope],
                networks=sorted(f"net-{n}" for n in key.networks),
                organisation=None if key.organisation is None else f"org-{key.organisation}",
            )[1]
            for i, key in enumerate(world.keys)
        ]
    report = ingest_records(engine, [_record(i, e) for i, e in enumerate(world.entries)])
    engine.close()
    return settings, [*tokens, None], report.entry_ids


def _text(response_text: str) -> str:
    """The response without the echo of the caller's own query (search repeats ``q``)."""
    try:
        data = json.loads(response_text)
    except ValueError:
        return response_text
    if isinstance(data, dict):
        data.pop("query", None)
    return json.dumps(data)


def _bodies(client: TestClient, headers: dict[str, str], ids: list[int]) -> dict[str, str]:
    """Every text-returning GET route, as one caller: URL -> response text."""
    everything = " ".join(["handover", *(marker(i) for i in range(len(ids)))])
    urls = ["/api/v1/entries?limit=100", "/api/v1/measures", "/api/v1/themes", "/api/v1/actions"]
    for mode in MODES:
        urls.append(f"/api/v1/search?q={everything}&k=100&per_organisation=0&mode={mode}")
    for number, entry_id in enumerate(ids):
        urls += [
            f"/api/v1/entries/{entry_id}",
            f"/api/v1/entries/{entry_id}/similar?k=100",
            f"/api/v1/search?q={marker(number)}&k=100&per_organisation=0&mode=bm25",
        ]
    bodies = {}
    for url in urls:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.text)
        bodies[url] = _text(response.text)
    return bodies


def check_caller(
    client: TestClient, world: World, key: WorldKey | None, token: str | None, ids: list[int]
) -> None:
    """Call every route as one caller; assert no hidden marker, every visible entry readable."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    bodies = _bodies(client, headers, ids)
    for number, entry in enumerate(world.entries):
        word = marker(number)
        if not may_see(key, entry):
            leaks = [url for url, body in bodies.items() if word in body]
            assert not leaks, f"entry {number} ({entry}) leaked to {key}: {leaks}"
        elif token is not None or world.anonymous_read:
            read = client.get(f"/api/v1/entries/{ids[number]}", headers=headers)
            assert read.status_code == 200 and word in read.text, (entry, key, read.text)


@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
def test_no_route_returns_text_of_an_entry_the_caller_may_not_see(world: World) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        settings_, tokens, ids = seed(world, Path(folder))
        patch.setattr(api.app, "build_engine", hashing_engine)
        with TestClient(create_app(settings_)) as client:
            for key, token in zip([*world.keys, None], tokens, strict=True):
                check_caller(client, world, key, token, ids)


def test_the_oracle_matches_the_documented_table() -> None:
    reader = WorldKey("read", frozenset({0}), 1)
    entries = [WorldEntry(0, 0, v) for v in VISIBILITIES] + [WorldEntry(1, 1, "private")]
    assert [may_see(reader, e) for e in entries] == [True, True, False, True]
    assert [may_see(None, e) for e in entries] == [True, False, False, False]
    assert all(may_see(WorldKey("admin", frozenset(), None), e) for e in entries)
    assert set(VISIBILITIES) == {v.value for v in Visibility}
