"""Measures of change projects, their observations over time and dated annotations."""

import datetime as dt

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.entities import Project


class Measure(Base):
    """A quantity a project tracks over time (falls per 1,000 bed days, % seen in 4 hours...)."""

    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    better: Mapped[str] = mapped_column(String(4))
    baseline_start: Mapped[dt.date | None]
    baseline_end: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship()
    observations: Mapped[list["Observation"]] = relationship(
        back_populates="measure",
        cascade="all, delete-orphan",
        order_by="Observation.period",
    )
    annotations: Mapped[list["MeasureAnnotation"]] = relationship(
        back_populates="measure",
        cascade="all, delete-orphan",
        order_by="MeasureAnnotation.on",
    )


class Observation(Base):
    """One point of a measure: its period and value (with numerator and denominator for ratios)."""

    __tablename__ = "measure_observations"
    __table_args__ = (UniqueConstraint("measure_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    period: Mapped[dt.date]
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)

    measure: Mapped[Measure] = relationship(back_populates="observations")


class MeasureAnnotation(Base):
    """A dated note on a measure: a change idea introduced, a PDSA cycle, or an event."""

    __tablename__ = "measure_annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), index=True
    )
    on: Mapped[dt.date]
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    pdsa_cycle: Mapped[str | None] = mapped_column(String(100))
    phase: Mapped[bool] = mapped_column(default=False)

    measure: Mapped[Measure] = relationship(back_populates="annotations")
