"""``/api/v1/projects``: change projects, each run by one organisation in one network."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from api.deps import ReaderDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from api.routes.schemas import UtcDatetime
from models import Network, Organisation, Project
from synth.errors import NotFoundError

__all__ = ["ProjectList", "ProjectRead", "router"]

router = APIRouter(prefix="/api/v1", tags=["projects"], responses=PROBLEM_RESPONSES)


class ProjectRead(BaseModel):
    """A change project."""

    slug: str
    name: str
    network: str
    organisation: str
    created_at: UtcDatetime


class ProjectList(BaseModel):
    """Projects, by slug."""

    items: list[ProjectRead]


def _read(project: Project) -> ProjectRead:
    return ProjectRead(
        slug=project.slug,
        name=project.name,
        network=project.network.slug,
        organisation=project.organisation.slug,
        created_at=project.created_at,
    )


def _query() -> Select[Project]:
    return select(Project).options(joinedload(Project.network), joinedload(Project.organisation))


@router.get("/projects", operation_id="list_projects", response_model=ProjectList)
def get_projects(
    session: SessionDep,
    _: ReaderDep,
    network: str | None = None,
    organisation: str | None = None,
) -> ProjectList:
    """All projects, or those of a network and/or organisation."""
    query = _query()
    if network:
        query = query.where(
            Project.network_id.in_(select(Network.id).where(Network.slug == network))
        )
    if organisation:
        query = query.where(
            Project.organisation_id.in_(
                select(Organisation.id).where(Organisation.slug == organisation)
            )
        )
    return ProjectList(items=[_read(p) for p in session.scalars(query.order_by(Project.slug))])


@router.get("/projects/{slug}", operation_id="get_project", response_model=ProjectRead)
def get_project(session: SessionDep, _: ReaderDep, slug: str) -> ProjectRead:
    """One project."""
    project = session.scalar(_query().where(Project.slug == slug))
    if project is None:
        raise NotFoundError(f"project '{slug}' not found")
    return _read(project)
