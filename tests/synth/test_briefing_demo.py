"""End to end on the demo corpus: `synth demo`, `synth topics fit`, `synth brief` to PDF and HTML.

The PDF must have pages (pypdf), every quotation in the HTML must be cited and found word for
word in the cited entry, and a briefing built for an anonymous reader cites public entries only.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from models import Entry
from synth.config import EngineConfig
from synth.engine import build_engine
from synth.reporting import BriefingScope, BriefingTools, build_briefing
from synth.search.query import Viewer
from tests.conftest import copy_demo

pytestmark = pytest.mark.slow
runner = CliRunner()
QUOTE = re.compile(r"<q>(.*?)</q>\s*<cite>(.*?)</cite>", re.S)
SCOPE = ["--network", "falls-prevention", "--network", "medicines-safety", "--since", "2025-06-01"]


@pytest.fixture(scope="module")
def demo(demo_base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    copy = copy_demo(demo_base, tmp_path_factory.mktemp("briefing-demo"))
    return copy.env, copy.folder


def test_brief_writes_a_pdf_with_pages_and_cited_html(demo: tuple[dict[str, str], Path]) -> None:
    env, folder = demo
    pdf, page = folder / "pack.pdf", folder / "pack.html"
    for out in (pdf, page):
        args = ["brief", *SCOPE, "--event-date", "2026-12-01", "--out", str(out)]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    assert len(PdfReader(pdf).pages) >= 2
    text = page.read_text(encoding="utf-8")
    quotes = QUOTE.findall(text)
    assert len(quotes) >= 15 and text.count("<q>") == len(quotes)
    engine = build_engine(
        EngineConfig(database_url=env["SYNTH_DATABASE_URL"], data_dir=env["SYNTH_DATA_DIR"])
    )
    with engine.sessions() as session:
        bodies = dict(session.execute(select(Entry.id, Entry.body)).all())
    for quoted, cite in quotes:
        entry_id = int(re.search(r"\[entry (\d+)\]", cite).group(1))  # type: ignore[union-attr]
        assert html.unescape(quoted) in bodies[entry_id]
    assert "Learning from outside your network" in text
    engine.close()


def test_an_anonymous_reader_gets_public_entries_only(demo: tuple[dict[str, str], Path]) -> None:
    env, _ = demo
    engine = build_engine(
        EngineConfig(database_url=env["SYNTH_DATABASE_URL"], data_dir=env["SYNTH_DATA_DIR"])
    )
    scope = BriefingScope(viewer=Viewer.anonymous(), networks=("falls-prevention",))
    with engine.sessions() as session:
        briefing = build_briefing(session, BriefingTools.from_engine(engine), scope, top=3)
        cited = {q.entry_id for q in briefing.quotes()} | {s.entry_id for s in briefing.sources}
        kinds = set(session.scalars(select(Entry.visibility).where(Entry.id.in_(cited))))
    engine.close()
    assert cited and kinds == {"public"}
