"""Contribute a reflection (What? So what? Now what?) or a PDSA note, with a redaction preview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import EngineDep, SessionDep
from api.web.entry_view import field_heading
from api.web.rendering import redirect, render
from api.web.session import WebUser, WriterUserDep, check_csrf
from models import Network, Organisation, Project
from synth.core.normalise import normalise_text
from synth.core.redaction import redact_all
from synth.engine import Engine
from synth.errors import SynthError
from synth.services.entries import create_entry
from synth.types import (
    STRUCTURED_FIELDS,
    EntryKind,
    RecordInvalidError,
    SourceRef,
    Visibility,
    build_entry_record,
)

__all__ = ["Piece", "preview_redaction", "router"]

router = APIRouter(include_in_schema=False)
KINDS = (EntryKind.REFLECTION, EntryKind.PDSA)
FIELDS = {kind: STRUCTURED_FIELDS[kind] for kind in KINDS}
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=20_000)]


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the text as typed; ``removed`` names what redaction takes out (or None)."""

    text: str
    removed: str | None = None


def preview_redaction(
    engine: Engine, texts: list[tuple[str, str]]
) -> list[tuple[str, list[Piece]]]:
    """Show what redaction would remove from each (label, text), storing nothing."""
    config = engine.config.redaction
    cleaned = [(label, normalise_text(text)) for label, text in texts if text.strip()]
    if not config.enabled or not cleaned:
        return [(label, [Piece(text)]) for label, text in cleaned]
    results = redact_all(
        [t for _, t in cleaned], kinds=config.kinds, person_finder=engine.person_finder
    )
    out = []
    for (label, text), result in zip(cleaned, results, strict=True):
        pieces, last = [], 0
        for span in result.spans:
            if span.start > last:
                pieces.append(Piece(text[last : span.start]))
            pieces.append(Piece(text[span.start : span.end], span.kind.placeholder))
            last = span.end
        if last < len(text):
            pieces.append(Piece(text[last:]))
        out.append((label, pieces))
    return out


def _choices(session: Session, user: WebUser) -> dict[str, Any]:
    """Where this key may contribute: its networks and organisation (an admin: any)."""
    principal = user.principal
    networks = select(Network.slug, Network.name).order_by(Network.name)
    orgs = select(Organisation.slug, Organisation.name).order_by(Organisation.name)
    projects = select(Project.slug, Project.name).order_by(Project.name)
    if not principal.is_admin:
        networks = networks.where(Network.slug.in_(sorted(principal.networks)))
        orgs = orgs.where(Organisation.slug == (principal.organisation or ""))
        projects = projects.join(Organisation, Organisation.id == Project.organisation_id).where(
            Organisation.slug == (principal.organisation or "")
        )
    return {
        "networks": [tuple(r) for r in session.execute(networks)],
        "organisations": [tuple(r) for r in session.execute(orgs)],
        "projects": [tuple(r) for r in session.execute(projects)],
        "kinds": [
            (k.value, k.value.upper() if k is EntryKind.PDSA else "Reflection") for k in KINDS
        ],
        "fields": {k.value: [(n, field_heading(n)) for n in FIELDS[k]] for k in KINDS},
        "visibilities": [v.value for v in Visibility],
    }


def _blank() -> dict[str, str]:
    return {
        "kind": "reflection",
        "visibility": "network",
        "occurred_on": dt.date.today().isoformat(),
    }


@router.get("/contribute", response_class=HTMLResponse)
def contribute_page(request: Request, session: SessionDep, user: WriterUserDep) -> HTMLResponse:
    """The form."""
    context = {"form": _blank(), "preview": None, "error": None, **_choices(session, user)}
    return render(request, user, "contribute.html", context)


async def _form_values(request: Request) -> dict[str, str]:
    data = await request.form()
    names = {"csrf_token", "action", "kind", "title", "network", "organisation", "project"}
    names |= {"visibility", "occurred_on", "tags"} | {n for f in FIELDS.values() for n in f}
    return {n: str(data.get(n, ""))[:20_000] for n in names}


def _record_data(form: dict[str, str]) -> dict[str, object]:
    kind = form["kind"] if form["kind"] in {k.value for k in KINDS} else "reflection"
    data: dict[str, object] = {
        key: form[key].strip()
        for key in ("title", "network", "organisation", "project", "visibility", "occurred_on")
    }
    data["kind"] = kind
    data["tags"] = [t.strip() for t in form["tags"].split(",") if t.strip()]
    data.update({n: form[n].strip() for n in FIELDS[EntryKind(kind)]})
    return data


@router.post("/contribute", response_model=None)
async def contribute(
    request: Request, engine: EngineDep, session: SessionDep, user: WriterUserDep
) -> Response:
    """Preview what redaction removes, or save and show others who tried something similar."""
    form = await _form_values(request)
    check_csrf(user, form["csrf_token"])
    data = _record_data(form)
    kind = EntryKind(str(data["kind"]))
    texts = [("Title", str(data["title"]))] + [
        (field_heading(n), str(data[n])) for n in FIELDS[kind]
    ]
    error = None
    try:
        record = build_entry_record(data, source=SourceRef(file="web form"))
        if form["action"] == "save":
            entry_id, _ = create_entry(engine, user.principal, record)
            return redirect(f"/entries/{entry_id}?saved=1")
    except RecordInvalidError as exc:
        error = f"{field_heading(exc.field or 'entry')}: {exc.message}"
    except SynthError as exc:
        error = exc.message
    context = {
        "form": form,
        "preview": preview_redaction(engine, texts),
        "error": error,
        **_choices(session, user),
    }
    return render(request, user, "contribute.html", context, status=422 if error else 200)
