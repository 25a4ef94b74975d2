"""Build a briefing pack: choose networks, a period and an event date; read it, print it, save it.

Building a pack only reads, so the form is a GET (no CSRF token needed) and its result has an
address that can be shared with someone who has the same rights.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, SessionDep
from api.web.pages_search import directory
from api.web.rendering import render
from api.web.session import UserDep, WebUser
from synth.errors import SynthError
from synth.reporting import (
    BriefingScope,
    BriefingTools,
    build_briefing,
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)
from synth.search.service import parse_date

__all__ = ["PACK_CSP", "router"]

router = APIRouter(include_in_schema=False)
#: The pack is a self-contained printable page: its own inline styles and data-URI charts only.
PACK_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
Many = Annotated[list[str] | None, Query()]
Day = Annotated[str, Query(max_length=10)]
Format = Literal["html", "pdf", "markdown"]


def _form_page(
    request: Request, session: SessionDep, user: WebUser, form: dict[str, Any], error: str | None
) -> HTMLResponse:
    context = {"form": form, "error": error, **directory(session)}
    return render(request, user, "briefing_new.html", context, status=422 if error else 200)


@router.get("/briefings/new", response_class=HTMLResponse)
def briefing_form(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    """The form: networks, period, event date, title and format."""
    today = dt.date.today()
    form = {
        "network": list(user.principal.networks),
        "since": (today - dt.timedelta(days=365)).isoformat(),
        "until": today.isoformat(),
        "event_date": "",
        "title": "",
        "format": "html",
    }
    return _form_page(request, session, user, form, None)


def _pack(
    briefing_format: Format, engine: EngineDep, session: SessionDep, scope: BriefingScope
) -> Response:
    briefing = build_briefing(session, BriefingTools.from_engine(engine), scope)
    if briefing_format == "pdf":
        headers = {"Content-Disposition": 'attachment; filename="briefing.pdf"'}
        return Response(
            render_briefing_pdf(briefing), media_type="application/pdf", headers=headers
        )
    if briefing_format == "markdown":
        headers = {"Content-Disposition": 'attachment; filename="briefing.md"'}
        body = render_briefing_markdown(briefing)
        return Response(body, media_type="text/markdown; charset=utf-8", headers=headers)
    headers = {"Content-Security-Policy": PACK_CSP}
    return HTMLResponse(render_briefing_html(briefing), headers=headers)


@router.get("/briefings/pack", response_model=None)
def briefing_pack(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    user: UserDep,
    network: Many = None,
    since: Day = "",
    until: Day = "",
    event_date: Day = "",
    title: Annotated[str, Query(max_length=300)] = "",
    format: Format = "html",
) -> Response:
    """The pack for what this caller may see, as a printable page, a PDF or Markdown."""
    networks = [n for n in network or [] if n]
    form = {
        "network": networks, "since": since, "until": until, "event_date": event_date,
        "title": title, "format": format,
    }  # fmt: skip
    try:
        scope = BriefingScope(
            viewer=user.principal.viewer, networks=tuple(networks),
            since=parse_date(since, "From"), until=parse_date(until, "To"),
            event_date=parse_date(event_date, "Event date"), title=title.strip() or None,
        )  # fmt: skip
        if not networks:
            raise _NoNetwork("choose at least one network")
        return _pack(format, engine, session, scope)
    except SynthError as exc:
        return _form_page(request, session, user, form, exc.message)


class _NoNetwork(SynthError):
    code = "briefing.scope"
    title = "Choose a network"
