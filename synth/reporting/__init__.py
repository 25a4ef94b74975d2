"""Human-readable renderings: theme summaries, and briefing packs as HTML, Markdown and PDF."""

from synth.reporting.briefing import Briefing, BriefingScope, BriefingTools, build_briefing
from synth.reporting.briefing_render import (
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)
from synth.reporting.markdown import render_summary_markdown

__all__ = [
    "Briefing",
    "BriefingScope",
    "BriefingTools",
    "build_briefing",
    "render_briefing_html",
    "render_briefing_markdown",
    "render_briefing_pdf",
    "render_summary_markdown",
]
