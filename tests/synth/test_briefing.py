"""Briefing packs on a small store with known themes (SQLite and PostgreSQL): sections, citations,
visibility, scopes, actions and the three renderings (HTML, Markdown, PDF through Chromium)."""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from models import Entry
from synth.engine import Engine
from synth.reporting import (
    Briefing,
    BriefingScope,
    BriefingTools,
    build_briefing,
    render_briefing_html,
    render_briefing_markdown,
    render_briefing_pdf,
)
from synth.reporting.briefing import BriefingScopeError
from synth.reporting.pdf import find_chromium
from synth.search.query import Viewer
from synth.services.actions import ActionDraft, create_action, operator_principal
from tests.synth.briefing_store import HIDDEN, build_briefing_store

QUOTE = re.compile(r"<q>(.*?)</q>\s*<cite>(.*?)</cite>", re.S)
EVENT = dt.date(2025, 12, 1)


@pytest.fixture
def store(fake_engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, dict[str, object]]]:
    info = build_briefing_store(fake_engine, tmp_path)
    yield fake_engine, info


def _build(engine: Engine, scope: BriefingScope) -> Briefing:
    with engine.sessions() as session:
        return build_briefing(session, BriefingTools.from_engine(engine), scope, top=3)


def _body(engine: Engine, entry_id: int) -> str:
    with engine.sessions() as session:
        entry = session.get(Entry, entry_id)
        assert entry is not None
        return entry.body


def _add_actions(engine: Engine, themes: dict[str, int]) -> None:
    with engine.sessions.begin() as session:
        for what, network, status, due, agreed in (
            ("Share the bed sensor checklist", "net-a", "in_progress", dt.date(2025, 9, 1), 3),
            ("Visit the net-b falls team", "net-a", "done", dt.date(2025, 10, 1), 4),
            ("Write to commissioners", "net-b", "open", dt.date(2025, 9, 1), 5),
            ("After the event", "net-a", "open", None, 12),
        ):
            create_action(
                session, operator_principal(),
                ActionDraft(
                    theme_id=themes["falls"], what=what, owner="Ana", agreed_at="Spring event",
                    agreed_on=dt.date(2025, agreed, 2), network=network, status=status,
                    due_on=due,
                ),
            )  # fmt: skip


def test_briefing_has_every_section_with_true_citations(
    store: tuple[Engine, dict[str, object]],
) -> None:
    engine, info = store
    themes: dict[str, int] = info["themes"]  # type: ignore[assignment]
    _add_actions(engine, themes)
    scope = BriefingScope(viewer=Viewer.operator(), networks=("net-a",), event_date=EVENT)
    briefing = _build(engine, scope)
    assert {t.view.theme_id for t in briefing.themes} == set(themes.values())
    assert all(t.summary.overview for t in briefing.themes)
    quotes = briefing.quotes()
    assert len(quotes) >= 9
    for quote in quotes:  # every quote is found at its cited offsets in its entry
        assert quote.text and quote.text == _body(engine, quote.entry_id)[quote.start : quote.end]
    inside = [s for t in briefing.themes for s in t.summary.overview]
    assert {s.network for s in inside} == {"net-a"}
    outside = [s for t in briefing.themes for s in t.outside]
    assert outside and all(s.network != "net-a" for s in outside)
    assert briefing.working and all(q.sentence for q in briefing.working)
    spot = next(s for s in briefing.bright_spots if s.project == "proj-a")
    assert spot.charts and b"<svg" in spot.charts[0].svg
    assert briefing.questions
    progress = briefing.actions
    assert [a.what for a in progress.actions] == [
        "Share the bed sensor checklist",
        "Visit the net-b falls team",
    ]  # net-b's is out of scope; the last was agreed after the event
    assert progress.counts == {"open": 0, "in_progress": 1, "done": 1, "dropped": 0}
    assert [a.what for a in progress.overdue] == ["Share the bed sensor checklist"]
    cited = {q.entry_id for q in quotes}
    assert cited <= {s.entry_id for s in briefing.sources}


def test_html_and_markdown_cite_every_quote(store: tuple[Engine, dict[str, object]]) -> None:
    engine, info = store
    _add_actions(engine, info["themes"])  # type: ignore[arg-type]
    briefing = _build(engine, BriefingScope(viewer=Viewer.operator(), networks=("net-a",)))
    page = render_briefing_html(briefing)
    assert page.count("<q>") == len(QUOTE.findall(page)) >= len(briefing.quotes())
    for text, cite in QUOTE.findall(page):
        entry_id = int(re.search(r"\[entry (\d+)\]", cite).group(1))  # type: ignore[union-attr]
        assert html.unescape(text) in _body(engine, entry_id)
    assert "@media print" in page and "size: A4" in page
    assert "data:image/svg+xml;base64," in page
    assert "Share the bed sensor checklist" in page and "(overdue)" in page
    text = render_briefing_markdown(briefing)
    quoted = [line for line in text.splitlines() if "“" in line and "”" in line]
    assert quoted and all(re.search(r"\[entry \d+\]$", line) for line in quoted)
    for heading in ("## Top themes", "## Bright spots", "## Appendix: sources"):
        assert heading in text


@pytest.mark.parametrize(
    "viewer",
    [
        Viewer.anonymous(),
        Viewer(networks=frozenset({"net-b"})),
        Viewer(networks=frozenset({"net-a"})),
    ],
    ids=["anonymous", "net-b-reader", "net-a-reader"],
)
def test_a_briefing_never_quotes_what_its_reader_may_not_see(
    store: tuple[Engine, dict[str, object]], viewer: Viewer
) -> None:
    engine, info = store
    hidden_ids: dict[str, int] = info["hidden"]  # type: ignore[assignment]
    for networks in ((), ("net-a",), ("net-b",)):
        briefing = _build(engine, BriefingScope(viewer=viewer, networks=networks))
        rendered = render_briefing_html(briefing) + render_briefing_markdown(briefing)
        rendered += repr(briefing.to_dict())
        for name, (network, _, visibility, marker) in HIDDEN.items():
            visible = visibility == "network" and network in viewer.networks
            if not visible:
                assert marker not in rendered, (name, networks)
                assert f"[entry {hidden_ids[name]}]" not in rendered
                assert f'/entries/{hidden_ids[name]}"' not in rendered
        assert briefing.themes  # the public entries are still summarised


def test_a_reader_sees_what_their_key_allows(store: tuple[Engine, dict[str, object]]) -> None:
    engine, _ = store
    viewer = Viewer(networks=frozenset({"net-a"}))
    briefing = _build(engine, BriefingScope(viewer=viewer, networks=("net-a",)))
    sources = {s.title for s in briefing.sources}
    everything = render_briefing_html(briefing)
    assert "zebrahidden" in everything or any("zebrahidden" in t for t in sources)


def test_organisation_and_project_scopes(store: tuple[Engine, dict[str, object]]) -> None:
    engine, _ = store
    org = _build(engine, BriefingScope(viewer=Viewer.operator(), organisations=("org-b2",)))
    assert org.home_networks == ("net-b",)
    assert {s.organisation for t in org.themes for s in t.summary.overview} == {"org-b2"}
    assert all(s.network != "net-b" for t in org.themes for s in t.outside)
    project = _build(engine, BriefingScope(viewer=Viewer.operator(), projects=("proj-a",)))
    assert [t.view.name for t in project.themes] == ["falls, bed"]
    assert [s.project for s in project.bright_spots] == ["proj-a"]


def test_unknown_scope_is_an_error(store: tuple[Engine, dict[str, object]]) -> None:
    engine, _ = store
    with pytest.raises(BriefingScopeError, match="unknown network 'net-z'"):
        _build(engine, BriefingScope(viewer=Viewer.operator(), networks=("net-z",)))


def test_pdf_through_chromium_has_pages(store: tuple[Engine, dict[str, object]]) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; CI must install it (make browser)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    engine, _ = store
    briefing = _build(engine, BriefingScope(viewer=Viewer.operator(), networks=("net-a",)))
    pdf = render_briefing_pdf(briefing)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = unicodedata.normalize("NFKC", "".join(page.extract_text() for page in reader.pages))
    assert "Briefing for net-a" in text and "[entry" in text
