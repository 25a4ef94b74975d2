"""API keys never reach log output or stored rows, on success and on every failure path.

Complements ``test_auth.py::test_keys_never_reach_the_logs`` (reads, 404s, an unknown key):
here every record is rendered through both production formatters (text and JSON, ``extra``
fields included, tracebacks included), and the requests cover writes, jobs, 401 (unknown,
revoked and malformed keys), 403, 422, 429 and an unhandled error (500). Afterwards every
text column of the store is searched for the tokens too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import String, Text, create_engine, select

import api.routes.search
from api.logging_config import JsonFormatter
from models import Base
from synth.services.keys import create_key, revoke_key
from tests.api.stack import Stack, hashing_engine, running_stack

CANARY = "synth_canary_do_not_log_0123456789abcdef"


class Capture(logging.Handler):
    """Keeps every record, rendered by the text and the JSON formatter."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += [self.text.format(record), self.json.format(record), str(vars(record))]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, rate_limit_per_minute=30) as running:
        yield running


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _revoked_token(stack: Stack) -> str:
    engine = hashing_engine(stack.settings.engine_config())
    with engine.sessions.begin() as session:
        info, token = create_key(session, name="gone", scopes=["read"], networks=["net-a"])
        revoke_key(session, str(info.id))
    engine.close()
    return token


def _exercise(stack: Stack, revoked: str, monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Send requests down every path; return the statuses seen."""
    story = {"kind": "story", "title": "Night huddle", "body": "We met at ten each night."}
    seen = {stack.call("writer", "POST", "/api/v1/entries", json=story).status_code}
    job = stack.call("writer", "POST", "/api/v1/entries/bulk", json=[{**story, "title": "Bulk"}])
    seen.add(job.status_code)
    stack.wait_job("writer", job.json()["id"])
    seen.add(stack.call("reader", "POST", "/api/v1/entries", json=story).status_code)
    seen.add(stack.call("writer", "POST", "/api/v1/entries", json={"kind": "x"}).status_code)
    seen.add(stack.call("reader", "GET", "/api/v1/entries/999999").status_code)
    for header in (
        f"Bearer {revoked}",  # 401 revoked
        f"Bearer {CANARY}",  # 401 unknown
        f"Token {CANARY}",  # 401 wrong scheme
        f"Bearer {CANARY} {CANARY}",  # 401 malformed
        CANARY,
    ):
        params = {"q": "huddle"}
        response = stack.client.get(
            "/api/v1/search", params=params, headers={"Authorization": header}
        )
        seen.add(response.status_code)
    for _ in range(40):  # past the 30-a-minute limit: 429
        seen.add(stack.call("reader", "GET", "/api/v1/networks").status_code)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("search backend exploded")

    monkeypatch.setattr(api.routes.search, "search_entries", broken)
    # 500; the test client re-raises server errors after the app has logged them
    with contextlib.suppress(RuntimeError):
        stack.call("admin", "GET", "/api/v1/search", params={"q": "huddle"})
    return seen


def test_no_key_in_any_log_line_or_stored_text(
    stack: Stack, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked = _revoked_token(stack)
    seen = _exercise(stack, revoked, monkeypatch)
    assert {201, 202, 401, 403, 404, 422, 429} <= seen
    logged = "\n".join(capture.lines)
    assert "search backend exploded" in logged, "the 500 path was not exercised"
    secrets = [*stack.keys.values(), revoked, CANARY]
    for secret in secrets:
        assert secret not in logged
        # not even its tail (the random part may hold "_", so not split on it)
        assert secret[-12:] not in logged
    db = create_engine(stack.settings.database_url)
    with db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                stored = " ".join(str(value) for value in row if value is not None)
                for secret in secrets:
                    assert secret not in stored, f"a key is stored in {table.name}"
    db.dispose()
