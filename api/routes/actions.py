"""``/api/v1/actions``: actions agreed at events and meetings, against themes, and their progress.

Anyone who may read sees the actions of their networks and those recorded for every network;
a write key records and updates actions of its own networks; an admin key any action.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.deps import SessionDep, ViewerDep, WriterDep
from api.errors import PROBLEM_RESPONSES
from api.routes.schemas import UtcDatetime
from synth.services.actions import (
    ActionChanges,
    ActionDraft,
    ActionFilters,
    ActionView,
    create_action,
    get_action,
    list_actions,
    update_action,
)

__all__ = ["ActionCreate", "ActionRead", "ActionUpdate", "router"]

router = APIRouter(prefix="/api/v1", tags=["actions"], responses=PROBLEM_RESPONSES)

Status = Literal["open", "in_progress", "done", "dropped"]
ActionId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="The action's id.")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
What = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Owner = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Event = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Outcome = Annotated[str, StringConstraints(max_length=20_000)]
EntryIds = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(max_length=200)]


class ActionCreate(BaseModel):
    """A new action; ``network`` defaults to the project's, or the key's only network."""

    model_config = ConfigDict(extra="forbid")

    theme_id: int = Field(ge=1, le=2**63 - 1)
    what: What
    owner: Owner
    agreed_at: Event = Field(description="The event or meeting that agreed it.")
    agreed_on: dt.date | None = None
    network: Slug | None = None
    project: Slug | None = None
    entry_ids: EntryIds = Field(default_factory=list)
    due_on: dt.date | None = None
    status: Status = "open"
    outcome: Outcome | None = None


class ActionUpdate(BaseModel):
    """Fields to change; ``null`` clears ``due_on``, ``outcome``, ``project`` or ``agreed_on``."""

    model_config = ConfigDict(extra="forbid")

    what: What | None = None
    owner: Owner | None = None
    status: Status | None = None
    outcome: Outcome | None = None
    due_on: dt.date | None = None
    project: Slug | None = None
    entry_ids: EntryIds | None = None
    agreed_at: Event | None = None
    agreed_on: dt.date | None = None


class ActionRead(BaseModel):
    """An action as the caller may see it (entries they may not see are left out)."""

    id: int
    theme_id: int
    network: str | None
    project: str | None
    entry_ids: list[int]
    what: str
    owner: str
    due_on: dt.date | None
    status: Status
    outcome: str | None
    agreed_at: str
    agreed_on: dt.date | None
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    links: dict[str, str]


class ActionPage(BaseModel):
    """A list of actions."""

    items: list[ActionRead]


def action_read(view: ActionView) -> ActionRead:
    """The API form of an action."""
    return ActionRead.model_validate(
        {
            **view.to_dict(),
            "created_at": view.created_at,
            "updated_at": view.updated_at,
            "links": {"self": f"/api/v1/actions/{view.id}", "theme": f"/themes/{view.theme_id}"},
        }
    )


@router.get("/actions", operation_id="list_actions", response_model=ActionPage)
def get_actions(
    session: SessionDep,
    viewer: ViewerDep,
    theme: Annotated[list[int] | None, Query(description="Only these theme ids.")] = None,
    network: Annotated[list[str] | None, Query(description="Only these networks.")] = None,
    project: Annotated[list[str] | None, Query(description="Only these projects.")] = None,
    status: Annotated[list[Status] | None, Query(description="Only these states.")] = None,
) -> ActionPage:
    """Actions the caller may see, oldest agreement first."""
    filters = ActionFilters(
        theme_ids=tuple(theme or ()),
        networks=tuple(network or ()),
        projects=tuple(project or ()),
        statuses=tuple(status or ()),
    )
    return ActionPage(items=[action_read(v) for v in list_actions(session, viewer, filters)])


@router.post("/actions", operation_id="create_action", status_code=201, response_model=ActionRead)
def post_action(session: SessionDep, principal: WriterDep, body: ActionCreate) -> ActionRead:
    """Record an action agreed at an event or meeting (write scope)."""
    draft = ActionDraft(**{**body.model_dump(), "entry_ids": tuple(body.entry_ids)})
    view = create_action(session, principal, draft)
    session.commit()
    return action_read(view)


@router.get("/actions/{action_id}", operation_id="get_action", response_model=ActionRead)
def get_one_action(session: SessionDep, viewer: ViewerDep, action_id: ActionId) -> ActionRead:
    """One action; a hidden action is the same 404 as a missing one."""
    return action_read(get_action(session, viewer, action_id))


@router.patch("/actions/{action_id}", operation_id="update_action", response_model=ActionRead)
def patch_action(
    session: SessionDep, principal: WriterDep, action_id: ActionId, body: ActionUpdate
) -> ActionRead:
    """Update an action's status, outcome, owner or due date (write scope, own networks)."""
    given = body.model_dump(exclude_unset=True)
    clear = frozenset(name for name, value in given.items() if value is None)
    values = {k: v for k, v in given.items() if v is not None}
    if "entry_ids" in values:
        values["entry_ids"] = tuple(values["entry_ids"])
    view = update_action(session, principal, action_id, ActionChanges(**values, clear=clear))
    session.commit()
    return action_read(view)
