"""API keys: stored as hashes, bearer authentication, anonymous reads, rate limits, no logging."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from api.auth import RateLimiter
from api.cli import app as cli
from api.errors import RateLimitedError
from synth.errors import ConfigError
from synth.services.keys import (
    AuthenticationError,
    Principal,
    Scope,
    authenticate,
    create_key,
    revoke_key,
)
from synth.store import build_db_engine, build_session_factory, migrate
from tests.api.stack import Stack, running_stack
from tests.api.test_health_and_errors import assert_problem


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, allow_anonymous_read=False) as running:
        yield running


def test_keys_cli_shows_the_key_once_and_stores_only_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "keys.db"
    monkeypatch.setenv("SYNTH_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    args = ["keys", "create", "--name", "QI platform", "--scopes", "read,write"]
    result = runner.invoke(
        cli, [*args, "--networks", "net-a,net-b", "--organisation", "org-a1", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.stdout)
    assert list(created) == ["key"] and created["key"].startswith("synth_")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.execute(text("SELECT * FROM api_keys")))
    engine.dispose()
    assert created["key"] not in dump
    assert created["key"].split("_", 2)[2] not in dump  # not even the secret part (may hold "_")
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout)
    assert listed[0]["networks"] == ["net-a", "net-b"] and listed[0]["organisation"] == "org-a1"
    assert listed[0]["scopes"] == ["read", "write"] and "key" not in listed[0]
    assert created["key"] not in runner.invoke(cli, ["keys", "list"]).stdout
    revoked = runner.invoke(cli, ["keys", "revoke", listed[0]["prefix"], "--json"])
    assert json.loads(revoked.stdout)["revoked_at"]
    assert json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout) == []
    bad = runner.invoke(cli, ["keys", "create", "--name", "x", "--scopes", "root"])
    assert bad.exit_code == 2 and "read, write, admin" in bad.stderr


def test_authenticate_revoke_and_scope_ladder(tmp_path: Path) -> None:
    engine = build_db_engine(f"sqlite:///{tmp_path / 'k.db'}")
    migrate(engine)
    sessions = build_session_factory(engine)
    with sessions.begin() as session:
        info, token = create_key(session, name="w", scopes=["write"], networks=["Net-B"])
    with sessions() as session:
        principal = authenticate(session, token)
        assert principal.can(Scope.READ) and principal.can(Scope.WRITE)
        assert not principal.can(Scope.ADMIN)
        assert principal.networks == {"net-b"}
        assert principal.viewer.networks == {"net-b"} and not principal.viewer.sees_all
        for forged in (token[:-1] + "x", "synth_nope_x", "Bearer", ""):
            with pytest.raises(AuthenticationError):
                authenticate(session, forged)
    with sessions.begin() as session:
        revoke_key(session, str(info.id))
    with sessions() as session, pytest.raises(AuthenticationError):
        authenticate(session, token)
    with sessions() as session, pytest.raises(ConfigError):
        create_key(session, name="x", scopes=["read"], networks=["bad slug!"])
    assert Principal.anonymous().viewer.networks == frozenset()
    engine.dispose()


def test_no_key_is_401_problem_with_challenge(stack: Stack) -> None:
    for url in ("/api/v1/entries", "/api/v1/search?q=falls", "/api/v1/networks"):
        response = stack.call("anonymous", "GET", url)
        assert_problem(response, 401, "auth.unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(
        stack.client.get("/api/v1/entries", headers={"Authorization": "Basic abc"}),
        401,
        "auth.unauthenticated",
    )
    bad = stack.client.get("/api/v1/entries", headers={"Authorization": "Bearer synth_x_y"})
    assert_problem(bad, 401, "auth.unauthenticated")
    # Probes and metrics stay open.
    assert stack.client.get("/health").status_code == 200
    assert stack.client.get("/metrics").status_code == 200


def test_anonymous_reads_public_only_and_never_writes(tmp_path: Path) -> None:
    with running_stack(tmp_path, allow_anonymous_read=True) as stack:
        items = stack.call("anonymous", "GET", "/api/v1/entries").json()["items"]
        assert [e["id"] for e in items] == [stack.ids["public_c"]]
        response = stack.call(
            "anonymous",
            "POST",
            "/api/v1/entries",
            json={"kind": "story", "title": "t", "body": "b"},
        )
        assert_problem(response, 401, "auth.unauthenticated")


def test_rate_limit_is_per_key_with_retry_after(tmp_path: Path) -> None:
    with running_stack(tmp_path, rate_limit_per_minute=3) as stack:
        codes = [stack.call("reader", "GET", "/api/v1/networks").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = stack.call("reader", "GET", "/api/v1/networks")
        body = assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1 and "retry" in str(body["detail"])
        assert stack.call("writer", "GET", "/api/v1/networks").status_code == 200


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        limiter.take("k")
    with pytest.raises(RateLimitedError) as info:
        limiter.take("k")
    assert info.value.headers["Retry-After"] == "1"
    limiter.take("other")
    now[0] = 1.0
    limiter.take("k")
    RateLimiter(0).take("k")  # 0 turns limiting off


def test_keys_never_reach_the_logs(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for who in ("reader", "writer", "admin"):
        stack.call(who, "GET", "/api/v1/entries")
        stack.call(who, "GET", "/api/v1/entries/999999")
    stack.client.get("/api/v1/entries", headers={"Authorization": "Bearer synth_abc_leakme"})
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for token in [*stack.keys.values(), "leakme"]:
        assert token not in logged


def test_oversized_body_is_413_and_bad_upload_415(tmp_path: Path) -> None:
    with running_stack(tmp_path, max_body_bytes=2048) as stack:
        big = {"kind": "story", "title": "big", "body": "word " * 1000}
        assert_problem(
            stack.call("writer", "POST", "/api/v1/entries", json=big), 413, "request.too_large"
        )

        def chunks() -> Iterator[bytes]:
            yield b'{"kind": "story", "title": "big", "body": "'
            yield b"x" * 4096
            yield b'"}'

        streamed = stack.call(
            "writer",
            "POST",
            "/api/v1/entries",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert_problem(streamed, 413, "request.too_large")
        upload = stack.call(
            "writer",
            "POST",
            "/api/v1/entries/upload",
            files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
        )
        assert_problem(upload, 415, "request.unsupported_media_type")
        bulk = stack.call(
            "writer",
            "POST",
            "/api/v1/entries/bulk",
            content=b"a,b",
            headers={"content-type": "text/csv"},
        )
        assert_problem(bulk, 415, "request.unsupported_media_type")
