"""``/api/v1/networks``: the learning networks (names and slugs; no entry counts)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import ReaderDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from api.routes.schemas import UtcDatetime
from models import Network
from synth.errors import NotFoundError

__all__ = ["NetworkList", "NetworkRead", "router"]

router = APIRouter(prefix="/api/v1", tags=["networks"], responses=PROBLEM_RESPONSES)


class NetworkRead(BaseModel):
    """A learning network."""

    slug: str
    name: str
    created_at: UtcDatetime


class NetworkList(BaseModel):
    """Every network, by slug."""

    items: list[NetworkRead]


def _read(network: Network) -> NetworkRead:
    return NetworkRead(slug=network.slug, name=network.name, created_at=network.created_at)


@router.get("/networks", operation_id="list_networks", response_model=NetworkList)
def get_networks(session: SessionDep, _: ReaderDep) -> NetworkList:
    """All networks, by slug."""
    return NetworkList(
        items=[_read(n) for n in session.scalars(select(Network).order_by(Network.slug))]
    )


@router.get("/networks/{slug}", operation_id="get_network", response_model=NetworkRead)
def get_network(session: SessionDep, _: ReaderDep, slug: str) -> NetworkRead:
    """One network."""
    network = session.scalar(select(Network).where(Network.slug == slug))
    if network is None:
        raise NotFoundError(f"network '{slug}' not found")
    return _read(network)
