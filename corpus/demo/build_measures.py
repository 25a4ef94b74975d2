"""Build the demo measures data: ``measures.csv`` and ``measures_truth.json``.

Every series here is fictional. Each change project in ``registry.yaml`` gets
one measure (``<project>-m1``) whose data show the project's registered
``outcome``; four projects also get a related second measure (``-m2``), such
as a process or balancing measure.

The script is deterministic: each measure draws from its own
``random.Random(seed)``, starting from a seed derived from its id. After
simulating a series the script checks it against simple run-chart rules and
moves to the next seed until the rules agree with the expected outcome:

* shift: 6 or more consecutive points on one side of the median of the first
  12 points (points on the median are skipped);
* trend: 5 or more consecutive points all going up or all going down (a point
  equal to the one before it is skipped);
* 3-sigma: a point outside XmR limits computed from the first 12 points.

"improvement" and "deterioration" series must show a clean baseline, then a
shift of at least 7 points (or, for a trend-shaped series, a trend) in the
expected direction from the annotated change onwards, and nothing in the other
direction. "no signal" series must show none of the three rules, against the
baseline and against the whole series.

Run it from anywhere::

    python3 corpus/demo/build_measures.py
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
import re
import statistics
import sys
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY_PATH = HERE / "registry.yaml"
CSV_PATH = HERE / "measures.csv"
TRUTH_PATH = HERE / "measures_truth.json"

COLUMNS = [
    "measure_id",
    "project",
    "network",
    "organisation",
    "measure",
    "unit",
    "type",
    "better",
    "period",
    "value",
    "numerator",
    "denominator",
    "annotation",
]

FIRST_DAY = date(2024, 6, 1)
LAST_DAY = date(2026, 11, 30)
SIMULATION_START = date(2024, 1, 1)  # days_between series warm up before FIRST_DAY
BASELINE_POINTS = 12
SHIFT_POINTS = 6
CLEAR_SHIFT_POINTS = 7
TREND_POINTS = 5
SUSTAINED_SHARE = 0.85
MIN_POINTS, MAX_POINTS = 18, 30
MAX_ATTEMPTS = 5000

REGISTERED = ("measure", "type", "better", "outcome")
TYPES = ("count", "rate", "proportion", "days_between", "continuous")
OUTCOMES = ("improvement", "no signal", "deterioration")


@dataclass(frozen=True)
class Spec:
    """How to simulate one measure.

    Attributes:
        measure_id: ``<project-slug>-m1`` or ``-m2``.
        measure: Measure name as shown to users.
        unit: Unit label, e.g. ``"%"`` or ``"per 1,000 bed days"``.
        type: One of ``TYPES``.
        better: ``"up"`` or ``"down"``.
        expected: One of ``OUTCOMES``.
        baseline: Level before the change: % for proportions, events per
            ``per`` for rates, mean for counts and continuous series, mean days
            between events for days_between series.
        after: Level once the change has taken full effect (None: no change).
        change: Month ``"YYYY-MM"`` the level starts to move (None: no change).
        ramp: Months to move from ``baseline`` to ``after``; 1 is a step.
        shape: ``"step"`` or ``"trend"``: which rule must show the change.
        start: First month ``"YYYY-MM"`` of a monthly series.
        points: Number of months in a monthly series.
        denominator: Inclusive range the monthly denominator is drawn from.
        sd: Month-to-month standard deviation of a continuous series.
        per: Rate multiplier (1,000 bed days, 100 births, ...).
        annotations: ``(month, text)`` pairs, one per change idea or PDSA cycle.
        note: One sentence for the truth file; the rules that fired are added.
    """

    measure_id: str
    measure: str
    unit: str
    type: str
    better: str
    expected: str
    baseline: float
    after: float | None = None
    change: str | None = None
    ramp: int = 1
    shape: str = "step"
    start: str = "2024-06"
    points: int = 30
    denominator: tuple[int, int] | None = None
    sd: float = 0.0
    per: int = 1000
    annotations: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def project(self) -> str:
        """The project slug: the measure id without its ``-mN`` suffix."""
        return self.measure_id.rsplit("-m", 1)[0]


@dataclass(frozen=True)
class Point:
    """One row of a series before formatting."""

    period: date
    value: float
    numerator: int | None = None
    denominator: int | None = None


@dataclass(frozen=True)
class Signal:
    """A run-chart rule that fired.

    Attributes:
        rule: ``"shift"``, ``"trend"`` or ``"3-sigma"``.
        direction: ``"up"`` or ``"down"``.
        start: Index of the first point of the signal.
        length: Number of points in the signal.
    """

    rule: str
    direction: str
    start: int
    length: int


SPECS: tuple[Spec, ...] = (
    # Falls Prevention Collaborative
    Spec(
        measure_id="harbourside-falls-huddle-m1",
        measure="Inpatient falls per 1,000 bed days",
        unit="per 1,000 bed days",
        type="rate",
        better="down",
        expected="improvement",
        baseline=6.8,
        after=4.2,
        change="2025-07",
        denominator=(2600, 3100),
        annotations=(
            ("2025-07", "Safety huddles started on wards 7 and 8"),
            ("2025-10", "PDSA 2: huddle moved to 10:00 to avoid the drug round"),
            ("2026-01", "Huddles spread to all five medical wards"),
        ),
        note="Falls rate fell and stayed lower after ward safety huddles started.",
    ),
    Spec(
        measure_id="harbourside-falls-huddle-m2",
        measure="% of high-risk patients with a falls risk assessment within 24 hours",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=62.0,
        after=80.0,
        change="2025-07",
        ramp=2,
        start="2024-07",
        points=29,
        denominator=(80, 140),
        annotations=(("2025-07", "Risk assessment status checked at each safety huddle"),),
        note="Process measure: assessments rose as the huddles checked them.",
    ),
    Spec(
        measure_id="thornbury-night-falls-m1",
        measure="Falls per month",
        unit="count",
        type="count",
        better="down",
        expected="no signal",
        baseline=7.0,
        annotations=(("2025-09", "Night comfort rounds started at 22:00 and 02:00"),),
        note="Falls varied around a stable level before and after night comfort rounds.",
    ),
    Spec(
        measure_id="glenmorrow-bay-falls-m1",
        measure="Days between falls with harm",
        unit="days",
        type="days_between",
        better="up",
        expected="improvement",
        baseline=17.0,
        after=62.0,
        change="2025-05",
        annotations=(
            ("2025-05", "Bay nursing started on wards 4 and 5"),
            ("2025-10", "PDSA 2: bay nurse cover extended to night shifts"),
        ),
        note="Falls with harm became much rarer after bay nursing started.",
    ),
    # Deteriorating Patient Network
    Spec(
        measure_id="riverside-news2-escalation-m1",
        measure="% of NEWS2>=5 escalated within 1 hour",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=61.0,
        after=76.0,
        change="2025-06",
        denominator=(110, 190),
        annotations=(
            ("2025-06", "SBAR escalation prompt added to electronic observations"),
            ("2025-09", "PDSA 2: outreach nurse joins the 08:30 bed meeting"),
        ),
        note="Timely escalation rose after the SBAR prompt and stayed higher.",
    ),
    Spec(
        measure_id="riverside-news2-escalation-m2",
        measure="Critical care outreach calls per 1,000 bed days",
        unit="per 1,000 bed days",
        type="rate",
        better="down",
        expected="no signal",
        baseline=14.0,
        denominator=(9000, 10500),
        annotations=(("2025-06", "SBAR escalation prompt added to electronic observations"),),
        note="Balancing measure: outreach workload did not change with faster escalation.",
    ),
    Spec(
        measure_id="westmoor-sepsis-six-m1",
        measure="% of sepsis patients receiving Sepsis Six within 1 hour",
        unit="%",
        type="proportion",
        better="up",
        expected="no signal",
        baseline=58.0,
        denominator=(25, 60),
        annotations=(("2025-08", "Sepsis grab bags placed in emergency department resus"),),
        note="Sepsis Six delivery varied around a stable level; no signal yet.",
    ),
    Spec(
        measure_id="greywater-structured-handover-m1",
        measure="Median handover time in minutes",
        unit="minutes",
        type="continuous",
        better="down",
        expected="improvement",
        baseline=34.0,
        after=25.5,
        change="2025-09",
        ramp=2,
        sd=2.0,
        annotations=(
            ("2025-09", "Structured ATMIST handover started at two receiving EDs"),
            ("2025-12", "PDSA 2: handover nurse rostered at peak arrival times"),
        ),
        note="Handover times fell after structured handover started.",
    ),
    # Primary Care Access Network
    Spec(
        measure_id="elmfield-online-triage-m1",
        measure="% of requests made online",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=21.0,
        after=52.0,
        change="2025-08",
        ramp=8,
        shape="trend",
        denominator=(280, 400),
        annotations=(
            ("2025-08", "Online triage form launched on the practice website"),
            ("2025-11", "PDSA 2: link to the form added to text reminders"),
            ("2026-02", "PDSA 3: reception script offers the online route"),
        ),
        note="Online requests climbed steadily (a trend, not a step) as the form was promoted.",
    ),
    Spec(
        measure_id="elmfield-online-triage-m2",
        measure="% of requests from patients aged 75 and over",
        unit="%",
        type="proportion",
        better="up",
        expected="no signal",
        baseline=17.0,
        denominator=(280, 400),
        annotations=(("2025-08", "Online triage form launched on the practice website"),),
        note="Balancing measure: older patients' share of requests did not fall.",
    ),
    Spec(
        measure_id="castlebrook-same-day-hub-m1",
        measure="Patients waiting over 14 days for a routine appointment",
        unit="count",
        type="count",
        better="down",
        expected="no signal",
        baseline=46.0,
        start="2024-09",
        points=27,
        annotations=(("2025-10", "Same-day hub opened for urgent requests"),),
        note="Routine waits varied around a stable level after the hub opened.",
    ),
    Spec(
        measure_id="kingsway-physio-self-referral-m1",
        measure="Days from request to first physiotherapy appointment",
        unit="days",
        type="continuous",
        better="down",
        expected="improvement",
        baseline=27.5,
        after=19.0,
        change="2025-10",
        ramp=2,
        sd=2.4,
        annotations=(
            ("2025-10", "Physiotherapy self-referral form opened on the PCN website"),
            ("2026-01", "PDSA 2: first-contact physiotherapist triage calls added"),
        ),
        note="Waits for a first physiotherapy appointment fell by about a week.",
    ),
    Spec(
        measure_id="kingsway-physio-self-referral-m2",
        measure="% of first physiotherapy appointments not attended",
        unit="%",
        type="proportion",
        better="down",
        expected="deterioration",
        baseline=7.0,
        after=12.5,
        change="2025-10",
        denominator=(90, 170),
        annotations=(("2025-10", "Physiotherapy self-referral form opened on the PCN website"),),
        note="Balancing measure: missed first appointments rose after self-referral opened.",
    ),
    # Mental Health Improvement Network
    Spec(
        measure_id="brackenfield-crisis-callback-m1",
        measure="% of crisis calls returned within 4 hours",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=64.0,
        after=75.0,
        change="2025-11",
        denominator=(150, 260),
        annotations=(
            ("2025-11", "Call-back slots ring-fenced in the crisis team rota"),
            ("2026-02", "PDSA 2: call-back tracker shown on the shared screen"),
        ),
        note="Call-backs within four hours rose after ring-fenced slots started.",
    ),
    Spec(
        measure_id="valleyview-digital-self-referral-m1",
        measure="Self-referrals per month",
        unit="count",
        type="count",
        better="up",
        expected="improvement",
        baseline=58.0,
        after=78.0,
        change="2025-07",
        annotations=(
            ("2025-07", "Online self-referral form went live"),
            ("2025-10", "PDSA 2: QR code posters in GP surgeries and libraries"),
        ),
        note="Self-referrals rose after the online form went live.",
    ),
    Spec(
        measure_id="lowther-restrictive-practice-m1",
        measure="Restraint incidents per 1,000 occupied bed days",
        unit="per 1,000 occupied bed days",
        type="rate",
        better="down",
        expected="no signal",
        baseline=9.0,
        denominator=(1400, 1600),
        annotations=(("2025-09", "De-escalation coaching started on two wards"),),
        note="Restraint varied around a stable level; no signal after coaching started.",
    ),
    # Medicines Safety Network
    Spec(
        measure_id="ashcombe-discharge-reconciliation-m1",
        measure="% of discharges reconciled within 72 hours",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=42.0,
        after=66.0,
        change="2025-06",
        denominator=(30, 70),
        annotations=(
            ("2025-06", "Discharge referrals received by secure email (pilot)"),
            ("2025-09", "PDSA 2: daily 14:00 reconciliation slot"),
        ),
        note="Reconciliation within 72 hours rose once referrals arrived by secure email.",
    ),
    Spec(
        measure_id="thornbury-protected-meds-rounds-m1",
        measure="Omitted doses per 1,000 doses",
        unit="per 1,000 doses",
        type="rate",
        better="down",
        expected="deterioration",
        baseline=7.5,
        after=11.0,
        change="2025-10",
        start="2024-09",
        points=27,
        denominator=(4200, 4900),
        annotations=(
            ("2025-10", "Protected medicines rounds started (do-not-disturb tabards)"),
            ("2026-03", "PDSA 2: morning round split into two shorter rounds"),
        ),
        note="Omitted doses rose after protected rounds started and stayed higher.",
    ),
    Spec(
        measure_id="riverside-insulin-safety-m1",
        measure="Insulin errors per month",
        unit="count",
        type="count",
        better="down",
        expected="no signal",
        baseline=4.5,
        annotations=(("2025-07", "Insulin safety checklist introduced on surgical wards"),),
        note="Insulin errors varied around a stable level after the checklist.",
    ),
    # Care at Home Learning Network
    Spec(
        measure_id="lindenhurst-carer-continuity-m1",
        measure="% of visits by a regular carer",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=48.0,
        after=58.0,
        change="2025-08",
        denominator=(300, 400),
        annotations=(
            ("2025-08", "Small neighbourhood teams of four carers formed"),
            ("2025-11", "PDSA 2: rota built around each client's regular carers first"),
            ("2026-03", "Neighbourhood teams spread to the second locality"),
        ),
        note="Visits by a regular carer rose after neighbourhood teams formed.",
    ),
    Spec(
        measure_id="hillcrest-hydration-prompts-m1",
        measure="Admissions with urinary infection per month",
        unit="count",
        type="count",
        better="down",
        expected="no signal",
        baseline=3.2,
        start="2024-12",
        points=24,
        annotations=(("2025-06", "Hydration prompt added to the visit checklist"),),
        note="Admissions varied around a stable low level; no signal.",
    ),
    Spec(
        measure_id="highmoor-reablement-m1",
        measure="% still at home 91 days after discharge",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=71.0,
        after=86.0,
        change="2025-09",
        denominator=(35, 75),
        annotations=(
            ("2025-09", "Reablement assessment within 48 hours of discharge started"),
            ("2026-01", "PDSA 2: therapist joins reablement visits in week one"),
        ),
        note="More people stayed at home after early reablement assessment.",
    ),
    # Maternity and Neonatal Safety Network
    Spec(
        measure_id="eastbridge-pph-reduction-m1",
        measure="PPH of 1.5 litres or more per 100 births",
        unit="per 100 births",
        type="rate",
        better="down",
        expected="improvement",
        baseline=3.6,
        after=2.1,
        change="2025-07",
        denominator=(310, 390),
        per=100,
        annotations=(
            ("2025-07", "PPH risk assessment at each stage of labour started"),
            ("2025-10", "PDSA 2: quantified blood loss on delivery suite"),
        ),
        note="Major PPH fell after staged risk assessment started.",
    ),
    Spec(
        measure_id="southfield-family-voice-m1",
        measure="% of births with a personalised care plan",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=38.0,
        after=66.0,
        change="2025-10",
        start="2024-08",
        points=28,
        denominator=(20, 45),
        annotations=(
            ("2025-10", "Birth planning conversation at 36 weeks with family present"),
            ("2026-02", "PDSA 2: care plan template co-designed with families"),
        ),
        note="Personalised care plans rose sharply after family planning conversations.",
    ),
    Spec(
        measure_id="redbrook-fresh-eyes-m1",
        measure="% of CTGs with an hourly fresh-eyes review",
        unit="%",
        type="proportion",
        better="up",
        expected="no signal",
        baseline=72.0,
        denominator=(40, 80),
        annotations=(("2025-08", "Fresh-eyes buddy pairs allocated at handover"),),
        note="Fresh-eyes reviews varied around a stable level; no signal.",
    ),
    # Staff Wellbeing Network
    Spec(
        measure_id="greywater-wellbeing-huddles-m1",
        measure="Sickness absence %",
        unit="%",
        type="continuous",
        better="down",
        expected="improvement",
        baseline=6.9,
        after=6.0,
        change="2025-12",
        start="2024-12",
        points=24,
        sd=0.3,
        annotations=(
            ("2025-12", "Post-incident wellbeing huddles started at two stations"),
            ("2026-03", "Huddles extended to control room staff"),
        ),
        note="Sickness absence fell after post-incident wellbeing huddles started.",
    ),
    Spec(
        measure_id="harbourside-protected-breaks-m1",
        measure="% of staff who took their full break",
        unit="%",
        type="proportion",
        better="up",
        expected="improvement",
        baseline=41.0,
        after=63.0,
        change="2025-12",
        start="2024-10",
        points=26,
        denominator=(60, 140),
        annotations=(
            ("2025-12", "Break buddies and a break board started on three wards"),
            ("2026-03", "PDSA 2: break times agreed at the safety huddle"),
        ),
        note="More staff took their full break after break buddies started.",
    ),
    Spec(
        measure_id="meadowbank-qi-time-m1",
        measure="Active staff-led QI projects",
        unit="count",
        type="count",
        better="up",
        expected="no signal",
        baseline=11.0,
        start="2025-06",
        points=18,
        annotations=(("2025-09", "Half a day a month of protected QI time offered"),),
        note="Short series: active projects varied around a stable level; no signal.",
    ),
)


# --- registry ----------------------------------------------------------------------------------

PROJECT_LINE = re.compile(
    r"^\s*- \{slug: (?P<slug>[\w-]+), network: (?P<network>[\w-]+), "
    r"organisation: (?P<organisation>[\w-]+), name: .*, measure: \"(?P<measure>[^\"]+)\", "
    r"outcome: (?P<outcome>[\w ]+)\}\s*$"
)
MEASURE_TEXT = re.compile(
    r"^(?P<name>.+) \((?P<type>\w+), (?P<direction>higher|lower) is better\)$"
)


def read_projects(path: Path) -> dict[str, dict[str, str]]:
    """Read the change projects from the registry.

    The registry's project lines are one-line YAML flow mappings, so a regular
    expression is enough and the script stays stdlib-only.

    Args:
        path: Path to ``registry.yaml``.

    Returns:
        Project slug -> network, organisation, measure name, type, better and outcome.
    """
    projects: dict[str, dict[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PROJECT_LINE.match(line)
        if not match:
            continue
        text = MEASURE_TEXT.match(match["measure"])
        assert text, f"unreadable measure text: {match['measure']!r}"
        projects[match["slug"]] = {
            "network": match["network"],
            "organisation": match["organisation"],
            "measure": text["name"],
            "type": text["type"],
            "better": "up" if text["direction"] == "higher" else "down",
            "outcome": match["outcome"].strip(),
        }
    return projects


def check_specs(specs: tuple[Spec, ...], projects: dict[str, dict[str, str]]) -> None:
    """Assert that the specs cover the registry and agree with it.

    Args:
        specs: All measure specs.
        projects: Output of ``read_projects``.
    """
    ids = [spec.measure_id for spec in specs]
    assert len(ids) == len(set(ids)), "duplicate measure ids"
    assert {s.project for s in specs if s.measure_id.endswith("-m1")} == set(projects)
    for spec in specs:
        project = projects[spec.project]
        assert spec.type in TYPES and spec.better in ("up", "down") and spec.expected in OUTCOMES
        assert (spec.change is None) == (spec.expected == "no signal"), spec.measure_id
        assert spec.annotations, f"{spec.measure_id}: every series marks its change idea"
        first, last = month(spec.start), add_months(month(spec.start), spec.points - 1)
        assert first >= FIRST_DAY and last <= LAST_DAY, f"{spec.measure_id}: outside the window"
        if spec.type == "proportion":
            assert spec.denominator and 20 <= min(spec.denominator) <= max(spec.denominator) <= 400
        if spec.measure_id.endswith("-m1"):
            ours = (spec.measure, spec.type, spec.better, spec.expected)
            assert ours == tuple(project[key] for key in REGISTERED), spec.measure_id


# --- simulation --------------------------------------------------------------------------------


def month(text: str) -> date:
    """Parse ``"YYYY-MM"`` as the first day of that month."""
    year, number = text.split("-")
    return date(int(year), int(number), 1)


def add_months(day: date, months: int) -> date:
    """Return the first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth's method, in chunks so large means stay exact).

    Args:
        rng: Random source.
        mean: Expected count.

    Returns:
        A Poisson-distributed integer.
    """
    total = 0
    while mean > 0:
        chunk = min(mean, 25.0)
        mean -= chunk
        limit, product = math.exp(-chunk), rng.random()
        while product > limit:
            total += 1
            product *= rng.random()
    return total


def binomial(rng: random.Random, trials: int, probability: float) -> int:
    """Draw a binomial count by simulating each trial."""
    return sum(rng.random() < probability for _ in range(trials))


def level_at(spec: Spec, index: int, change_index: int | None) -> float:
    """Underlying level of a monthly series at ``index``; the change ramps in over ``spec.ramp``."""
    if spec.after is None or change_index is None or index < change_index:
        return spec.baseline
    progress = min(1.0, (index - change_index + 1) / spec.ramp)
    return spec.baseline + (spec.after - spec.baseline) * progress


def simulate_monthly(spec: Spec, rng: random.Random) -> list[Point]:
    """Simulate a monthly count, rate, proportion or continuous series.

    Args:
        spec: The measure to simulate.
        rng: Random source for this attempt.

    Returns:
        One point per month, values rounded as written to the CSV.
    """
    first = month(spec.start)
    change_index = None
    if spec.change is not None:
        change = month(spec.change)
        change_index = (change.year - first.year) * 12 + change.month - first.month
    points = []
    for index in range(spec.points):
        period = add_months(first, index)
        level = level_at(spec, index, change_index)
        if spec.type == "count":
            points.append(Point(period, poisson(rng, level)))
        elif spec.type == "continuous":
            points.append(Point(period, round(rng.gauss(level, spec.sd), 1)))
        else:
            assert spec.denominator is not None
            denominator = rng.randint(*spec.denominator)
            if spec.type == "proportion":
                numerator = binomial(rng, denominator, level / 100)
                value = round(100 * numerator / denominator, 1)
            else:
                numerator = poisson(rng, level * denominator / spec.per)
                value = round(numerator / denominator * spec.per, 2)
            points.append(Point(period, value, numerator, denominator))
    return points


def simulate_events(spec: Spec, rng: random.Random) -> list[Point]:
    """Simulate a days_between series: one point per event, value = days since the previous one.

    Events follow a Poisson process whose mean gap is ``spec.baseline`` days
    before ``spec.change`` and ``spec.after`` days from then on. Simulation
    starts before ``FIRST_DAY`` so the first event in the window has a
    predecessor.

    Args:
        spec: The measure to simulate.
        rng: Random source for this attempt.

    Returns:
        Events from ``FIRST_DAY`` to ``LAST_DAY``.
    """
    change = month(spec.change) if spec.change else None
    points: list[Point] = []
    previous, day = None, SIMULATION_START
    while True:
        mean_gap = spec.baseline
        if change is not None and spec.after is not None and day >= change:
            mean_gap = spec.after
        day += timedelta(days=max(1, round(rng.expovariate(1 / mean_gap))))
        if day > LAST_DAY:
            return points
        if day >= FIRST_DAY and previous is not None:
            points.append(Point(day, (day - previous).days))
        previous = day


def simulate(spec: Spec, rng: random.Random) -> list[Point]:
    """Simulate one series of either kind."""
    if spec.type == "days_between":
        return simulate_events(spec, rng)
    return simulate_monthly(spec, rng)


def first_index_on_or_after(points: list[Point], day: date) -> int:
    """Index of the first point on or after ``day`` (``len(points)`` if none)."""
    return next((i for i, point in enumerate(points) if point.period >= day), len(points))


# --- run-chart rules ---------------------------------------------------------------------------


def find_shifts(values: list[float], centre: float, min_points: int = SHIFT_POINTS) -> list[Signal]:
    """Find runs of ``min_points`` or more consecutive points on one side of ``centre``.

    Points exactly on the centre line neither extend nor break a run.
    """
    signals = []
    side, start, length = 0, 0, 0
    for index, value in enumerate([*values, math.nan]):  # NaN closes the last run
        if value == centre:
            continue
        new_side = 1 if value > centre else -1 if value < centre else 0
        if new_side != side:
            if side and length >= min_points:
                signals.append(Signal("shift", "up" if side > 0 else "down", start, length))
            side, start, length = new_side, index, 0
        length += 1
    return signals


def find_trends(values: list[float], min_points: int = TREND_POINTS) -> list[Signal]:
    """Find ``min_points`` or more consecutive points all increasing or all decreasing.

    A point equal to the one before it is skipped (it neither counts nor breaks the trend).
    """
    kept = [i for i, value in enumerate(values) if i == 0 or value != values[i - 1]]
    signals = []
    run_start, direction = 0, 0
    for k in range(1, len(kept) + 1):
        step = 0 if k == len(kept) else (1 if values[kept[k]] > values[kept[k - 1]] else -1)
        if step != direction:
            points = k - run_start  # kept points from run_start to k - 1
            if direction and points >= min_points:
                signals.append(
                    Signal(
                        "trend",
                        "up" if direction > 0 else "down",
                        kept[run_start],
                        kept[k - 1] - kept[run_start] + 1,
                    )
                )
            run_start, direction = k - 1, step
    return signals


def xmr_limits(values: list[float]) -> tuple[float, float]:
    """Lower and upper 3-sigma limits of an XmR (individuals) chart."""
    centre = statistics.fmean(values)
    moving_range = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(values))
    return centre - 2.66 * moving_range, centre + 2.66 * moving_range


def find_outliers(values: list[float], limits: tuple[float, float]) -> list[Signal]:
    """Points outside the given 3-sigma limits."""
    lower, upper = limits
    return [
        Signal("3-sigma", "up" if value > upper else "down", index, 1)
        for index, value in enumerate(values)
        if value > upper or value < lower
    ]


def run_chart_signals(values: list[float], baseline: list[float]) -> list[Signal]:
    """All signals in ``values`` against the median and XmR limits of ``baseline``."""
    return (
        find_shifts(values, statistics.median(baseline))
        + find_trends(values)
        + find_outliers(values, xmr_limits(baseline))
    )


def problems_with(spec: Spec, values: list[float], change_index: int | None) -> list[str]:
    """Check a simulated series against its expected outcome.

    Args:
        spec: The measure.
        values: The series values, as written to the CSV.
        change_index: Index of the first point after the change (None: no change).

    Returns:
        Human-readable problems; empty when the rules agree with ``spec.expected``.
    """
    if not MIN_POINTS <= len(values) <= MAX_POINTS:
        return [f"{len(values)} points"]
    baseline = values[:BASELINE_POINTS]
    signals = run_chart_signals(values, baseline)
    if spec.expected == "no signal":
        signals += find_shifts(values, statistics.median(values))
        signals += find_outliers(values, xmr_limits(values))
        return [f"unexpected {s.rule} at {s.start}" for s in signals]

    assert change_index is not None
    if change_index < BASELINE_POINTS:
        return [f"baseline of {change_index} points"]
    worse = "down" if spec.better == "up" else "up"
    wanted = spec.better if spec.expected == "improvement" else worse
    problems = [
        f"baseline {s.rule} at {s.start}"
        for s in run_chart_signals(values[:change_index], baseline)
    ]
    problems += [
        f"{s.rule} against the outcome at {s.start}" for s in signals if s.direction != wanted
    ]
    # A trend may start on the last baseline point: its first rise or fall is after the change.
    earliest = {"shift": change_index, "trend": change_index - 1, "3-sigma": change_index}
    problems += [
        f"{s.rule} starts before the change at {s.start}"
        for s in signals
        if s.direction == wanted and s.start < earliest[s.rule]
    ]
    if spec.shape == "trend":
        if not any(s.rule == "trend" and s.direction == wanted for s in signals):
            problems.append("no trend")
    elif not any(
        s.rule == "shift" and s.direction == wanted and s.length >= CLEAR_SHIFT_POINTS
        for s in signals
    ):
        problems.append("no clear shift")
    settled = values[change_index + spec.ramp - 1 :]
    centre = statistics.median(baseline)
    beyond = sum((v > centre) if wanted == "up" else (v < centre) for v in settled)
    if beyond < SUSTAINED_SHARE * len(settled):
        problems.append("shift not sustained")
    return problems


def describe(signals: list[Signal], periods: list[date]) -> str:
    """Summarise the rules that fired, e.g. ``"shift: 17 points below the baseline median ..."``."""
    if not signals:
        return "none (no shift, trend or point beyond 3-sigma)"
    parts = []
    for rule in ("shift", "trend", "3-sigma"):
        fired = [s for s in signals if s.rule == rule]
        if not fired:
            continue
        first = fired[0]
        when = periods[first.start].strftime("%Y-%m")
        if rule == "shift":
            side = "above" if first.direction == "up" else "below"
            parts.append(f"shift: {first.length} points {side} the baseline median from {when}")
        elif rule == "trend":
            way = "rising" if first.direction == "up" else "falling"
            parts.append(f"trend: {first.length} points {way} from {when}")
        else:
            side = "above" if first.direction == "up" else "below"
            parts.append(f"3-sigma: {len(fired)} point(s) {side} baseline limits from {when}")
    return "; ".join(parts)


# --- output ------------------------------------------------------------------------------------


def format_value(spec: Spec, point: Point) -> str:
    """Format a value the way its type is written in the CSV."""
    if spec.type in ("count", "days_between"):
        return str(int(point.value))
    if spec.type == "rate":
        return f"{point.value:.2f}"
    return f"{point.value:.1f}"


def annotate(spec: Spec, points: list[Point]) -> list[str]:
    """Put each annotation on its month (days_between: on the first event on or after it)."""
    notes = [""] * len(points)
    for when, text in spec.annotations:
        index = first_index_on_or_after(points, month(when))
        assert index < len(points), f"{spec.measure_id}: annotation {when} after the series"
        if spec.type == "days_between":
            text = f"{text} (from {when})"
        else:
            assert points[index].period == month(when), f"{spec.measure_id}: {when} not in series"
        assert not notes[index], f"{spec.measure_id}: two annotations on one row"
        notes[index] = text
    return notes


def build(spec: Spec, project: dict[str, str]) -> tuple[list[dict[str, str]], dict[str, object]]:
    """Simulate one measure until the run-chart rules agree with its expected outcome.

    Args:
        spec: The measure.
        project: Its project's registry entry.

    Returns:
        The CSV rows and the truth entry for the measure.

    Raises:
        RuntimeError: If no seed in ``MAX_ATTEMPTS`` gives agreeing data.
    """
    first_seed = zlib.crc32(spec.measure_id.encode("utf-8"))
    for seed in range(first_seed, first_seed + MAX_ATTEMPTS):
        points = simulate(spec, random.Random(seed))
        change_index = first_index_on_or_after(points, month(spec.change)) if spec.change else None
        values = [float(format_value(spec, point)) for point in points]
        if not problems_with(spec, values, change_index):
            break
    else:
        raise RuntimeError(f"{spec.measure_id}: no seed agrees with {spec.expected!r}")
    problems = problems_with(spec, values, change_index)
    assert not problems, f"{spec.measure_id}: {problems}"

    signals = run_chart_signals(values, values[:BASELINE_POINTS])
    rows = []
    for point, note in zip(points, annotate(spec, points), strict=True):
        rows.append(
            {
                "measure_id": spec.measure_id,
                "project": spec.project,
                "network": project["network"],
                "organisation": project["organisation"],
                "measure": spec.measure,
                "unit": spec.unit,
                "type": spec.type,
                "better": spec.better,
                "period": point.period.isoformat(),
                "value": format_value(spec, point),
                "numerator": "" if point.numerator is None else str(point.numerator),
                "denominator": "" if point.denominator is None else str(point.denominator),
                "annotation": note,
            }
        )
    truth: dict[str, object] = {
        "expected": spec.expected,
        "change_period": month(spec.change).isoformat() if spec.change else None,
        "note": f"{spec.note} Rules: {describe(signals, [p.period for p in points])}.",
    }
    return rows, truth


def main() -> None:
    """Build every measure and write ``measures.csv`` and ``measures_truth.json``."""
    projects = read_projects(REGISTRY_PATH)
    check_specs(SPECS, projects)
    rows: list[dict[str, str]] = []
    truth: dict[str, dict[str, object]] = {}
    for spec in SPECS:
        spec_rows, truth[spec.measure_id] = build(spec, projects[spec.project])
        rows.extend(spec_rows)
    with CSV_PATH.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    TRUTH_PATH.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    sys.stderr.write(
        f"build_measures: {len(truth)} measures, {len(rows)} rows -> "
        f"{CSV_PATH.name}, {TRUTH_PATH.name}\n"
    )


if __name__ == "__main__":
    main()
