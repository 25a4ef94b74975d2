"""Logging set-up for the entry points only (the library never configures logging)."""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from typing import Any, TextIO

__all__ = ["JsonFormatter", "StderrHandler", "configure_logging"]

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with ``extra=`` fields included."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as JSON."""
        payload: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged, not when set up.

    Test runners (and ``CliRunner``) swap ``sys.stderr`` and close their copy afterwards; a
    handler holding the old stream would then fail on every later log line.
    """

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def configure_logging(*, fmt: str = "text", level: str = "INFO") -> None:
    """Send log lines to stderr as text (dev) or JSON (prod)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"main": formatter},
            "handlers": {
                "stderr": {
                    "()": StderrHandler,
                    "formatter": "main",
                }
            },
            "root": {"handlers": ["stderr"], "level": level},
            "loggers": {
                "sentence_transformers": {"level": "WARNING"},
                "transformers": {"level": "ERROR"},
                "httpx": {"level": "WARNING"},
            },
        }
    )
