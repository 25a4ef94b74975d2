"""Actions agreed against a theme: listed on the theme page, added and updated with forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import EngineDep
from api.web.rendering import redirect, render
from api.web.session import WebUser, WriterUserDep, check_csrf
from models import Network
from synth.errors import SynthError
from synth.search.service import parse_date
from synth.services.actions import (
    ACTION_STATUSES,
    ActionChanges,
    ActionDraft,
    ActionFilters,
    ActionView,
    create_action,
    list_actions,
    update_action,
)
from synth.services.keys import Scope

__all__ = ["actions_context", "router"]

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**62)]
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=2000)]


def actions_context(session: Session, user: WebUser, theme_id: int) -> dict[str, Any]:
    """The theme page's actions and what its forms offer this caller."""
    principal = user.principal
    networks = select(Network.slug, Network.name).order_by(Network.name)
    if not principal.is_admin:
        networks = networks.where(Network.slug.in_(sorted(principal.networks)))
    actions: list[ActionView] = list_actions(
        session, principal.viewer, ActionFilters(theme_ids=(theme_id,))
    )
    return {
        "actions": actions,
        "action_statuses": list(ACTION_STATUSES),
        "can_act": user.signed_in and principal.can(Scope.WRITE),
        "action_networks": [tuple(r) for r in session.execute(networks)],
        "every_network": principal.is_admin,
    }


def _failed(request: Request, user: WebUser, message: str, back: str) -> Response:
    context = {"status": 422, "title": "The action was not saved", "message": message, "back": back}
    return render(request, user, "error.html", context, status=422)


@router.post("/themes/{theme_id}/actions", response_model=None)
def add_action(
    request: Request,
    engine: EngineDep,
    user: WriterUserDep,
    theme_id: Id,
    what: Text,
    owner: Short,
    agreed_at: Short,
    csrf_token: Short = "",
    network: Short = "",
    agreed_on: Short = "",
    due_on: Short = "",
    status: Short = "open",
) -> Response:
    """Record an action agreed against the theme."""
    check_csrf(user, csrf_token)
    back = f"/themes/{theme_id}#actions"
    try:
        draft = ActionDraft(
            theme_id=theme_id, what=what, owner=owner, agreed_at=agreed_at,
            agreed_on=parse_date(agreed_on, "Agreed on"), network=network or None,
            due_on=parse_date(due_on, "Due"), status=status,
        )  # fmt: skip
        with engine.sessions.begin() as session:
            create_action(session, user.principal, draft)
    except SynthError as exc:
        return _failed(request, user, exc.message, back)
    return redirect(back)


@router.post("/actions/{action_id}", response_model=None)
def change_action(
    request: Request,
    engine: EngineDep,
    user: WriterUserDep,
    action_id: Id,
    theme_id: Annotated[int, Form(ge=1, le=2**62)],
    status: Short,
    csrf_token: Short = "",
    outcome: Text = "",
) -> Response:
    """Update an action's status and outcome."""
    check_csrf(user, csrf_token)
    back = f"/themes/{theme_id}#actions"
    changes = ActionChanges(status=status, outcome=outcome.strip() or None)
    try:
        with engine.sessions.begin() as session:
            update_action(session, user.principal, action_id, changes)
    except SynthError as exc:
        return _failed(request, user, exc.message, back)
    return redirect(back)
