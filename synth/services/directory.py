"""Networks, organisations and projects: looked up by slug, created on first use."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Network, Organisation, Project
from synth.types import DirectoryEntry

__all__ = ["Directory", "DirectoryEntry", "load_directory", "slug_to_name"]


def slug_to_name(slug: str) -> str:
    """Return a readable default name for a slug (``falls-prevention`` → ``Falls Prevention``)."""
    return " ".join(part.capitalize() for part in slug.split("-"))


class Directory:
    """Get-or-create cache of networks, organisations and projects inside one session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._networks: dict[str, Network] = {}
        self._organisations: dict[str, Organisation] = {}
        self._projects: dict[str, Project] = {}

    def network(self, slug: str, name: str | None = None) -> Network:
        """Return the network with ``slug``, creating it if new."""
        if slug not in self._networks:
            found = self._session.scalar(select(Network).where(Network.slug == slug))
            if found is None:
                found = Network(slug=slug, name=name or slug_to_name(slug))
                self._session.add(found)
            elif name and found.name != name:
                found.name = name
            self._networks[slug] = found
        return self._networks[slug]

    def organisation(self, slug: str, name: str | None = None) -> Organisation:
        """Return the organisation with ``slug``, creating it if new."""
        if slug not in self._organisations:
            found = self._session.scalar(select(Organisation).where(Organisation.slug == slug))
            if found is None:
                found = Organisation(slug=slug, name=name or slug_to_name(slug))
                self._session.add(found)
            elif name and found.name != name:
                found.name = name
            self._organisations[slug] = found
        return self._organisations[slug]

    def member(self, organisation: Organisation, network: Network) -> None:
        """Record that ``organisation`` takes part in ``network``."""
        if network not in organisation.networks:
            organisation.networks.append(network)

    def project(
        self, slug: str, *, network: Network, organisation: Organisation, name: str | None = None
    ) -> Project:
        """Return the project with ``slug``, creating it in ``network``/``organisation`` if new."""
        if slug not in self._projects:
            found = self._session.scalar(select(Project).where(Project.slug == slug))
            if found is None:
                found = Project(
                    slug=slug,
                    name=name or slug_to_name(slug),
                    network=network,
                    organisation=organisation,
                )
                self._session.add(found)
            elif name and found.name != name:
                found.name = name
            self._projects[slug] = found
        return self._projects[slug]


def load_directory(
    session: Session,
    *,
    networks: Sequence[DirectoryEntry],
    organisations: Sequence[DirectoryEntry],
    projects: Sequence[DirectoryEntry],
    memberships: Sequence[tuple[str, str]] = (),
) -> None:
    """Create or rename networks, organisations and projects from a registry (no commit)."""
    directory = Directory(session)
    for item in networks:
        directory.network(item.slug, item.name)
    for item in organisations:
        directory.organisation(item.slug, item.name)
    for org_slug, network_slug in memberships:
        directory.member(directory.organisation(org_slug), directory.network(network_slug))
    for item in projects:
        if item.network is None or item.organisation is None:
            continue
        directory.project(
            item.slug,
            network=directory.network(item.network),
            organisation=directory.organisation(item.organisation),
            name=item.name,
        )
