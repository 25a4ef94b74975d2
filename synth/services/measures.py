"""Store and read measures: import in one transaction, look up, analyse, verdicts per project.

Projects are found by slug. A record that carries ``network`` and ``organisation`` creates a
missing project (as entry ingest does, through :class:`Directory`); without them an unknown
project is a problem naming the row and column, and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from models import Entry, Measure, MeasureAnnotation, Observation, Project
from synth.config import MeasureConfig
from synth.core.measure_analysis import AnalysisRules, MeasureAnalysis, Series, analyse_series
from synth.core.run_chart import RunChartRules
from synth.core.shewhart import ShewhartRules
from synth.core.signals import Verdict
from synth.errors import IngestError, NotFoundError
from synth.services.directory import Directory
from synth.types import MeasureRecord, RecordProblem, SourceRef

__all__ = [
    "BrightSpot",
    "MeasureImportReport",
    "MeasureVerdict",
    "analyse_measure",
    "analysis_rules",
    "bright_spots",
    "get_measure",
    "import_measures",
    "list_measures",
    "project_verdicts",
    "series_of",
]

logger = logging.getLogger(__name__)


@dataclass
class MeasureImportReport:
    """What an import stored."""

    measures_created: int = 0
    measures_updated: int = 0
    observations: int = 0
    annotations: int = 0
    projects_created: list[str] = field(default_factory=list)
    measure_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return the report as plain JSON-ready data."""
        return {
            "measures_created": self.measures_created,
            "measures_updated": self.measures_updated,
            "observations": self.observations,
            "annotations": self.annotations,
            "projects_created": self.projects_created,
            "measure_ids": self.measure_ids,
        }


@dataclass(frozen=True, slots=True)
class MeasureVerdict:
    """One measure's verdict, as the themes work and bright spots use it."""

    measure_id: int
    slug: str
    name: str
    better: str
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class BrightSpot:
    """A project with at least one improving measure, and the entries that tell its story."""

    project_id: int
    project: str
    project_name: str
    network: str
    organisation: str
    improving: tuple[MeasureVerdict, ...]
    entry_ids: tuple[int, ...]


def analysis_rules(config: MeasureConfig | None = None) -> AnalysisRules:
    """Translate settings into the pure analysis rules."""
    config = config or MeasureConfig()
    return AnalysisRules(
        run=RunChartRules(
            method=config.rules,
            baseline_points=config.baseline_points,
            shift_points=config.shift_points,
            trend_points=config.trend_points,
            astronomical_sigma=config.astronomical_sigma,
        ),
        shewhart=ShewhartRules(
            baseline_points=config.baseline_points,
            side_points=config.spc_side_points,
            trend_points=config.spc_trend_points,
        ),
        use_shewhart=config.shewhart,
    )


def _project_problem(record: MeasureRecord) -> RecordProblem:
    where = SourceRef(file=record.source.file, line=record.source.line)
    message = (
        f"unknown project '{record.project}' (create it first, or give network and "
        "organisation columns so the import can)"
    )
    return RecordProblem(where, "project", message)


def _resolve_projects(
    session: Session, records: Sequence[MeasureRecord], report: MeasureImportReport
) -> tuple[dict[str, Project], list[RecordProblem]]:
    directory = Directory(session)
    projects: dict[str, Project] = {}
    problems: list[RecordProblem] = []
    for record in records:
        if record.project in projects:
            continue
        found = session.scalar(select(Project).where(Project.slug == record.project))
        if found is None and record.network and record.organisation:
            network = directory.network(record.network)
            organisation = directory.organisation(record.organisation)
            directory.member(organisation, network)
            found = directory.project(record.project, network=network, organisation=organisation)
            report.projects_created.append(record.project)
        if found is None:
            problems.append(_project_problem(record))
        else:
            projects[record.project] = found
    return projects, problems


def _store(session: Session, record: MeasureRecord, project: Project) -> bool:
    """Create or replace one measure; return True when it was new."""
    measure = session.scalar(select(Measure).where(Measure.slug == record.measure_id))
    created = measure is None
    if measure is None:
        measure = Measure(slug=record.measure_id)
        session.add(measure)
    else:
        session.execute(delete(Observation).where(Observation.measure_id == measure.id))
        session.execute(delete(MeasureAnnotation).where(MeasureAnnotation.measure_id == measure.id))
        session.expire(measure, ["observations", "annotations"])
    measure.project = project
    measure.name, measure.unit = record.name, record.unit
    measure.type, measure.better = record.type.value, record.better
    measure.baseline_start, measure.baseline_end = record.baseline_start, record.baseline_end
    measure.observations = [
        Observation(
            period=o.period, value=o.value, numerator=o.numerator, denominator=o.denominator
        )
        for o in record.observations
    ]
    measure.annotations = [
        MeasureAnnotation(on=a.on, text=a.text, kind=a.kind, pdsa_cycle=a.pdsa_cycle, phase=a.phase)
        for a in record.annotations
    ]
    return created


def import_measures(
    session: Session, records: Sequence[MeasureRecord], problems: Iterable[RecordProblem] = ()
) -> MeasureImportReport:
    """Store measures in the caller's transaction, or raise and store nothing.

    Re-importing a measure id replaces its fields, observations and annotations.

    Args:
        session: A session inside a transaction the caller commits (``sessions.begin()``).
        records: Validated measures.
        problems: Problems the reader found; any at all rejects the batch.

    Returns:
        Counts of what was stored.

    Raises:
        IngestError: Any reader problem, a repeated measure id, or an unknown project; the
            error lists each as ``file:row: field 'column': why``.
    """
    report = MeasureImportReport()
    found = list(problems)
    seen: set[str] = set()
    for record in records:
        if record.measure_id in seen:
            where = SourceRef(file=record.source.file, line=record.source.line)
            found.append(RecordProblem(where, "measure_id", f"'{record.measure_id}' repeats"))
        seen.add(record.measure_id)
    projects, missing = _resolve_projects(session, records, report)
    found += missing
    if found:
        lines = tuple(p.describe() for p in found)
        raise IngestError(f"{len(found)} problem(s) in the measures; nothing was stored", lines)
    for record in records:
        created = _store(session, record, projects[record.project])
        report.measures_created += created
        report.measures_updated += not created
        report.observations += len(record.observations)
        report.annotations += len(record.annotations)
        report.measure_ids.append(record.measure_id)
    session.flush()
    logger.info("imported measures", extra={"measures": len(records)})
    return report


def get_measure(session: Session, key: str | int) -> Measure:
    """Return the measure with this numeric id or slug, with observations and annotations.

    Raises:
        NotFoundError: No such measure.
    """
    query = select(Measure).options(
        selectinload(Measure.observations),
        selectinload(Measure.annotations),
        selectinload(Measure.project).selectinload(Project.network),
        selectinload(Measure.project).selectinload(Project.organisation),
    )
    text = str(key)
    condition = Measure.id == int(text) if text.isdigit() else Measure.slug == text
    measure = session.scalar(query.where(condition))
    if measure is None:
        raise NotFoundError(
            f"no measure '{key}' (see `synth measures show` or GET /api/v1/measures)"
        )
    return measure


def list_measures(session: Session, project: str | None = None) -> list[Measure]:
    """Return every measure (of one project, by slug, when given), ordered by slug."""
    query = select(Measure).options(
        selectinload(Measure.project).selectinload(Project.network),
        selectinload(Measure.project).selectinload(Project.organisation),
    )
    if project:
        query = query.join(Measure.project).where(Project.slug == project)
    return list(session.scalars(query.order_by(Measure.slug)))


def series_of(measure: Measure) -> Series:
    """Turn a stored measure into the pure :class:`Series` the analysis reads."""
    observations = sorted(measure.observations, key=lambda o: o.period)
    baseline = None
    if measure.baseline_start and measure.baseline_end:
        baseline = (measure.baseline_start, measure.baseline_end)
    return Series(
        periods=tuple(o.period for o in observations),
        values=tuple(o.value for o in observations),
        better="up" if measure.better == "up" else "down",
        type=measure.type,  # type: ignore[arg-type]
        numerators=tuple(o.numerator for o in observations),
        denominators=tuple(o.denominator for o in observations),
        baseline=baseline,
        phase_starts=tuple(a.on for a in measure.annotations if a.phase),
    )


def analyse_measure(measure: Measure, rules: AnalysisRules | None = None) -> MeasureAnalysis:
    """Analyse one stored measure."""
    return analyse_series(series_of(measure), rules)


def project_verdicts(
    session: Session, project_ids: Iterable[int], rules: AnalysisRules | None = None
) -> dict[int, list[MeasureVerdict]]:
    """Return each project's measures with their verdicts (projects without measures: ``[]``).

    This is the quantitative evidence behind a theme: the themes work scores a theme by the
    verdicts of the projects its entries belong to.
    """
    ids = sorted(set(project_ids))
    out: dict[int, list[MeasureVerdict]] = {pid: [] for pid in ids}
    query = (
        select(Measure)
        .where(Measure.project_id.in_(ids))
        .options(selectinload(Measure.observations), selectinload(Measure.annotations))
        .order_by(Measure.slug)
    )
    for measure in session.scalars(query):
        result = analyse_measure(measure, rules)
        out[measure.project_id].append(
            MeasureVerdict(measure.id, measure.slug, measure.name, measure.better, result.verdict)
        )
    return out


def bright_spots(session: Session, rules: AnalysisRules | None = None) -> list[BrightSpot]:
    """Return projects whose measures show improvement, with the ids of their entries."""
    project_ids = list(session.scalars(select(Measure.project_id).distinct()))
    verdicts = project_verdicts(session, project_ids, rules)
    spots = []
    for project_id, measures in verdicts.items():
        improving = tuple(m for m in measures if m.verdict is Verdict.IMPROVEMENT)
        if not improving:
            continue
        project = session.get(Project, project_id)
        assert project is not None
        entry_ids = tuple(
            session.scalars(
                select(Entry.id).where(Entry.project_id == project_id).order_by(Entry.id)
            )
        )
        spots.append(
            BrightSpot(
                project_id,
                project.slug,
                project.name,
                project.network.slug,
                project.organisation.slug,
                improving,
                entry_ids,
            )
        )
    return sorted(spots, key=lambda s: s.project)
