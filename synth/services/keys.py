"""API keys: create (shown once, stored as a hash), list, revoke, and authenticate.

A key is ``synth_<prefix>_<secret>``: the prefix finds the row, the secret is 256 random
bits, and only the SHA-256 of the whole token is stored, compared in constant time. What a
key may do is a :class:`Principal`; what it may see is its :class:`~synth.search.query.Viewer`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey
from synth.errors import ConfigError, NotFoundError, SynthError
from synth.search.query import Viewer

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "KeyInfo",
    "Principal",
    "Scope",
    "authenticate",
    "create_key",
    "list_keys",
    "revoke_key",
]

TOKEN_PREFIX = "synth_"
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
#: How often ``last_used_at`` is written for one key (seconds); saves a write per request.
LAST_USED_RESOLUTION_S = 60.0


class AuthenticationError(SynthError):
    """No key, or a key that is unknown or revoked."""

    code = "auth.unauthenticated"
    title = "Authentication required"


class AccessDeniedError(SynthError):
    """The key is valid but lacks the scope or rights for this action."""

    code = "auth.forbidden"
    title = "Forbidden"


class Scope(enum.StrEnum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key (``key_id``) or an anonymous reader (``key_id is None``).

    An admin key sees and writes every entry; other keys see ``public`` entries, ``network``
    entries of ``networks`` and ``private`` entries of ``organisation``.
    """

    key_id: int | None
    name: str
    scopes: frozenset[Scope]
    networks: frozenset[str] = frozenset()
    organisation: str | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        """A caller without a key: public entries, read-only."""
        return cls(key_id=None, name="anonymous", scopes=frozenset({Scope.READ}))

    def can(self, scope: Scope) -> bool:
        """True when one of this principal's scopes includes ``scope``."""
        return any(_RANK[s] >= _RANK[scope] for s in self.scopes)

    @property
    def is_admin(self) -> bool:
        """True for an admin key."""
        return self.can(Scope.ADMIN)

    @property
    def viewer(self) -> Viewer:
        """Which entries this principal may see."""
        if self.is_admin:
            return Viewer.operator()
        orgs = frozenset({self.organisation}) if self.organisation else frozenset()
        return Viewer(networks=self.networks, organisations=orgs)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A stored key as listed (never the token)."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    networks: tuple[str, ...]
    organisation: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` form."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": list(self.scopes),
            "networks": list(self.networks),
            "organisation": self.organisation,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_slugs(values: Iterable[str], what: str) -> list[str]:
    out = []
    for value in values:
        slug = value.strip().lower()
        if not slug or not set(slug) <= _SLUG_CHARS:
            raise ConfigError(f"{what} '{value}' is not a slug (lower-case letters, digits, '-')")
        out.append(slug)
    return sorted(set(out))


def _scopes(values: Iterable[str]) -> list[str]:
    out = set()
    for value in values:
        try:
            out.add(Scope(value.strip().lower()).value)
        except ValueError:
            raise ConfigError(
                f"scope '{value}' is not one of: {', '.join(s.value for s in Scope)}"
            ) from None
    if not out:
        raise ConfigError("a key needs at least one scope (read, write or admin)")
    return sorted(out, key=lambda s: _RANK[Scope(s)])


def create_key(
    session: Session,
    *,
    name: str,
    scopes: Sequence[str],
    networks: Sequence[str] = (),
    organisation: str | None = None,
) -> tuple[KeyInfo, str]:
    """Store a new key (its hash only) and return it with the token, which is never shown again.

    Raises:
        ConfigError: A scope, network or organisation is malformed, or the name is empty.
    """
    if not name.strip():
        raise ConfigError("a key needs a --name")
    org = _check_slugs([organisation], "organisation")[0] if organisation else None
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name.strip()[:200],
        prefix=prefix,
        key_hash=_hash(token),
        scopes=_scopes(scopes),
        networks=_check_slugs(networks, "network"),
        organisation=org,
    )
    session.add(key)
    session.flush()
    return _info(key), token


def _info(key: ApiKey) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=tuple(key.scopes),
        networks=tuple(key.networks),
        organisation=key.organisation,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def list_keys(session: Session, *, include_revoked: bool = False) -> list[KeyInfo]:
    """Return the stored keys, oldest first."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [_info(k) for k in session.scalars(query)]


def revoke_key(session: Session, ref: str) -> KeyInfo:
    """Revoke the key whose id or prefix is ``ref`` (idempotent).

    Raises:
        NotFoundError: No key has that id or prefix.
    """
    query = select(ApiKey).where(ApiKey.prefix == ref)
    if ref.isdigit():
        query = select(ApiKey).where((ApiKey.id == int(ref)) | (ApiKey.prefix == ref))
    key = session.scalar(query)
    if key is None:
        raise NotFoundError(f"no key with id or prefix '{ref}' (see `synth keys list`)")
    if key.revoked_at is None:
        key.revoked_at = dt.datetime.now(dt.UTC)
    session.flush()
    return _info(key)


def authenticate(session: Session, token: str, *, now: dt.datetime | None = None) -> Principal:
    """Return the principal of a live key; record its use (at most once a minute).

    Raises:
        AuthenticationError: The token is malformed, unknown or revoked (one message for all).
    """
    denied = AuthenticationError("the API key is not valid; create one with `synth keys create`")
    if not token.startswith(TOKEN_PREFIX):
        raise denied
    prefix = token[len(TOKEN_PREFIX) :].partition("_")[0]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.key_hash, _hash(token)):
        raise denied
    if key.revoked_at is not None:
        raise denied
    now = now or dt.datetime.now(dt.UTC)
    last = key.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    if last is None or (now - last).total_seconds() >= LAST_USED_RESOLUTION_S:
        key.last_used_at = now
        session.commit()
    return Principal(
        key_id=key.id,
        name=key.name,
        scopes=frozenset(Scope(s) for s in key.scopes),
        networks=frozenset(key.networks),
        organisation=key.organisation,
    )
