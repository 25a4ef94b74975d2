"""Human-readable renderings of engine results (Markdown now; HTML and PDF briefings later)."""

from synth.reporting.markdown import render_summary_markdown

__all__ = ["render_summary_markdown"]
