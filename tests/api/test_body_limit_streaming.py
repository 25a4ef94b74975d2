"""The body-size middleware must not cut off streamed responses.

It reads a body without Content-Length up front and replays it; after the replay the app must
see the client's real disconnect, not an immediate one (which made ``StreamingResponse`` and
``FileResponse`` send nothing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from api.auth import BodySizeLimit


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i}\n".encode()

        return StreamingResponse(chunks())

    return app


def test_streamed_response_after_a_chunked_body_arrives_whole() -> None:
    client = TestClient(BodySizeLimit(_app(), max_bytes=1000))
    response = client.post("/stream", content=iter([b"a", b"b"]))  # no Content-Length
    assert response.status_code == 200
    assert response.text == "chunk0\nchunk1\nchunk2\n"


def test_an_oversized_chunked_body_is_still_refused() -> None:
    client = TestClient(BodySizeLimit(_app(), max_bytes=4))
    response = client.post("/stream", content=iter([b"abc", b"def"]))
    assert response.status_code == 413
