"""``/api/v1/briefings``: a briefing pack built for the caller, as JSON, HTML, Markdown or PDF.

The ``Accept`` header picks the form: ``application/json`` (default), ``text/html``,
``text/markdown`` or ``application/pdf``. The pack is built synchronously (a few seconds on the
demo corpus, PDF included; see docs/benchmarks.md) from the entries the caller's key may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.deps import EngineDep, SessionDep, ViewerDep
from api.errors import PROBLEM_RESPONSES, problem_doc
from synth.reporting import (
    BriefingScope,
    BriefingTools,
    build_briefing,
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)

__all__ = ["BriefingCreate", "router"]

router = APIRouter(prefix="/api/v1", tags=["briefings"], responses=PROBLEM_RESPONSES)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
Slugs = Annotated[list[Slug], Field(max_length=50)]
MEDIA = {
    "text/html": "text/html; charset=utf-8",
    "text/markdown": "text/markdown; charset=utf-8",
    "application/pdf": "application/pdf",
}


class BriefingCreate(BaseModel):
    """What the briefing covers: networks, or organisations or projects, and a period."""

    model_config = ConfigDict(extra="forbid")

    networks: Slugs = Field(default_factory=list)
    organisations: Slugs = Field(default_factory=list)
    projects: Slugs = Field(default_factory=list)
    since: dt.date | None = None
    until: dt.date | None = None
    event_date: dt.date | None = Field(None, description="Actions agreed before it are reported.")
    title: Annotated[str, StringConstraints(max_length=300)] | None = None
    top: int = Field(5, ge=1, le=10, description="Top themes to summarise.")


def _wanted(accept: str | None) -> str:
    for media in MEDIA:
        if accept and media in accept:
            return media
    return "application/json"


@router.post(
    "/briefings",
    operation_id="create_briefing",
    responses={
        200: {
            "description": "The briefing, in the form the Accept header asks for",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/markdown": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        503: problem_doc("PDF asked for, but Chromium is missing or failed"),
    },
)
def post_briefing(
    engine: EngineDep,
    session: SessionDep,
    viewer: ViewerDep,
    body: BriefingCreate,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Build a briefing pack for an event or meeting, from what the caller may see."""
    scope = BriefingScope(
        viewer=viewer, networks=tuple(body.networks), organisations=tuple(body.organisations),
        projects=tuple(body.projects), since=body.since, until=body.until,
        event_date=body.event_date, title=body.title,
    )  # fmt: skip
    briefing = build_briefing(session, BriefingTools.from_engine(engine), scope, top=body.top)
    media = _wanted(accept)
    if media == "text/html":
        return Response(render_briefing_html(briefing), media_type=MEDIA[media])
    if media == "text/markdown":
        return Response(render_briefing_markdown(briefing), media_type=MEDIA[media])
    if media == "application/pdf":
        headers = {"Content-Disposition": 'attachment; filename="briefing.pdf"'}
        return Response(render_briefing_pdf(briefing), media_type=MEDIA[media], headers=headers)
    return briefing.to_dict()
