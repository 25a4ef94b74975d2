"""``/api/v1/themes`` and ``/api/v1/topics``: themes as the caller may see them, summaries, runs.

Every figure, phrase and quote is computed from the entries the key may see (a theme built
partly from hidden entries shows only its visible part); a theme with nothing visible is the
same 404 as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi import Path as PathParam
from sqlalchemy import select

from api.deps import AdminDep, EngineDep, RunnerDep, SessionDep, ViewerDep
from api.errors import PROBLEM_RESPONSES
from api.routes.schemas import JobRead, job_read
from api.topic_jobs import TOPIC_FIT_JOB
from models import TopicRun
from synth.reporting import render_summary_markdown
from synth.services.jobs import create_job
from synth.services.summaries import summarise_theme
from synth.services.themes import ThemeScope, get_theme, list_themes
from synth.services.topics import refit_suggested

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["themes"], responses=PROBLEM_RESPONSES)

ThemeId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="The theme's id.")]
Networks = Annotated[list[str] | None, Query(description="Only these networks (slugs).")]
MARKDOWN = "text/markdown"


def get_scope(
    viewer: ViewerDep,
    network: Networks = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> ThemeScope:
    """The caller's view, narrowed by the ``network``, ``since`` and ``until`` query parameters."""
    return ThemeScope(viewer=viewer, networks=tuple(network or ()), since=since, until=until)


ScopeDep = Annotated[ThemeScope, Depends(get_scope)]


@router.get("/themes", operation_id="list_themes")
def get_themes(engine: EngineDep, session: SessionDep, scope: ScopeDep) -> dict[str, Any]:
    """Themes ranked by score, with class, spread, persistence, evidence and bright spots."""
    views = list_themes(session, scope, engine.config.themes)
    return {"items": [v.to_dict() for v in views]}


@router.get("/themes/{theme_id}", operation_id="get_theme")
def get_one_theme(
    engine: EngineDep,
    session: SessionDep,
    scope: ScopeDep,
    theme_id: ThemeId,
    period: Literal["quarter", "month"] = "quarter",
) -> dict[str, Any]:
    """One theme: its profile, the explanation of its class and score, and its timeline."""
    return get_theme(session, theme_id, scope, engine.config.themes, period=period).to_dict()


@router.get(
    "/themes/{theme_id}/summary",
    operation_id="get_theme_summary",
    responses={200: {"content": {MARKDOWN: {"schema": {"type": "string"}}}}},
)
def get_summary(
    engine: EngineDep,
    session: SessionDep,
    scope: ScopeDep,
    theme_id: ThemeId,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """A cited, extractive summary; Markdown when the ``Accept`` header asks for text/markdown."""
    summary = summarise_theme(session, theme_id, scope, engine.config.themes, engine.splitter)
    if accept and MARKDOWN in accept:
        return Response(render_summary_markdown(summary), media_type=f"{MARKDOWN}; charset=utf-8")
    return summary.to_dict()


@router.get("/topics/runs", operation_id="list_topic_runs")
def get_runs(engine: EngineDep, session: SessionDep, _: ViewerDep) -> dict[str, Any]:
    """Topic model runs, newest first, and whether a refit is suggested."""
    runs = session.scalars(select(TopicRun).order_by(TopicRun.id.desc()).limit(100)).all()
    suggested, share = refit_suggested(session, engine.config.topics)
    items = [
        {
            "id": r.id,
            "status": r.status,
            "corpus_size": r.corpus_size,
            "created_at": r.created_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "metrics": r.metrics,
            "parameters": r.parameters,
        }
        for r in runs
    ]
    return {"items": items, "refit_suggested": suggested, "new_outlier_share": share}


@router.post("/topics/fit", operation_id="fit_topics", status_code=202, response_model=JobRead)
def post_fit(session: SessionDep, runner: RunnerDep, principal: AdminDep) -> JobRead:
    """Refit the topic model in the background (admin keys only); themes keep their ids."""
    job = create_job(session, kind=TOPIC_FIT_JOB, params={}, api_key_id=principal.key_id)
    session.commit()
    runner.submit(job.id)
    return job_read(job)
