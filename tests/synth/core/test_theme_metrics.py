"""Theme profiles: spread, evenness, persistence, momentum, class and score."""

from __future__ import annotations

import datetime as dt

import pytest

from synth.config import ThemeConfig
from synth.core.theme_metrics import ThemePassage, build_theme_profile, quarter_index, quarter_of

CONFIG = ThemeConfig()


def _p(entry: int, network: str, org: str, day: str, project: int | None = None) -> ThemePassage:
    return ThemePassage(entry, network, org, project, dt.date.fromisoformat(day))


def _profile(passages: list[ThemePassage], **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "outcomes": {}, "project_verdicts": {}, "total_networks": 4,
        "reference_quarter": "2025Q4", "config": CONFIG,
    }  # fmt: skip
    args.update(kw)
    return build_theme_profile(passages, **args)  # type: ignore[arg-type]


def test_quarters() -> None:
    assert quarter_of(dt.date(2025, 8, 14)) == "2025Q3"
    assert quarter_index("2026Q1") - quarter_index("2025Q4") == 1


def test_generalisable_needs_networks_organisations_and_quarters() -> None:
    spread = [_p(i, f"n{i % 3}", f"o{i % 5}", f"2025-{1 + 3 * (i % 2):02d}-01") for i in range(10)]
    profile = _profile(spread)
    assert profile.theme_class == "generalisable"
    assert len(profile.networks) == 3 and len(profile.organisations) == 5
    one_quarter = [_p(i, f"n{i % 3}", f"o{i % 5}", "2025-01-05") for i in range(10)]
    assert _profile(one_quarter).theme_class != "generalisable"


def test_local_emerging_and_recurring() -> None:
    old_local = [_p(i, "n0", f"o{i}", f"2024-0{1 + i}-01") for i in range(3)]
    assert _profile(old_local).theme_class == "local"
    new = [_p(i, f"n{i}", "o1", "2025-11-01") for i in range(2)]
    assert _profile(new).theme_class == "emerging"
    old_two_networks = [_p(i, f"n{i % 2}", "o1", f"2024-0{1 + i}-01") for i in range(3)]
    assert _profile(old_two_networks).theme_class == "recurring"


def test_evenness_is_one_when_spread_evenly_over_every_network() -> None:
    even = [_p(i, f"n{i % 4}", "o", "2025-01-01") for i in range(8)]
    assert _profile(even).network_evenness == pytest.approx(1.0)
    assert _profile([_p(1, "n0", "o", "2025-01-01")]).network_evenness == 0.0


def test_growth_compares_the_last_two_quarters_with_the_two_before() -> None:
    passages = [_p(1, "n", "o", "2025-01-10"), _p(2, "n", "o", "2025-08-01"),
                _p(3, "n", "o", "2025-10-01"), _p(4, "n", "o", "2025-11-01")]  # fmt: skip
    assert _profile(passages).growth == pytest.approx(2.0)  # 3 recent vs 1 before


def test_evidence_and_verdicts_raise_the_score_and_are_explained() -> None:
    base = [_p(i, f"n{i % 2}", f"o{i}", "2025-05-01", project=7) for i in range(4)]
    plain = _profile(base)
    good = _profile(
        base, outcomes={"worked": 9, "did_not_work": 1}, project_verdicts={7: "improvement"}
    )
    bad = _profile(base, outcomes={"worked": 0, "did_not_work": 5})
    assert bad.score < plain.score < good.score
    assert 0 <= bad.score <= good.score <= 100
    assert any("improvement" in line for line in good.explanation)
    assert good.project_verdicts == {"improvement": 1}


def test_a_project_outside_the_theme_does_not_count() -> None:
    base = [_p(1, "n", "o", "2025-05-01", project=1)]
    assert _profile(base, project_verdicts={2: "improvement"}).project_verdicts == {}
