"""A theme summary as Markdown: every quoted sentence followed by its citation."""

from __future__ import annotations

from synth.services.summaries import CitedSentence, ThemeSummary

__all__ = ["cite_line", "escape_markdown", "render_summary_markdown"]

_SECTION_TITLES = {
    "worked": "What is working",
    "did_not_work": "What is not working",
    "barrier": "Barriers",
    "enabler": "Enablers",
    "next_step": "Next steps teams plan",
}


def escape_markdown(text: str) -> str:
    """Neutralise Markdown and HTML control characters in quoted text."""
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def cite_line(sentence: CitedSentence) -> str:
    """A Markdown list item: the quoted sentence, then its title, organisation, network, date."""
    date = sentence.occurred_on.isoformat() if sentence.occurred_on else "undated"
    return (
        f"- “{escape_markdown(sentence.text)}” — *{escape_markdown(sentence.title)}*, "
        f"{sentence.organisation}, {sentence.network}, {date} [entry {sentence.entry_id}]"
    )


def render_summary_markdown(summary: ThemeSummary) -> str:
    """Render ``summary`` as a Markdown document."""
    view, p = summary.theme, summary.theme.profile
    lines = [
        f"# {escape_markdown(view.name)}",
        "",
        f"**Class:** {p.theme_class} · **score** {p.score:.0f} · {p.entries} entries from "
        f"{len(p.organisations)} organisations in {len(p.networks)} networks · "
        f"{p.first_seen or '?'} to {p.last_seen or '?'}",
        "",
        f"**Key phrases:** {', '.join(escape_markdown(k) for k in view.key_phrases) or '—'}",
        "",
        *[f"- {escape_markdown(reason)}" for reason in p.explanation],
        "",
        "## Overview",
        "",
        *[cite_line(s) for s in summary.overview],
    ]
    for name, title in _SECTION_TITLES.items():
        if summary.sections.get(name):
            lines += ["", f"## {title}", "", *[cite_line(s) for s in summary.sections[name]]]
    if view.bright_spots:
        lines += ["", "## Bright spots", ""]
        lines += [
            f"- *{escape_markdown(s.title)}*, {s.organisation}, {s.network} [entry {s.entry_id}]: "
            f"{escape_markdown(s.reason)}"
            for s in view.bright_spots
        ]
    lines += ["", "## Networks and organisations", ""]
    lines += [f"- {net}: {n} passage(s)" for net, n in p.networks.items()]
    lines += ["", "## Trend (entries per quarter)", ""]
    lines += [f"- {q}: {n}" for q, n in p.quarters.items()]
    lines += ["", "## Questions for the event", ""]
    lines += [f"{i}. {escape_markdown(q)}" for i, q in enumerate(summary.questions, 1)]
    return "\n".join(lines) + "\n"
