"""Time a briefing pack on a store with fitted topics (the demo: `synth demo && synth topics fit`).

Usage: python bench/briefing.py --database-url sqlite:///var/synth.db --data-dir var
    [--repeat 3] [--network falls-prevention --network medicines-safety] [--since 2025-06-01]

Models and indexes are loaded before timing (a server has them warm); each phase is the
median of ``--repeat`` runs: build (every section), HTML, Markdown, PDF (Chromium).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import time
from collections.abc import Callable

from pypdf import PdfReader

from synth.config import EngineConfig
from synth.engine import build_engine
from synth.reporting import (
    BriefingScope,
    BriefingTools,
    build_briefing,
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)
from synth.search.query import Viewer


def _median(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="sqlite:///var/synth.db")
    parser.add_argument("--data-dir", default="var")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--network", action="append", default=None)
    parser.add_argument("--since", default="2025-06-01")
    args = parser.parse_args()
    networks = tuple(args.network or ("falls-prevention", "medicines-safety"))
    engine = build_engine(EngineConfig(database_url=args.database_url, data_dir=args.data_dir))
    tools = BriefingTools.from_engine(engine)
    tools.embedder.encode(["warm up"])
    scope = BriefingScope(
        viewer=Viewer.operator(), networks=networks, since=dt.date.fromisoformat(args.since),
        event_date=dt.date(2026, 12, 1),
    )  # fmt: skip
    with engine.sessions() as session:
        build_s, briefing = _median(lambda: build_briefing(session, tools, scope), args.repeat)
    assert briefing is not None
    html_s, page = _median(lambda: render_briefing_html(briefing), args.repeat)  # type: ignore[arg-type]
    md_s, _ = _median(lambda: render_briefing_markdown(briefing), args.repeat)  # type: ignore[arg-type]
    pdf_s, pdf = _median(lambda: render_briefing_pdf(briefing), args.repeat)  # type: ignore[arg-type]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)  # type: ignore[arg-type]
    print(f"scope: {', '.join(networks)} since {args.since}; median of {args.repeat}")
    print(f"build {build_s:.2f} s · HTML {html_s * 1000:.0f} ms ({len(page) / 1024:.0f} KiB) · "  # type: ignore[arg-type]
          f"Markdown {md_s * 1000:.0f} ms · PDF {pdf_s:.2f} s ({pages} pages, "
          f"{len(pdf) / 1024:.0f} KiB)")  # type: ignore[arg-type]  # fmt: skip
    engine.close()


if __name__ == "__main__":
    main()
