"""Actions agreed at events and meetings: record them against a theme, follow their progress.

Visibility: an action with a network is seen by the keys of that network (and admins); an
action without one is seen by everyone — only an admin key or the local operator may create
such an action. An action's entry ids are shown only where the reader may see the entry. A
hidden action answers exactly like a missing one. Writes never commit: the caller owns the
transaction, so a rejected write leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models import ACTION_STATUSES, Action, Entry, Network, Project, Theme
from synth.errors import NotFoundError, SynthError
from synth.search.query import Viewer
from synth.services.entries import visible_clause
from synth.services.keys import AccessDeniedError, Principal, Scope

__all__ = [
    "ACTION_STATUSES",
    "ActionChanges",
    "ActionDraft",
    "ActionFilters",
    "ActionInvalidError",
    "ActionView",
    "create_action",
    "get_action",
    "list_actions",
    "operator_principal",
    "update_action",
]

#: Fields an update may set back to empty.
CLEARABLE = frozenset({"due_on", "outcome", "project", "agreed_on"})


class ActionInvalidError(SynthError):
    """An action names a theme, project, entry or status that does not exist."""

    code = "action.invalid"
    title = "Invalid action"


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """A new action: what was agreed, by whom, where, against which theme."""

    theme_id: int
    what: str
    owner: str
    agreed_at: str
    agreed_on: dt.date | None = None
    network: str | None = None
    project: str | None = None
    entry_ids: tuple[int, ...] = ()
    due_on: dt.date | None = None
    status: str = "open"
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class ActionChanges:
    """A partial update: ``None`` keeps a field; names in ``clear`` are set back to empty."""

    what: str | None = None
    owner: str | None = None
    status: str | None = None
    outcome: str | None = None
    due_on: dt.date | None = None
    project: str | None = None
    entry_ids: tuple[int, ...] | None = None
    agreed_at: str | None = None
    agreed_on: dt.date | None = None
    clear: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ActionFilters:
    """Which actions to list (empty means any)."""

    theme_ids: tuple[int, ...] = ()
    networks: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    agreed_before: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ActionView:
    """An action as one reader sees it (entry ids they may not see are left out)."""

    id: int
    theme_id: int
    network: str | None
    project: str | None
    entry_ids: tuple[int, ...]
    what: str
    owner: str
    due_on: dt.date | None
    status: str
    outcome: str | None
    agreed_at: str
    agreed_on: dt.date | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime

    def is_overdue(self, today: dt.date) -> bool:
        """True when still open or in progress after its due date."""
        return self.status in ("open", "in_progress") and bool(self.due_on and self.due_on < today)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (API and CLI)."""
        return {
            "id": self.id, "theme_id": self.theme_id, "network": self.network,
            "project": self.project, "entry_ids": list(self.entry_ids), "what": self.what,
            "owner": self.owner, "due_on": _iso(self.due_on), "status": self.status,
            "outcome": self.outcome, "agreed_at": self.agreed_at,
            "agreed_on": _iso(self.agreed_on), "created_by": self.created_by,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }  # fmt: skip


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def operator_principal() -> Principal:
    """The local operator (CLI on the store's machine): an admin without a key."""
    return Principal(key_id=None, name="operator", scopes=frozenset({Scope.ADMIN}))


def _visible(viewer: Viewer) -> ColumnElement[bool] | None:
    if viewer.sees_all:
        return None
    mine = select(Network.id).where(Network.slug.in_(sorted(viewer.networks)))
    return or_(Action.network_id.is_(None), Action.network_id.in_(mine))


def _slugs(session: Session, action: Action) -> tuple[str | None, str | None]:
    network = session.get(Network, action.network_id) if action.network_id else None
    project = session.get(Project, action.project_id) if action.project_id else None
    return (network.slug if network else None, project.slug if project else None)


def _seen_entries(session: Session, viewer: Viewer, ids: Sequence[int]) -> tuple[int, ...]:
    if not ids:
        return ()
    query = select(Entry.id).join(Network, Network.id == Entry.network_id)
    query = query.where(Entry.id.in_(list(ids)))
    clause = visible_clause(viewer)
    if clause is not None:
        query = query.where(clause)
    seen = set(session.scalars(query))
    return tuple(i for i in ids if i in seen)


def _view(session: Session, viewer: Viewer, action: Action) -> ActionView:
    network, project = _slugs(session, action)
    return ActionView(
        id=action.id, theme_id=action.theme_id, network=network, project=project,
        entry_ids=_seen_entries(session, viewer, action.entry_ids), what=action.what,
        owner=action.owner, due_on=action.due_on, status=action.status, outcome=action.outcome,
        agreed_at=action.agreed_at, agreed_on=action.agreed_on, created_by=action.created_by,
        created_at=action.created_at, updated_at=action.updated_at,
    )  # fmt: skip


def get_action(session: Session, viewer: Viewer, action_id: int) -> ActionView:
    """Return action ``action_id`` as ``viewer`` sees it.

    Raises:
        NotFoundError: No such action, or the viewer may not see it (the same message).
    """
    return _view(session, viewer, _load(session, viewer, action_id))


def _load(session: Session, viewer: Viewer, action_id: int) -> Action:
    query = select(Action).where(Action.id == action_id)
    clause = _visible(viewer)
    action = session.scalar(query if clause is None else query.where(clause))
    if action is None:
        raise NotFoundError(f"action {action_id} not found")
    return action


def list_actions(session: Session, viewer: Viewer, filters: ActionFilters) -> list[ActionView]:
    """Actions ``viewer`` may see, oldest agreement first (then by id)."""
    query = select(Action)
    clause = _visible(viewer)
    if clause is not None:
        query = query.where(clause)
    if filters.theme_ids:
        query = query.where(Action.theme_id.in_(filters.theme_ids))
    if filters.networks:
        nets = select(Network.id).where(Network.slug.in_(filters.networks))
        query = query.where(Action.network_id.in_(nets))
    if filters.projects:
        projects = select(Project.id).where(Project.slug.in_(filters.projects))
        query = query.where(Action.project_id.in_(projects))
    if filters.statuses:
        query = query.where(Action.status.in_(filters.statuses))
    if filters.agreed_before is not None:
        query = query.where(Action.agreed_on < filters.agreed_before)
    rows = session.scalars(query.order_by(Action.agreed_on, Action.id))
    return [_view(session, viewer, a) for a in rows]


def _check_status(status: str) -> str:
    if status not in ACTION_STATUSES:
        raise ActionInvalidError(
            f"field 'status': '{status}' is not one of {', '.join(ACTION_STATUSES)}"
        )
    return status


def _check_text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise ActionInvalidError(f"field '{name}': must not be empty")
    if len(value) > limit:
        raise ActionInvalidError(f"field '{name}': longer than {limit} characters")
    return value


def _project(session: Session, slug: str) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise ActionInvalidError(f"field 'project': unknown project '{slug}'")
    return project


def _entries(session: Session, principal: Principal, ids: Sequence[int]) -> list[int]:
    seen = _seen_entries(session, principal.viewer, list(dict.fromkeys(ids)))
    missing = [i for i in dict.fromkeys(ids) if i not in seen]
    if missing:
        raise ActionInvalidError(f"field 'entry_ids': entry {missing[0]} not found")
    return list(seen)


def _network_id(session: Session, principal: Principal, draft: ActionDraft) -> int | None:
    """The network the action belongs to, checked against what the key may write."""
    slug = draft.network
    if slug is None and draft.project:
        slug = _project(session, draft.project).network.slug
    if slug is None and not principal.is_admin and len(principal.networks) == 1:
        slug = next(iter(principal.networks))
    if slug is None:
        if not principal.is_admin:
            raise AccessDeniedError("only an admin key may record an action for every network")
        return None
    network = session.scalar(select(Network).where(Network.slug == slug))
    if network is None:
        raise ActionInvalidError(f"field 'network': unknown network '{slug}'")
    if not principal.is_admin and slug not in principal.networks:
        raise AccessDeniedError(
            f"this key may record actions only for its own networks, not '{slug}'"
        )
    return network.id


def _require_write(principal: Principal) -> None:
    if not principal.can(Scope.WRITE):
        raise AccessDeniedError("this key may not write; it needs the write scope")


def create_action(session: Session, principal: Principal, draft: ActionDraft) -> ActionView:
    """Record an agreed action (flushed, not committed).

    Raises:
        AccessDeniedError: The key may not write, or not for this network.
        ActionInvalidError: Unknown theme, project, network, entry or status; empty text.
    """
    _require_write(principal)
    if session.get(Theme, draft.theme_id) is None:
        raise ActionInvalidError(f"field 'theme_id': theme {draft.theme_id} not found")
    network_id = _network_id(session, principal, draft)
    project = _project(session, draft.project) if draft.project else None
    if project is not None and network_id is not None and project.network_id != network_id:
        raise ActionInvalidError(f"field 'project': '{draft.project}' is in another network")
    action = Action(
        theme_id=draft.theme_id, network_id=network_id,
        project_id=project.id if project else None,
        entry_ids=_entries(session, principal, draft.entry_ids),
        what=_check_text("what", draft.what, 2000), owner=_check_text("owner", draft.owner, 200),
        due_on=draft.due_on, status=_check_status(draft.status), outcome=draft.outcome,
        agreed_at=_check_text("agreed_at", draft.agreed_at, 300), agreed_on=draft.agreed_on,
        created_by=principal.name,
    )  # fmt: skip
    session.add(action)
    session.flush()
    return _view(session, principal.viewer, action)


def update_action(
    session: Session, principal: Principal, action_id: int, changes: ActionChanges
) -> ActionView:
    """Change an action's fields (flushed, not committed).

    Raises:
        NotFoundError: No such action, or the key may not see it.
        AccessDeniedError: The key may see it but not change it (another network, or read-only).
        ActionInvalidError: A new value is invalid.
    """
    action = _load(session, principal.viewer, action_id)
    _require_write(principal)
    if not principal.is_admin:
        network, _ = _slugs(session, action)
        if network is None or network not in principal.networks:
            raise AccessDeniedError(f"this key may not change action {action_id}")
    unknown = changes.clear - CLEARABLE
    if unknown:
        raise ActionInvalidError(f"field '{sorted(unknown)[0]}': may not be cleared")
    _apply(session, principal, action, changes)
    session.flush()
    return _view(session, principal.viewer, action)


def _apply(session: Session, principal: Principal, action: Action, changes: ActionChanges) -> None:
    for name, limit in (("what", 2000), ("owner", 200), ("agreed_at", 300)):
        value = getattr(changes, name)
        if value is not None:
            setattr(action, name, _check_text(name, value, limit))
    if changes.status is not None:
        action.status = _check_status(changes.status)
    if changes.entry_ids is not None:
        seen = set(_seen_entries(session, principal.viewer, action.entry_ids))
        kept = [i for i in action.entry_ids if i not in seen]  # ones this key cannot see stay
        action.entry_ids = [*kept, *_entries(session, principal, changes.entry_ids)]
    if changes.project is not None:
        project = _project(session, changes.project)
        if action.network_id is not None and project.network_id != action.network_id:
            raise ActionInvalidError(f"field 'project': '{changes.project}' is in another network")
        action.project_id = project.id
    for name in ("outcome", "due_on", "agreed_on"):
        value = getattr(changes, name)
        if value is not None:
            setattr(action, name, value)
    for name in changes.clear:
        setattr(action, "project_id" if name == "project" else name, None)
