"""Stable pseudonyms for authors: the same person gets the same token, the name is not kept."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

__all__ = ["pseudonymise_author"]


def pseudonymise_author(name: str, key: bytes) -> str:
    """Return ``author-`` plus 12 hex digits of HMAC-SHA256(key, normalised name).

    Case, accents in composed/decomposed form and spacing do not change the result.

    Example:
        >>> a = pseudonymise_author("Anna  Kowalski", b"k")
        >>> a == pseudonymise_author("anna kowalski", b"k"), a.startswith("author-")
        (True, True)
    """
    canonical = " ".join(unicodedata.normalize("NFC", name).casefold().split())
    digest = hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"author-{digest[:12]}"
