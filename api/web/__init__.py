"""The web UI: server-rendered pages at the root of the same app (the API stays under /api/v1)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import pages_auth, pages_search
from api.web.errors import install_page_errors
from api.web.rendering import security_headers

__all__ = ["install_web"]

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Add the pages, their static files, HTML error pages and the security headers."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages_auth, pages_search):
        app.include_router(module.router)
    install_page_errors(app)
    app.middleware("http")(security_headers)
