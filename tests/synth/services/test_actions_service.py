"""The actions service on both stores: visibility, rights, validation, partial updates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Action
from synth.engine import Engine
from synth.errors import NotFoundError
from synth.search.query import Viewer
from synth.services.actions import (
    ActionChanges,
    ActionDraft,
    ActionFilters,
    ActionInvalidError,
    create_action,
    get_action,
    list_actions,
    operator_principal,
    update_action,
)
from synth.services.keys import AccessDeniedError, Principal, Scope
from tests.synth.briefing_store import build_briefing_store

WRITER_B = Principal(
    key_id=7, name="b", scopes=frozenset({Scope.WRITE}), networks=frozenset({"net-b"})
)
OPERATOR = operator_principal()


def _draft(theme: int, **fields: object) -> ActionDraft:
    base: dict[str, object] = {"theme_id": theme, "what": "Spread the alarm checklist",
                               "owner": "Ana", "agreed_at": "Spring event"}  # fmt: skip
    return ActionDraft(**{**base, **fields})  # type: ignore[arg-type]


def test_actions_follow_network_visibility_and_rights(fake_engine: Engine, tmp_path: Path) -> None:
    info = build_briefing_store(fake_engine, tmp_path)
    theme: int = info["themes"]["falls"]  # type: ignore[index]
    hidden: dict[str, int] = info["hidden"]  # type: ignore[assignment]
    with fake_engine.sessions.begin() as session:
        private = (hidden["private_b"],)
        mine = create_action(session, OPERATOR, _draft(theme, network="net-b", entry_ids=private))
        everyone = create_action(session, OPERATOR, _draft(theme, due_on=dt.date(2025, 1, 1)))
        a_only = create_action(session, OPERATOR, _draft(theme, project="proj-a"))
        own = create_action(session, WRITER_B, _draft(theme))
    assert (mine.network, everyone.network, a_only.network) == ("net-b", None, "net-a")
    assert own.network == "net-b" and own.created_by == "b"
    with fake_engine.sessions() as session:
        reader_a = Viewer(networks=frozenset({"net-a"}))
        seen = [a.id for a in list_actions(session, reader_a, ActionFilters(theme_ids=(theme,)))]
        assert seen == [everyone.id, a_only.id]
        with pytest.raises(NotFoundError):
            get_action(session, reader_a, mine.id)
        # the operator sees the private entry; a net-b reader without the organisation does not
        assert get_action(session, Viewer.operator(), mine.id).entry_ids == (hidden["private_b"],)
        assert get_action(session, Viewer(networks=frozenset({"net-b"})), mine.id).entry_ids == ()
    with fake_engine.sessions.begin() as session, pytest.raises(AccessDeniedError):
        update_action(session, WRITER_B, everyone.id, ActionChanges(status="done"))
    with fake_engine.sessions.begin() as session:
        done = update_action(
            session, WRITER_B, mine.id,
            ActionChanges(status="done", outcome="Done", entry_ids=(), clear=frozenset({"due_on"})),
        )  # fmt: skip
    assert done.status == "done" and done.outcome == "Done"
    with fake_engine.sessions() as session:  # the writer could not see the private entry: kept
        assert get_action(session, Viewer.operator(), mine.id).entry_ids == (hidden["private_b"],)
        assert get_action(session, Viewer.operator(), everyone.id).is_overdue(dt.date(2025, 2, 1))


def test_invalid_writes_leave_nothing(fake_engine: Engine, tmp_path: Path) -> None:
    info = build_briefing_store(fake_engine, tmp_path)
    theme: int = info["themes"]["falls"]  # type: ignore[index]
    for draft, message in (
        (_draft(theme, status="finished"), "field 'status'"),
        (_draft(theme, what="  "), "field 'what': must not be empty"),
        (_draft(theme, network="net-a", project="nope"), "unknown project 'nope'"),
        (_draft(theme + 100), f"theme {theme + 100} not found"),
    ):
        with pytest.raises(ActionInvalidError, match=message), fake_engine.sessions.begin() as s:
            create_action(s, operator_principal(), draft)
    with pytest.raises(AccessDeniedError), fake_engine.sessions.begin() as session:
        create_action(session, WRITER_B, _draft(theme, network="net-a"))
    with pytest.raises(AccessDeniedError), fake_engine.sessions.begin() as session:
        reader = Principal(key_id=8, name="r", scopes=frozenset({Scope.READ}))
        create_action(session, reader, _draft(theme))
    with fake_engine.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Action)) == 0
