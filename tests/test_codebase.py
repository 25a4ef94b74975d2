"""House rules that keep the code readable: module size, no print, no generic helper modules."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("api", "synth", "models", "corpus")
# Excluded: generated Alembic revisions, and corpus/demo/build_measures.py, a data script whose
# length is the per-series configuration of the demo measures (not library code).
MODULES = sorted(
    p
    for pkg in PACKAGES
    for p in (ROOT / pkg).rglob("*.py")
    if "versions" not in p.parts and "demo" not in p.parts
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_under_500_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines < 500, f"{path.name} has {lines} lines; split it or record why in docs/adr/"


def test_no_generic_helper_modules() -> None:
    names = {p.stem for p in MODULES}
    assert not names & {"utils", "helpers", "misc", "common"}
