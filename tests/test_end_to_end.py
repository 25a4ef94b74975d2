"""End to end on the real stack: a mixed folder through the CLI into SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from models import Entry
from synth.store import build_db_engine, build_session_factory
from tests.corpus.files import write_docx, write_pdf

pytestmark = pytest.mark.slow
runner = CliRunner()

STORY = (
    "Our night team tried a two minute safety huddle before the drug round. "
    "Falls on the ward fell from eleven to five over three months. "
    "Ring Marek on 07700 900461 if you want the laminated card."
)


def build_folder(folder: Path, *, with_invalid: bool) -> Path:
    folder.mkdir()
    rows = [
        {
            "id": "j-1",
            "kind": "pdsa",
            "title": "PDSA 1: huddle timing",
            "plan": "Move the huddle to 10am.",
            "study": "Attendance rose from 4 to 9 staff.",
            "act": "Adopt on ward 8.",
            "visibility": "public",
            "occurred_on": "2025-05-01",
            "tags": ["huddles"],
        },
        {
            "id": "j-2",
            "kind": "story",
            "title": "Night huddles",
            "body": STORY,
            "author": "Ola Bergström",
        },
    ]
    (folder / "notes.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (folder / "team.csv").write_text(
        "Ref,Type,Heading,Notes,Team\n"
        "c-1,reflection,Sharing data,We put the run chart on the ward door and people read it.,"
        "meadowbank-hospital\n"
    )
    (folder / "visit.md").write_text(
        "---\nkind: case_study\nvisibility: network\noccurred_on: 2025-09-12\n---\n"
        "# Family involvement on ward 3\n\nFamilies joined the morning board round. "
        "Email jo.reid@example.org to visit. Relatives spotted confusion early.\n"
    )
    write_pdf(
        folder / "evaluation.pdf",
        [
            "Evaluation of protected time for improvement. "
            "Teams with two hours a week finished more PDSA cycles."
        ],
        title="QI time evaluation",
    )
    write_docx(
        folder / "insight.docx",
        [
            "Hydration prompts",
            "Dr Aisha Rahman asked carers to offer "
            "a drink at every visit. Urinary infections did not change.",
        ],
    )
    if with_invalid:
        (folder / "broken.jsonl").write_text(
            '{"id": "x-1", "kind": "memo", "title": "t", "body": "b"}\n{oops\n'
        )
    return folder


def ingest(folder: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "ingest",
            str(folder),
            "--network",
            "falls-prevention",
            "--organisation",
            "westmoor-hospital",
            "--kind",
            "insight",
            "--column",
            "Ref=id",
            "--column",
            "Type=kind",
            "--column",
            "Heading=title",
            "--column",
            "Notes=body",
            "--column",
            "Team=organisation",
            "--json",
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_mixed_folder_on_both_stores(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNTH_DATABASE_URL", store_url)
    monkeypatch.setenv("SYNTH_DATA_DIR", str(tmp_path / "data"))
    if store_url.startswith("postgresql"):
        from tests.conftest import make_engine

        make_engine(store_url, tmp_path).close()  # empty the shared test database
    folder = build_folder(tmp_path / "in", with_invalid=True)

    code, _, err = ingest(folder)
    assert code == 2
    assert "broken.jsonl:1: field 'kind'" in err and "broken.jsonl:2" in err

    code, out, err = ingest(folder, "--skip-invalid")
    assert code == 0, err
    report = json.loads(out)
    assert report["created"] == 6 and len(report["skipped_invalid"]) == 2
    assert report["truncated_passages"] == 0
    assert report["redactions"].get("person", 0) >= 2
    assert report["redactions"]["phone"] == 1 and report["redactions"]["email"] == 1

    engine = build_db_engine(store_url)
    with build_session_factory(engine)() as session:
        entries = {e.external_id: e for e in session.scalars(select(Entry))}
        assert set(entries) == {"j-1", "j-2", "c-1", "visit.md", "evaluation.pdf", "insight.docx"}
        assert entries["c-1"].organisation.slug == "meadowbank-hospital"
        assert entries["c-1"].kind == "reflection"
        assert entries["visit.md"].title == "Family involvement on ward 3"
        assert entries["evaluation.pdf"].title == "QI time evaluation"
        assert "Aisha" not in entries["insight.docx"].body
        assert "Marek" not in entries["j-2"].body and "07700" not in entries["j-2"].body
        assert entries["j-2"].author_pseudonym and "Ola" not in entries["j-2"].author_pseudonym
        for entry in entries.values():
            assert entry.passages, entry.external_id
            for passage in entry.passages:
                assert entry.body[passage.start : passage.end] == passage.text
                assert passage.embedding_model == "all-MiniLM-L6-v2"
                vector = np.frombuffer(passage.embedding, dtype="<f4")
                assert vector.shape == (384,)
    engine.dispose()

    code, out, _ = ingest(folder, "--skip-invalid")
    assert code == 0 and json.loads(out)["unchanged"] == 6
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["entries"] == 6 and stats["network_slugs"] == ["falls-prevention"]
