"""HTML to PDF with Debian's headless Chromium (``--print-to-pdf``); see docs/adr/0006.

The page is self-contained (inline CSS, charts as data URIs), Chromium runs with a throw-away
profile, no network (every host resolves to nothing) and a bounded time; on time-out its whole
process group is killed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from synth.errors import SynthError

__all__ = ["CHROMIUM_FLAGS", "PdfRenderError", "find_chromium", "render_pdf"]

logger = logging.getLogger(__name__)

#: Flags for a quiet, offline, sandbox-free (containers) headless run.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
)


class PdfRenderError(SynthError):
    """The PDF could not be made: Chromium is missing, failed or took too long."""

    code = "briefing.pdf"
    title = "PDF rendering failed"


def find_chromium() -> str | None:
    """Path of the Chromium executable on ``PATH`` (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(command: list[str], timeout_s: float) -> tuple[int, str]:
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        message = f"Chromium took longer than {timeout_s:.0f} s; nothing was written"
        raise PdfRenderError(message) from None
    return process.returncode, err.decode("utf-8", "replace")


def render_pdf(html: str, *, chromium: str | None = None, timeout_s: float = 90.0) -> bytes:
    """Print ``html`` (a self-contained page) to PDF and return the bytes.

    Raises:
        PdfRenderError: Chromium is not installed, failed, or ran past ``timeout_s``.
    """
    executable = chromium or find_chromium()
    if executable is None:
        raise PdfRenderError(
            "Chromium is not installed: run `apt-get install -y chromium` (or `make browser`)"
        )
    with tempfile.TemporaryDirectory(prefix="synth-pdf-") as folder:
        root = Path(folder)
        page, pdf = root / "briefing.html", root / "briefing.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={root / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        code, err = _run(command, timeout_s)
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (err.strip().splitlines() or ["no message"])[-1][:300]
            raise PdfRenderError(f"Chromium made no PDF (exit {code}): {last}")
        data = pdf.read_bytes()
    logger.info("briefing PDF rendered", extra={"bytes": len(data)})
    return data
