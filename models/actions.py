"""Actions agreed at an event or a meeting, against a theme: what, who, when, how it went.

An action belongs to a network (who may see it) or to none (everyone may see it). It may name a
project and entries as its evidence; ``entry_ids`` is a JSON list so an entry's deletion never
blocks, and readers drop ids they may not see.
"""

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

#: The states an action moves through; ``done`` and ``dropped`` are closed.
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")


class Action(Base):
    """One agreed action and its progress."""

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'in_progress', 'done', 'dropped')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), index=True)
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    what: Mapped[str] = mapped_column(String(2000))
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    outcome: Mapped[str | None] = mapped_column(Text)
    agreed_at: Mapped[str] = mapped_column(String(300))
    agreed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
