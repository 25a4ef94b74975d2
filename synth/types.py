"""Plain domain records shared by the engine and the corpus adapters.

`corpus` readers turn files into :class:`EntryRecord` values (or :class:`RecordProblem`
reports); the engine validates nothing twice and never sees a raw dict from a file.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = [
    "STRUCTURED_FIELDS",
    "DirectoryEntry",
    "EntryKind",
    "EntryRecord",
    "MeasureAnnotationRecord",
    "MeasureRecord",
    "MeasureType",
    "ObservationRecord",
    "RecordInvalidError",
    "RecordProblem",
    "SourceRef",
    "Visibility",
    "build_entry_record",
]


class EntryKind(enum.StrEnum):
    """What sort of learning an entry records."""

    REFLECTION = "reflection"
    STORY = "story"
    CASE_STUDY = "case_study"
    PDSA = "pdsa"
    EVALUATION = "evaluation"
    INSIGHT = "insight"


class Visibility(enum.StrEnum):
    """Who may see an entry: its organisation, its network, or everyone."""

    PRIVATE = "private"
    NETWORK = "network"
    PUBLIC = "public"


#: Optional structured fields by kind, in the order they are shown.
STRUCTURED_FIELDS: Mapping[EntryKind, tuple[str, ...]] = {
    EntryKind.PDSA: ("plan", "prediction", "do", "study", "act"),
    EntryKind.REFLECTION: ("what", "so_what", "now_what"),
}

_FIELD_HEADINGS: Mapping[str, str] = {
    "plan": "Plan:",
    "prediction": "Prediction:",
    "do": "Do:",
    "study": "Study:",
    "act": "Act:",
    "what": "What?",
    "so_what": "So what?",
    "now_what": "Now what?",
}


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from: file and line/row, or a URL, and the source's own id."""

    file: str | None = None
    line: int | None = None
    url: str | None = None
    external_id: str | None = None

    def describe(self) -> str:
        """Return a short human-readable location such as ``notes.jsonl:12``."""
        where = self.file or self.url or "<input>"
        return f"{where}:{self.line}" if self.line is not None else where


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One validated learning entry as read from a source, before redaction."""

    kind: EntryKind
    title: str
    body: str
    network: str
    organisation: str
    visibility: Visibility = Visibility.NETWORK
    occurred_on: dt.date | None = None
    project: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    source: SourceRef = field(default_factory=SourceRef)


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """A named network, organisation or project as given by a registry file."""

    slug: str
    name: str
    network: str | None = None
    organisation: str | None = None


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A record that could not be read: where it is, which field, and why."""

    source: SourceRef
    field: str | None
    message: str

    def describe(self) -> str:
        """Return ``file:line: field: message`` for one-line error output."""
        field_part = f" field '{self.field}':" if self.field else ""
        return f"{self.source.describe()}:{field_part} {self.message}"


class RecordInvalidError(ValueError):
    """Raised by :func:`build_entry_record` with the offending field name."""

    def __init__(self, field_name: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


_E = TypeVar("_E", bound=enum.StrEnum)
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_KNOWN_KEYS = frozenset(
    {
        "id",
        "kind",
        "title",
        "body",
        "network",
        "organisation",
        "visibility",
        "occurred_on",
        "tags",
        "author",
        "project",
        "url",
    }
    | set(_FIELD_HEADINGS)
)


def _text(data: Mapping[str, object], key: str, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordInvalidError(key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RecordInvalidError(key, f"must be text, not {type(value).__name__}")
    return str(value).strip()


def _slug(data: Mapping[str, object], key: str, *, required: bool) -> str | None:
    value = _text(data, key, required=required)
    if value is None:
        return None
    slug = value.lower()
    if not set(slug) <= _SLUG_CHARS or slug.startswith("-"):
        raise RecordInvalidError(
            key, f"'{value}' is not a slug (use lower-case letters, digits and '-')"
        )
    return slug


def _choice(data: Mapping[str, object], key: str, enum_type: type[_E], default: _E | None) -> _E:
    value = _text(data, key, required=default is None)
    if value is None:
        assert default is not None
        return default
    try:
        return enum_type(value.lower())
    except ValueError:
        options = ", ".join(m.value for m in enum_type)
        raise RecordInvalidError(key, f"'{value}' is not one of: {options}") from None


def _date(data: Mapping[str, object], key: str) -> dt.date | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RecordInvalidError(key, f"'{value}' is not a date (use YYYY-MM-DD)") from None


def _tags(data: Mapping[str, object]) -> tuple[str, ...]:
    value = data.get("tags")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items = [t for part in value.split(";") for t in part.split(",")]
    elif isinstance(value, list | tuple):
        items = [str(t) for t in value]
    else:
        raise RecordInvalidError("tags", "must be a list or a comma-separated string")
    seen: dict[str, None] = {t.strip().lower(): None for t in items if t.strip()}
    return tuple(seen)


def compose_body(fields: tuple[tuple[str, str], ...]) -> str:
    """Build an entry body from structured fields (``Plan: ...`` paragraphs)."""
    return "\n\n".join(f"{_FIELD_HEADINGS[name]} {text}" for name, text in fields)


def build_entry_record(
    data: Mapping[str, object],
    *,
    source: SourceRef,
    defaults: Mapping[str, object] | None = None,
) -> EntryRecord:
    """Validate one raw mapping from a source file into an :class:`EntryRecord`.

    Args:
        data: The record's fields as read (JSON object, CSV row, front matter + body).
        source: Where the record came from, used in error messages.
        defaults: Values used where the record has none (``network``, ``kind``...).

    Returns:
        The validated record.

    Raises:
        RecordInvalidError: A field is missing or malformed; ``.field`` names it.
    """
    merged: dict[str, object] = dict(defaults or {})
    merged.update({k: v for k, v in data.items() if v is not None and v != ""})
    unknown = sorted(set(merged) - _KNOWN_KEYS)
    if unknown:
        raise RecordInvalidError(
            unknown[0], f"is not a known field (known: {', '.join(sorted(_KNOWN_KEYS))})"
        )
    kind = _choice(merged, "kind", EntryKind, None)
    structured = tuple(
        (name, text)
        for name in STRUCTURED_FIELDS.get(kind, ())
        if (text := _text(merged, name, required=False))
    )
    body = _text(merged, "body", required=not structured) or compose_body(structured)
    external_id = _text(merged, "id", required=False)
    return EntryRecord(
        kind=kind,
        title=_text(merged, "title", required=True) or "",
        body=body,
        network=_slug(merged, "network", required=True) or "",
        organisation=_slug(merged, "organisation", required=True) or "",
        visibility=_choice(merged, "visibility", Visibility, Visibility.NETWORK),
        occurred_on=_date(merged, "occurred_on"),
        project=_slug(merged, "project", required=False),
        author=_text(merged, "author", required=False),
        tags=_tags(merged),
        fields=structured,
        source=SourceRef(
            file=source.file,
            line=source.line,
            url=_text(merged, "url", required=False) or source.url,
            external_id=external_id or source.external_id,
        ),
    )


# --- measures (issue 5) ------------------------------------------------------------------------


class MeasureType(enum.StrEnum):
    """What a measure counts; it decides which control chart fits."""

    COUNT = "count"
    RATE = "rate"
    PROPORTION = "proportion"
    DAYS_BETWEEN = "days_between"
    CONTINUOUS = "continuous"


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """One point of a measure: the period it covers, its value, and numerator/denominator."""

    period: dt.date
    value: float
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True, slots=True)
class MeasureAnnotationRecord:
    """A note on a date: a change idea, a PDSA cycle or an event; ``phase`` starts new limits."""

    on: dt.date
    text: str
    kind: str = "change"
    pdsa_cycle: str | None = None
    phase: bool = False


@dataclass(frozen=True, slots=True)
class MeasureRecord:
    """One validated measure with its observations, as read from a CSV or JSON file.

    ``network`` and ``organisation`` are given when the file can create the project; without
    them ``project`` must already exist.
    """

    measure_id: str
    project: str
    name: str
    unit: str
    type: MeasureType
    better: str
    observations: tuple[ObservationRecord, ...]
    annotations: tuple[MeasureAnnotationRecord, ...] = ()
    network: str | None = None
    organisation: str | None = None
    baseline_start: dt.date | None = None
    baseline_end: dt.date | None = None
    source: SourceRef = field(default_factory=SourceRef)
