"""``synth measures import|list|show|analyse|chart|bright-spots``: run charts and SPC."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from corpus.measures import read_measures
from corpus.series import read_series
from synth.charts import ChartPanel, chart_image, small_multiples
from synth.core.measure_analysis import Series, analyse_series
from synth.errors import ConfigError, IngestError
from synth.services.measure_views import analysis_dict, annotations_list, measure_dict
from synth.services.measures import (
    analyse_measure,
    analysis_rules,
    bright_spots,
    get_measure,
    import_measures,
    list_measures,
    series_of,
)
from synth.store import check_schema, migrate
from synth.types import MeasureType

__all__ = ["measures_app"]

measures_app = typer.Typer(help="Measures: run charts, SPC and bright spots.", no_args_is_help=True)
app.add_typer(measures_app, name="measures")

ChartOption = Annotated[
    Path | None, typer.Option("--chart", help="Write the chart here (.png or .svg).")
]


def _image_format(path: Path) -> Literal["png", "svg"]:
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "png":
        return "png"
    if suffix == "svg":
        return "svg"
    raise ConfigError(f"chart file '{path}' must end in .png or .svg")


def _write_chart(path: Path, panel: ChartPanel) -> None:
    path.write_bytes(chart_image(panel, _image_format(path)))
    stderr.print(f"chart written to {path}")


def _print_analysis(title: str, data: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]{title}[/bold]: {data['verdict']}", highlight=False)
    for signal in data["signals"]:
        periods = [str(p["period"]) for p in signal["points"]]
        span = f"{periods[0]} to {periods[-1]}" if periods else ""
        console.print(f"  {signal['rule']} ({signal['effect']}): {signal['detail']} {span}")


@measures_app.command("import")
@synth_command
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A measures .csv or .json file.")],
    as_json: JsonOption = False,
) -> None:
    """Import measures and observations in one transaction (nothing is stored on any error)."""
    batch = read_measures(file)
    engine = state_of(ctx).engine()
    migrate(engine.db)
    with engine.sessions.begin() as session:
        report = import_measures(session, batch.records, batch.problems)
    if as_json:
        emit(report.to_dict())
    else:
        stderr.print(
            f"{report.measures_created} measures created, {report.measures_updated} updated, "
            f"{report.observations} observations, {report.annotations} annotations"
        )


@measures_app.command("list")
@synth_command
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project (slug).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List stored measures with their verdicts."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    rules = analysis_rules(engine.config.measures)
    with engine.sessions() as session:
        rows = [
            {**measure_dict(m), "verdict": analyse_measure(m, rules).verdict.value}
            for m in list_measures(session, project)
        ]
    if as_json:
        emit({"measures": rows})
        return
    table = Table("measure", "project", "type", "better", "verdict")
    for row in rows:
        table.add_row(row["measure_id"], row["project"], row["type"], row["better"], row["verdict"])
    Console().print(table)


@measures_app.command("show")
@synth_command
def show(
    ctx: typer.Context,
    measure_id: Annotated[str, typer.Argument(help="Measure id (slug) or number.")],
    chart: ChartOption = None,
    as_json: JsonOption = False,
) -> None:
    """Analyse one stored measure: verdict, signals and (optionally) its chart."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        measure = get_measure(session, measure_id)
        series = series_of(measure)
        analysis = analyse_series(series, analysis_rules(engine.config.measures))
        notes = tuple((a.on, a.text) for a in measure.annotations)
        data = {
            **measure_dict(measure),
            "annotations": annotations_list(measure),
            **analysis_dict(series, analysis),
        }
        panel = ChartPanel(series, analysis, measure.name, measure.unit, notes)
    if chart is not None:
        _write_chart(chart, panel)
    if as_json:
        emit(data)
    else:
        _print_analysis(f"{data['measure_id']} — {data['name']}", data)


def _series_type(given: str | None, has_denominators: bool, ratios_at_most_one: bool) -> str:
    if given is not None:
        try:
            return MeasureType(given.lower()).value
        except ValueError:
            options = ", ".join(t.value for t in MeasureType)
            raise ConfigError(f"--type '{given}' is not one of: {options}") from None
    if not has_denominators:
        return "continuous"
    return "proportion" if ratios_at_most_one else "rate"


@measures_app.command("analyse")
@synth_command
def analyse(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV of date,value[,numerator,denominator].")],
    direction: Annotated[str, typer.Option(help="Which way is better: up or down.")],
    type_: Annotated[
        str | None,
        typer.Option("--type", help="count, rate, proportion, days_between or continuous."),
    ] = None,
    rules: Annotated[str | None, typer.Option(help="Run-chart rules: perla or anhoej.")] = None,
    phase: Annotated[
        list[str] | None, typer.Option(help="Start new control limits on this date (repeatable).")
    ] = None,
    chart: ChartOption = None,
    as_json: JsonOption = False,
) -> None:
    """Analyse any series CSV without storing it."""
    if direction not in ("up", "down"):
        raise ConfigError(f"--direction '{direction}' must be up or down")
    points, problems = read_series(file)
    if problems:
        raise IngestError(
            f"{len(problems)} problem(s) in {file}", tuple(p.describe() for p in problems)
        )
    config = state_of(ctx).settings.measures
    if rules is not None:
        if rules not in ("perla", "anhoej"):
            raise ConfigError(f"--rules '{rules}' must be perla or anhoej")
        config = config.model_copy(update={"rules": rules})
    try:
        starts = tuple(dt.date.fromisoformat(p) for p in phase or ())
    except ValueError:
        raise ConfigError("--phase takes dates as YYYY-MM-DD") from None
    denominators = tuple(p.denominator for p in points)
    has_ratio = bool(points) and all(d is not None for d in denominators)
    at_most_one = all((p.numerator or 0) <= (p.denominator or 0) for p in points)
    series = Series(
        periods=tuple(p.period for p in points),
        values=tuple(p.value for p in points),
        better="up" if direction == "up" else "down",
        type=_series_type(type_, has_ratio, at_most_one),  # type: ignore[arg-type]
        numerators=tuple(p.numerator for p in points) if has_ratio else (),
        denominators=denominators if has_ratio else (),
        phase_starts=starts,
    )
    analysis = analyse_series(series, analysis_rules(config))
    data = {"file": str(file), **analysis_dict(series, analysis)}
    if chart is not None:
        _write_chart(chart, ChartPanel(series, analysis, file.stem))
    if as_json:
        emit(data)
    else:
        _print_analysis(file.name, data)


@measures_app.command("chart")
@synth_command
def chart_(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project slug.")],
    out: Annotated[Path, typer.Option("--out", help="Image file (.png or .svg).")],
) -> None:
    """Draw a project's measures as small multiples."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    rules = analysis_rules(engine.config.measures)
    with engine.sessions() as session:
        panels = []
        for listed in list_measures(session, project):
            measure = get_measure(session, listed.id)
            series = series_of(measure)
            notes = tuple((a.on, a.text) for a in measure.annotations)
            panels.append(
                ChartPanel(series, analyse_series(series, rules), measure.name, measure.unit, notes)
            )
    if not panels:
        raise ConfigError(f"project '{project}' has no measures")
    out.write_bytes(small_multiples(panels, _image_format(out)))
    stderr.print(f"{len(panels)} charts written to {out}")


@measures_app.command("bright-spots")
@synth_command
def bright_spots_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Projects whose measures show improvement, with the entries that tell their story."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        spots = bright_spots(session, analysis_rules(engine.config.measures))
    rows = [
        {
            "project": s.project,
            "project_name": s.project_name,
            "network": s.network,
            "organisation": s.organisation,
            "improving": [{"measure_id": m.slug, "name": m.name} for m in s.improving],
            "entry_ids": list(s.entry_ids),
        }
        for s in spots
    ]
    if as_json:
        emit({"bright_spots": rows})
        return
    for spot in spots:
        names = "; ".join(m.name for m in spot.improving)
        Console().print(f"[bold]{spot.project_name}[/bold] ({spot.network}): {names}")
