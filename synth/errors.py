"""The error catalogue: every failure synth reports has a stable code, a title and a remedy.

Core code raises these; the API maps them to RFC 9457 problems and the CLI to exit code 2.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "IngestError",
    "ModelNotFoundError",
    "NotFoundError",
    "SearchFilterError",
    "StoreError",
    "SynthError",
]


class SynthError(Exception):
    """Base class of every error synth reports to a user."""

    code = "synth.error"
    title = "synth error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(SynthError):
    """A setting is invalid or names something that does not exist."""

    code = "config.invalid"
    title = "Invalid configuration"


class ModelNotFoundError(ConfigError):
    """An embedding model or spaCy pipeline could not be loaded offline."""

    code = "config.model_not_found"
    title = "Model not found"


class IngestError(SynthError):
    """A batch was rejected: nothing from it was stored.

    ``problems`` holds one line per bad record (``file:line: field 'x': why``).
    """

    code = "corpus.invalid"
    title = "Invalid input"

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class StoreError(SynthError):
    """The database cannot be reached or is not initialised."""

    code = "store.unavailable"
    title = "Store unavailable"


class SearchFilterError(SynthError):
    """A search filter names something that does not exist or is malformed."""

    code = "search.filter"
    title = "Invalid search filter"


class NotFoundError(SynthError):
    """A requested object does not exist (or is not visible to the caller)."""

    code = "not_found"
    title = "Not found"
