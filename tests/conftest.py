"""Shared fixtures: real models loaded once per session, stores on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from synth.config import EngineConfig, RedactionConfig
from synth.engine import Engine, build_engine
from synth.store import migrate

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The suite's reference vectors are torch's; tests/synth/test_embedding_onnx.py covers onnx-int8.
os.environ.setdefault("SYNTH_EMBEDDING_BACKEND", "torch")

PG_URL = os.environ.get("SYNTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """A small deterministic embedder: hashed bag of words, unit length.

    Texts sharing words get similar vectors, which is all the service tests need; it
    counts calls so tests can prove nothing is embedded twice.
    """

    name = "test-hashing-embedder"
    dim = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for word in _WORD.findall(t.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) + 2 for t in texts]


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; CI must not skip it")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (set SYNTH_TEST_PG_URL)")
    name = f"synth_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.db.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if r[0] != "alembic_version"
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store URL: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'synth.db'}"
    url: str = request.getfixturevalue("pg_server_url")
    return url


def make_engine(url: str, tmp_path: Path, **overrides: object) -> Engine:
    """Build a migrated engine on ``url`` with test-friendly defaults."""
    config = EngineConfig(
        database_url=url,
        data_dir=str(tmp_path / "data"),
        **overrides,  # type: ignore[arg-type]
    )
    engine = build_engine(config)
    migrate(engine.db)
    if engine.db.dialect.name == "postgresql":
        _truncate_all(engine)
    return engine


@pytest.fixture
def fake_engine(store_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine with the hashing embedder and no NER (fast service tests), on both stores."""
    engine = make_engine(
        store_url,
        tmp_path,
        redaction=RedactionConfig(
            kinds=frozenset(k for k in RedactionConfig().kinds if k.value != "person")
        ),
    )
    engine.__dict__["embedder"] = HashingEmbedder()
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def real_embedder() -> object:
    """The real all-MiniLM-L6-v2, loaded once per session."""
    from synth.config import EmbeddingConfig
    from synth.embedding import build_embedder

    return build_embedder(EmbeddingConfig())


@pytest.fixture(scope="session")
def person_finder() -> object:
    """The real spaCy NER person finder, loaded once per session."""
    from synth.ner import SpacyPersonFinder

    return SpacyPersonFinder()


@dataclass(frozen=True)
class DemoStore:
    """A copy of the demo store with topics fitted: its URL, data dir and load reports."""

    folder: Path
    url: str
    data_dir: Path
    load_report: dict[str, object]
    fit_report: dict[str, object]

    @property
    def env(self) -> dict[str, str]:
        """Environment for CLI runs against this copy."""
        return {"SYNTH_DATABASE_URL": self.url, "SYNTH_DATA_DIR": str(self.data_dir)}


@pytest.fixture(scope="session")
def demo_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus loaded (real models) and topics fitted once per test session."""
    from typer.testing import CliRunner

    from api.cli import app

    folder = tmp_path_factory.mktemp("demo-base")
    env = {
        "SYNTH_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "SYNTH_DATA_DIR": str(folder / "data"),
    }
    runner = CliRunner()
    for name, args in (("load", ["demo", "--json"]), ("fit", ["topics", "fit", "--json"])):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        (folder / f"{name}.json").write_text(result.stdout, encoding="utf-8")
    return folder


def copy_demo(base: Path, destination: Path) -> DemoStore:
    """A private copy of the session's demo store (tests may change it freely)."""
    shutil.copytree(base, destination, dirs_exist_ok=True)
    return DemoStore(
        folder=destination,
        url=f"sqlite:///{destination / 'demo.db'}",
        data_dir=destination / "data",
        load_report=json.loads((destination / "load.json").read_text(encoding="utf-8")),
        fit_report=json.loads((destination / "fit.json").read_text(encoding="utf-8")),
    )
