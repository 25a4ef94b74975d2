"""``/api/v1/organisations``: teams and organisations, with the networks they take part in."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.deps import ReaderDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from api.routes.schemas import UtcDatetime
from models import Organisation
from synth.errors import NotFoundError

__all__ = ["OrganisationList", "OrganisationRead", "router"]

router = APIRouter(prefix="/api/v1", tags=["organisations"], responses=PROBLEM_RESPONSES)


class OrganisationRead(BaseModel):
    """An organisation and the networks it belongs to (slugs)."""

    slug: str
    name: str
    networks: list[str]
    created_at: UtcDatetime


class OrganisationList(BaseModel):
    """Organisations, by slug."""

    items: list[OrganisationRead]


def _read(org: Organisation) -> OrganisationRead:
    return OrganisationRead(
        slug=org.slug,
        name=org.name,
        networks=sorted(n.slug for n in org.networks),
        created_at=org.created_at,
    )


@router.get("/organisations", operation_id="list_organisations", response_model=OrganisationList)
def get_organisations(
    session: SessionDep, _: ReaderDep, network: str | None = None
) -> OrganisationList:
    """All organisations, or those of one network."""
    query = select(Organisation).options(selectinload(Organisation.networks))
    orgs = list(session.scalars(query.order_by(Organisation.slug)))
    if network:
        orgs = [o for o in orgs if any(n.slug == network for n in o.networks)]
    return OrganisationList(items=[_read(o) for o in orgs])


@router.get(
    "/organisations/{slug}", operation_id="get_organisation", response_model=OrganisationRead
)
def get_organisation(session: SessionDep, _: ReaderDep, slug: str) -> OrganisationRead:
    """One organisation."""
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFoundError(f"organisation '{slug}' not found")
    return _read(org)
