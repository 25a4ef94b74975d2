"""What makes a theme generalisable: spread, persistence, momentum, evidence — and its class.

Pure functions over the passages a viewer may see, so the same theme shows different counts to
different people and never counts what they may not see. Quarters are ``YYYYQn`` strings; the
reference quarter is the newest in the store, not the wall clock, so an archive reads the same
next year.

Score (0–100), documented in the README::

    100 × (0.30 breadth + 0.20 evenness + 0.20 persistence + 0.15 evidence + 0.15 momentum)

breadth = ½ min(networks / min_networks, 1) + ½ min(organisations / min_organisations, 1);
evenness = entropy of passages over networks, normalised by log(networks in the store);
persistence = min(active quarters / (2 × min_quarters), 1); evidence = mean of the share of
outcome sentences saying it worked and the share of linked projects whose measures improved
(0.5 when neither is known); momentum = clip(0.5 + growth / 2, 0, 1).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from synth.config import ThemeConfig

__all__ = [
    "ThemePassage",
    "ThemeProfile",
    "build_theme_profile",
    "build_timeline",
    "month_of",
    "quarter_index",
    "quarter_of",
]


@dataclass(frozen=True, slots=True)
class ThemePassage:
    """A visible passage of a theme, with where and when it comes from."""

    entry_id: int
    network: str
    organisation: str
    project_id: int | None
    occurred_on: dt.date | None


@dataclass(frozen=True, slots=True)
class ThemeProfile:
    """A theme's spread, persistence, momentum, evidence, class and score, with reasons."""

    passages: int
    entries: int
    networks: dict[str, int]
    organisations: dict[str, int]
    network_evenness: float
    quarters: dict[str, int]
    first_seen: str | None
    last_seen: str | None
    growth: float | None
    worked: int
    did_not_work: int
    project_verdicts: dict[str, int]
    theme_class: str
    score: float
    explanation: tuple[str, ...]


def quarter_of(day: dt.date) -> str:
    """``2025-08-14`` → ``"2025Q3"``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def month_of(day: dt.date) -> str:
    """``2025-08-14`` → ``"2025-08"``."""
    return f"{day.year}-{day.month:02d}"


def build_timeline(
    passages: Sequence[ThemePassage], period: str = "quarter"
) -> dict[str, dict[str, int]]:
    """Entries per period (``quarter`` or ``month``) and network, periods in order.

    >>> p = [ThemePassage(1, "a", "o", None, dt.date(2025, 2, 1)),
    ...      ThemePassage(1, "a", "o", None, dt.date(2025, 2, 1)),
    ...      ThemePassage(2, "b", "o", None, dt.date(2025, 5, 1))]
    >>> build_timeline(p)
    {'2025Q1': {'a': 1}, '2025Q2': {'b': 1}}
    """
    label = quarter_of if period == "quarter" else month_of
    entries = {(p.entry_id, p.network, p.occurred_on) for p in passages if p.occurred_on}
    table: dict[str, Counter[str]] = {}
    for _, network, day in sorted(entries, key=lambda e: (e[2], e[0])):
        assert day is not None
        table.setdefault(label(day), Counter())[network] += 1
    return {key: dict(sorted(counts.items())) for key, counts in sorted(table.items())}


def quarter_index(quarter: str) -> int:
    """A running quarter number, so quarters can be subtracted."""
    year, q = quarter.split("Q")
    return int(year) * 4 + int(q) - 1


def _evenness(counts: Mapping[str, int], total_networks: int) -> float:
    n = sum(counts.values())
    if n == 0 or total_networks < 2:
        return 0.0
    entropy = -sum(c / n * math.log(c / n) for c in counts.values() if c)
    return round(entropy / math.log(total_networks), 4)


def _growth(entry_quarters: Counter[str], reference: str | None) -> float | None:
    """Entries in the last two quarters versus the two before, as a relative change."""
    if reference is None:
        return None
    ref = quarter_index(reference)
    recent = sum(c for q, c in entry_quarters.items() if ref - 2 < quarter_index(q) <= ref)
    before = sum(c for q, c in entry_quarters.items() if ref - 4 < quarter_index(q) <= ref - 2)
    if recent == 0 and before == 0:
        return None
    return round((recent - before) / max(before, 1), 4)


def _classify(
    networks: int, organisations: int, quarters: Sequence[str], reference: str | None,
    config: ThemeConfig,
) -> str:  # fmt: skip
    if (
        networks >= config.min_networks
        and organisations >= config.min_organisations
        and len(quarters) >= config.min_quarters
    ):
        return "generalisable"
    if quarters and reference is not None:
        first = min(quarter_index(q) for q in quarters)
        if first > quarter_index(reference) - config.emerging_quarters:
            return "emerging"
    return "local" if networks <= 1 else "recurring"


@dataclass(frozen=True, slots=True)
class _Evidence:
    worked: int
    did_not_work: int
    verdicts: dict[str, int]

    def share(self) -> float:
        parts = []
        if self.worked + self.did_not_work:
            parts.append(self.worked / (self.worked + self.did_not_work))
        judged = self.verdicts.get("improvement", 0) + self.verdicts.get("deterioration", 0)
        judged += self.verdicts.get("no signal", 0)
        if judged:
            parts.append(self.verdicts.get("improvement", 0) / judged)
        return sum(parts) / len(parts) if parts else 0.5


def build_theme_profile(
    passages: Sequence[ThemePassage],
    *,
    outcomes: Mapping[str, int],
    project_verdicts: Mapping[int, str],
    total_networks: int,
    reference_quarter: str | None,
    config: ThemeConfig,
) -> ThemeProfile:
    """Profile a theme from its visible passages, their outcome counts and project verdicts."""
    networks = Counter(p.network for p in passages)
    organisations = Counter(p.organisation for p in passages)
    entry_dates = {p.entry_id: p.occurred_on for p in passages}
    entry_quarters = Counter(quarter_of(d) for d in entry_dates.values() if d is not None)
    quarters = sorted(entry_quarters, key=quarter_index)
    projects = {p.project_id for p in passages if p.project_id is not None}
    verdicts = Counter(v for pid, v in project_verdicts.items() if pid in projects)
    evidence = _Evidence(outcomes.get("worked", 0), outcomes.get("did_not_work", 0), dict(verdicts))
    growth = _growth(entry_quarters, reference_quarter)
    evenness = _evenness(networks, total_networks)
    theme_class = _classify(len(networks), len(organisations), quarters, reference_quarter, config)
    breadth = 0.5 * min(len(networks) / config.min_networks, 1) + 0.5 * min(
        len(organisations) / config.min_organisations, 1
    )
    persistence = min(len(quarters) / (2 * config.min_quarters), 1)
    momentum = min(max(0.5 + (growth or 0.0) / 2, 0.0), 1.0)
    score = 100 * (
        0.30 * breadth + 0.20 * evenness + 0.20 * persistence
        + 0.15 * evidence.share() + 0.15 * momentum
    )  # fmt: skip
    return ThemeProfile(
        passages=len(passages),
        entries=len(entry_dates),
        networks=dict(networks.most_common()),
        organisations=dict(organisations.most_common()),
        network_evenness=evenness,
        quarters={q: entry_quarters[q] for q in quarters},
        first_seen=quarters[0] if quarters else None,
        last_seen=quarters[-1] if quarters else None,
        growth=growth,
        worked=evidence.worked,
        did_not_work=evidence.did_not_work,
        project_verdicts=dict(verdicts),
        theme_class=theme_class,
        score=round(score, 2),
        explanation=_explain(networks, organisations, quarters, growth, evidence, config),
    )


def _explain(
    networks: Counter[str], organisations: Counter[str], quarters: Sequence[str],
    growth: float | None, evidence: _Evidence, config: ThemeConfig,
) -> tuple[str, ...]:  # fmt: skip
    lines = [
        f"Seen in {len(networks)} network(s) and {len(organisations)} organisation(s) "
        f"(generalisable needs ≥ {config.min_networks} and ≥ {config.min_organisations}).",
    ]
    if quarters:
        lines.append(
            f"Active in {len(quarters)} quarter(s), {quarters[0]} to {quarters[-1]} "
            f"(generalisable needs ≥ {config.min_quarters})."
        )
    if growth is not None:
        lines.append(f"Entries in the last two quarters vs the two before: {growth:+.0%}.")
    if evidence.worked + evidence.did_not_work:
        lines.append(
            f"Sentences saying it worked: {evidence.worked}; saying it did not: "
            f"{evidence.did_not_work}."
        )
    if evidence.verdicts:
        summary = ", ".join(f"{n} {v}" for v, n in sorted(evidence.verdicts.items()))
        lines.append(f"Linked projects' measures: {summary}.")
    return tuple(lines)
