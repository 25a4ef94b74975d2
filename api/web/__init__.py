"""The web UI: server-rendered pages at the root of the same app (the API stays under /api/v1)."""

from __future__ import annotations

from fastapi import FastAPI

from api.web import (
    pages_actions,
    pages_auth,
    pages_briefings,
    pages_contribute,
    pages_map,
    pages_measures,
    pages_search,
    pages_themes,
    static_files,
)
from api.web.errors import install_page_errors
from api.web.rendering import security_headers

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    """Add the pages, their static files, HTML error pages and the security headers."""
    pages = (
        static_files, pages_auth, pages_search, pages_themes, pages_actions, pages_map,
        pages_measures, pages_contribute, pages_briefings,
    )  # fmt: skip
    for module in pages:
        app.include_router(module.router)
    install_page_errors(app)
    app.middleware("http")(security_headers)
