"""Text normalisation before redaction: Unicode NFC, tidy whitespace, strip boilerplate."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text"]

_BOILERPLATE = (
    re.compile(r"^\s*sent from my (?:iphone|ipad|android|mobile|phone)\.?\s*$", re.I | re.M),
    re.compile(r"^\s*page \d+ of \d+\s*$", re.I | re.M),
    re.compile(
        r"^\s*this (?:e-?mail|message)(?: and any attachments?)? (?:is|are|may be) "
        r"(?:confidential|intended)[^\n]*$",
        re.I | re.M,
    ),
    re.compile(r"^\s*(?:official(?:-sensitive)?|nhs confidential)\s*$", re.I | re.M),
)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\ufeff]")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    r"""Return ``text`` in NFC with tidy whitespace and common boilerplate lines removed.

    Line breaks are kept (paragraphs matter for chunking); runs of spaces collapse to one,
    trailing spaces go, and more than one blank line collapses to one.

    Example:
        >>> normalise_text("Huddles  work.\r\n\n\n\nSent from my iPhone")
        'Huddles work.'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    for pattern in _BOILERPLATE:
        text = pattern.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()
