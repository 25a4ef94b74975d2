"""A running API over a real SQLite store with three keys and entries of every visibility.

Imported by the API test modules (fixtures are re-exported there). Entries carry unique
marker words so tests can prove a hidden entry never reaches a response body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import api.app
from api.app import create_app
from api.settings import Settings
from synth.config import EngineConfig, RedactionConfig
from synth.engine import Engine, build_engine
from synth.services.directory import load_directory
from synth.services.ingest import ingest_records
from synth.services.keys import create_key
from synth.store import migrate
from synth.types import DirectoryEntry, EntryKind, EntryRecord, SourceRef, Visibility
from tests.conftest import HashingEmbedder

#: name -> (network, organisation, visibility, marker word only this entry contains)
ENTRIES: dict[str, tuple[str, str, str, str]] = {
    "public_c": ("net-c", "org-c1", "public", "pelicanwise"),
    "network_a": ("net-a", "org-a1", "network", "zebracorn"),
    "private_a": ("net-a", "org-a1", "private", "axolotlium"),
    "network_b": ("net-b", "org-b1", "network", "narwhalix"),
    "private_b": ("net-b", "org-b1", "private", "quokkaflux"),
}
PRINCIPALS = ("reader", "writer", "admin", "anonymous")
#: Which entries each principal may see.
SEES: dict[str, set[str]] = {
    "reader": {"public_c", "network_a"},
    "writer": {"public_c", "network_b", "private_b"},
    "admin": set(ENTRIES),
    "anonymous": {"public_c"},
}
NO_NER = RedactionConfig(kinds=frozenset(k for k in RedactionConfig().kinds if k.value != "person"))


def hashing_engine(config: EngineConfig) -> Engine:
    """The real engine with the small deterministic embedder (fast, offline)."""
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    return engine


@dataclass
class Stack:
    """The client, the tokens by principal name and the entry ids by name."""

    client: TestClient
    settings: Settings
    keys: dict[str, str]
    ids: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        """Authorization header for ``who`` (none for anonymous)."""
        token = self.keys.get(who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, who: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request as ``who``."""
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def wait_job(self, who: str, job_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
        """Poll a job until it has finished; return its last state."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body: dict[str, Any] = self.call(who, "GET", f"/api/v1/jobs/{job_id}").json()
            if body["state"] in ("succeeded", "failed"):
                return body
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish: {body}")


def _record(name: str, network: str, org: str, visibility: str, marker: str) -> EntryRecord:
    return EntryRecord(
        kind=EntryKind.STORY,
        title=f"Falls huddles {marker}",
        body=f"We ran daily safety huddles on the ward to cut falls. The {marker} group "
        f"tried bed alarms and hourly rounding, and falls went down over three months.",
        network=network,
        organisation=org,
        visibility=Visibility(visibility),
        project="huddles-a" if name == "network_a" else None,
        tags=("falls", marker),
        source=SourceRef(external_id=f"seed-{name}"),
    )


def seed(settings: Settings) -> tuple[dict[str, str], dict[str, int]]:
    """Create the directory, the entries and three keys in the store of ``settings``."""
    engine = hashing_engine(settings.engine_config())
    migrate(engine.db)
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=[DirectoryEntry(s, s.upper()) for s in ("net-a", "net-b", "net-c")],
            organisations=[DirectoryEntry(s, s.upper()) for s in ("org-a1", "org-b1", "org-c1")],
            projects=[DirectoryEntry("huddles-a", "Huddles A", "net-a", "org-a1")],
            memberships=[("org-a1", "net-a"), ("org-b1", "net-b"), ("org-c1", "net-c")],
        )
        keys = {
            "reader": create_key(session, name="reader", scopes=["read"], networks=["net-a"])[1],
            "writer": create_key(
                session, name="writer", scopes=["write"], networks=["net-b"], organisation="org-b1"
            )[1],
            "admin": create_key(session, name="admin", scopes=["admin"])[1],
        }
    records = [_record(n, *spec) for n, spec in ENTRIES.items()]
    report = ingest_records(engine, records)
    engine.close()
    return keys, dict(zip(ENTRIES, report.entry_ids, strict=True))


def stack_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test store under ``tmp_path``."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'api.db'}",
        "data_dir": tmp_path / "data",
        "redaction": NO_NER,
        "allow_anonymous_read": True,
        "rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_stack(tmp_path: Path, **overrides: Any) -> Iterator[Stack]:
    """Seed a store and serve it with the hashing embedder."""
    settings = stack_settings(tmp_path, **overrides)
    keys, ids = seed(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", hashing_engine)
        with TestClient(create_app(settings)) as client:
            yield Stack(client=client, settings=settings, keys=keys, ids=ids)
