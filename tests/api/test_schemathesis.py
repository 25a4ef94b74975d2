"""Property-based API tests with schemathesis against ``/openapi.json``: no 5xx, and every
response matches the documented schema. Bounded: a few examples per operation (~1 min)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from api.settings import Settings
from tests.api.stack import Stack, running_stack

# JSON Lines bodies of the bulk route are documented as a string: send it as text.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# The document does not depend on the store, so it is read from an app that never starts.
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("fuzz"), max_body_bytes=200_000) as stack:
        schema.app = stack.client.app  # schemathesis calls the started app over ASGI
        yield stack


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, served: Stack) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=served.headers("admin"))
    request = {k: kwargs[k] for k in ("headers", "params", "json") if kwargs.get(k) is not None}
    if "files" in kwargs or isinstance(kwargs.get("data"), dict):
        request["files"] = _files(kwargs.get("files"))
        data = kwargs.get("data")
        request["data"] = {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        request["headers"] = {
            k: v for k, v in request.get("headers", {}).items() if k.lower() != "content-type"
        }
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    response = served.client.request(kwargs["method"], case.formatted_path, **request)
    response.request.read()  # multipart bodies stream; schemathesis reads them back
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def _files(files: object) -> list[tuple[str, tuple[str, bytes]]]:
    """Generated multipart parts as httpx takes them (any value becomes a file's bytes)."""
    out = []
    for name, value in files or []:  # type: ignore[attr-defined]
        content = value[1] if isinstance(value, tuple) else value
        if not isinstance(content, bytes):
            content = str(content).encode()
        filename = value[0] if isinstance(value, tuple) and value[0] else "generated.md"
        out.append((name, (filename, content)))
    return out or [("file", ("empty.md", b""))]
