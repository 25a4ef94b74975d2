"""The UI's static files (a stylesheet, a small script), served from memory.

Starlette's ``StaticFiles`` streams files and stops when it sees the client disconnect; the
API's body-size guard replays the request body and then reports a disconnect, so streamed
answers end early behind it. These files are small, so they are read once and sent whole.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from synth.errors import NotFoundError

__all__ = ["router", "static_url"]

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=16)
def _load(name: str) -> tuple[bytes, str]:
    path = STATIC / name
    if path.suffix not in _TYPES or path.parent != STATIC or not path.is_file():
        raise NotFoundError(f"no static file '{name}'")
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def static_url(name: str) -> str:
    """The file's URL with a content hash, so browsers may cache it for long."""
    return f"/static/{name}?v={_load(name)[1]}"


@router.get("/static/{name}")
def static_file(request: Request, name: str) -> Response:
    """One static file (304 when the browser's copy is current)."""
    body, etag = _load(name)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[Path(name).suffix], headers=headers)
