"""Render a briefing as HTML (Jinja2, autoescaped, printable on A4), Markdown or PDF.

Every quoted sentence is followed by its citation (title, organisation, network, date and
``[entry N]``), in every format; the appendix lists each cited entry once.
"""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, StrictUndefined

from synth.reporting.briefing import Briefing, BriefingTheme
from synth.reporting.markdown import cite_line, escape_markdown
from synth.reporting.pdf import render_pdf

__all__ = ["render_briefing_html", "render_briefing_markdown", "render_briefing_pdf"]

SECTIONS = (
    ("worked", "What is working"),
    ("did_not_work", "What is not working"),
    ("barrier", "Barriers"),
    ("enabler", "Enablers"),
    ("next_step", "Next steps teams plan"),
)


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("synth.reporting", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["data_uri"] = _data_uri
    return env


def render_briefing_html(briefing: Briefing, *, link_base: str = "") -> str:
    """Render ``briefing`` as one self-contained HTML page.

    Args:
        briefing: The built briefing.
        link_base: Prefix of entry links (``""``: links relative to the web UI's root).
    """
    template = _environment().get_template("briefing.html.j2")
    return template.render(b=briefing, sections=SECTIONS, link_base=link_base)


def render_briefing_pdf(
    briefing: Briefing, *, link_base: str = "", timeout_s: float = 90.0
) -> bytes:
    """Render ``briefing`` to PDF through headless Chromium (see :mod:`synth.reporting.pdf`)."""
    return render_pdf(render_briefing_html(briefing, link_base=link_base), timeout_s=timeout_s)


def _theme_markdown(index: int, theme: BriefingTheme) -> list[str]:
    view, p = theme.view, theme.view.profile
    lines = [
        f"### {index}. {escape_markdown(view.name)} ({p.theme_class})",
        "",
        f"Score {p.score:.0f} · {p.entries} entries from {len(p.organisations)} organisations "
        f"in {len(p.networks)} networks ({', '.join(p.networks)}) · seen "
        f"{p.first_seen or '?'} to {p.last_seen or '?'}",
        "",
        "#### Overview",
        "",
        *[cite_line(s) for s in theme.summary.overview],
    ]
    for name, title in SECTIONS:
        if theme.summary.sections.get(name):
            lines += [
                "",
                f"#### {title}",
                "",
                *[cite_line(s) for s in theme.summary.sections[name]],
            ]
    if theme.outside:
        lines += ["", "#### Learning from outside your network", ""]
        lines += [cite_line(s) for s in theme.outside]
    return [*lines, ""]


def _spots_markdown(briefing: Briefing) -> list[str]:
    lines = ["## Bright spots", ""]
    for s in briefing.bright_spots:
        ref = f" [entry {s.entry_id}]" if s.entry_id else ""
        project = f" · project {s.project}" if s.project else ""
        charts = "; ".join(f"{c.name} ({c.verdict})" for c in s.charts)
        lines.append(
            f"- *{escape_markdown(s.title)}*{ref}, {s.organisation}, {s.network}{project}: "
            f"{escape_markdown(s.reason)}"
            + (f" — charts: {escape_markdown(charts)}" if charts else "")
        )
    return [*(lines if briefing.bright_spots else [*lines, "None in this scope yet."]), ""]


def _actions_markdown(briefing: Briefing) -> list[str]:
    progress = briefing.actions
    counts = " · ".join(f"{k.replace('_', ' ')} {n}" for k, n in progress.counts.items())
    lines = ["## Actions from earlier events", "", f"As of {progress.as_of}: {counts}", ""]
    for a in progress.actions:
        late = " **(overdue)**" if a in progress.overdue else ""
        outcome = f" Outcome: {escape_markdown(a.outcome)}" if a.outcome else ""
        lines.append(
            f"- {escape_markdown(a.what)} — {escape_markdown(progress.theme_names[a.theme_id])}; "
            f"owner {escape_markdown(a.owner)}; due {a.due_on or '—'}; "
            f"{a.status.replace('_', ' ')}{late}; "
            f"agreed at {escape_markdown(a.agreed_at)}.{outcome}"
        )
    return [*lines, ""]


def _rollup_markdown(briefing: Briefing) -> list[str]:
    lines = ["## What is working, what is not", "", "### Working", ""]
    lines += [
        f"- **{escape_markdown(q.theme)}:** {cite_line(q.sentence)[2:]}"
        for q in briefing.working
        if q.sentence
    ]
    lines += ["", "### Not working", ""]
    lines += [
        f"- **{escape_markdown(q.theme)}:** {cite_line(q.sentence)[2:]}"
        for q in briefing.not_working
        if q.sentence
    ]
    return [*lines, ""]


def _emerging_markdown(briefing: Briefing) -> list[str]:
    lines = ["## New and emerging themes", ""]
    for e in briefing.emerging:
        label = "new" if e.is_new else e.theme_class
        lines.append(
            f"- **{escape_markdown(e.name)}** ({label}): {e.entries} entries in "
            f"{', '.join(e.networks)}, first seen {e.first_seen or '?'}"
        )
        if e.quote:
            lines.append("  " + cite_line(e.quote))
    return [*lines, ""]


def render_briefing_markdown(briefing: Briefing) -> str:
    """Render ``briefing`` as Markdown (charts are named, not drawn)."""
    scope = briefing.scope
    event = f" · event on {scope.event_date}" if scope.event_date else ""
    lines = [
        f"# {escape_markdown(briefing.title)}",
        "",
        f"{escape_markdown(scope.describe())}{event} · prepared {briefing.generated_on}",
        "",
        "## Top themes",
        "",
    ]
    for index, theme in enumerate(briefing.themes, 1):
        lines += _theme_markdown(index, theme)
    lines += _rollup_markdown(briefing) + _spots_markdown(briefing) + _emerging_markdown(briefing)
    lines += ["## Questions for the event", ""]
    lines += [
        f"{i}. **{escape_markdown(q.theme)}:** {escape_markdown(q.text)}"
        + (f" [entry {q.entry_id}]" if q.entry_id else "")
        for i, q in enumerate(briefing.questions, 1)
    ]
    lines += ["", *_actions_markdown(briefing), "## Appendix: sources", ""]
    lines += [
        f"- [entry {s.entry_id}] *{escape_markdown(s.title)}* ({s.kind}), {s.organisation}, "
        f"{s.network}, {s.occurred_on or 'undated'}"
        for s in briefing.sources
    ]
    return "\n".join(lines) + "\n"
