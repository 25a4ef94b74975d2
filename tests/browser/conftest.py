"""A live server over a seeded store, and Debian's Chromium driven by Playwright.

The browser is the one apt installed (``make browser``), launched by path; nothing downloads a
browser. axe-core comes from the npm registry into ``.cache/axe`` by the same target.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

import api.app
from api.app import create_app
from tests.api.stack import hashing_engine, seed, stack_settings
from tests.web.site import add_measure, add_theme

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _missing(what: str) -> None:
    message = f"{what} is missing: run `make browser`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Live:
    """The running site: its address, the keys and entry ids, and where screenshots go."""

    url: str
    keys: dict[str, str]
    ids: dict[str, int]
    extra: dict[str, int] = field(default_factory=dict)

    def shot(self, page: object, name: str) -> None:
        """Save a full-page screenshot as test-artifacts/browser/<name>.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = stack_settings(tmp_path_factory.mktemp("browser"), allow_anonymous_read=False)
    keys, ids = seed(settings)
    engine = hashing_engine(settings.engine_config())
    theme = add_theme(engine)
    add_measure(engine)
    engine.close()
    port = _free_port()
    # The patch is needed only while the app's lifespan builds its engine: undo it as soon as
    # the server has started, so it does not leak into the rest of the session's tests.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "build_engine", hashing_engine)
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the live server did not start"
    try:
        yield Live(f"http://127.0.0.1:{port}", keys, ids, {"theme": theme, "measure": 1})
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        _missing("Debian's chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (pip)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        _missing("axe-core (npm)")
    return AXE_JS.read_text(encoding="utf-8")
