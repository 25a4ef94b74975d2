"""Time the analysis of many measures: 1,000 series × 36 monthly points by default.

Run: ``.venv/bin/python bench/measures.py [--measures 1000] [--points 36] [--repeat 3]``.
Series are simulated (fixed seed): a third continuous (XmR), a third proportions (p chart),
a third rates (u chart); half of each shift after the baseline. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time

from synth.core.measure_analysis import AnalysisRules, Series, analyse_series
from synth.core.run_chart import RunChartRules


def simulate(index: int, points: int, rng: random.Random, *, null: bool = False) -> Series:
    """One simulated series; odd indices shift upwards after point 18 (none when ``null``)."""
    periods = tuple(dt.date(2020 + m // 12, m % 12 + 1, 1) for m in range(points))
    shift = 1.0 if index % 2 and not null else 0.0
    kind = ("continuous", "proportion", "rate")[index % 3]
    if kind == "continuous":
        values = tuple(rng.gauss(50 + (3 * shift if m >= 18 else 0), 2) for m in range(points))
        return Series(periods, values, "up", "continuous")
    denominators = tuple(float(rng.randint(80, 400)) for _ in range(points))
    level = [0.3 + (0.08 * shift if m >= 18 else 0) for m in range(points)]
    numerators = tuple(
        float(sum(rng.random() < level[m] for _ in range(int(d))))
        for m, d in enumerate(denominators)
    )
    scale = 100.0 if kind == "proportion" else 1000.0
    values = tuple(scale * n / d for n, d in zip(numerators, denominators, strict=True))
    return Series(periods, values, "up", kind, numerators, denominators)  # type: ignore[arg-type]


def main() -> None:
    """Simulate, analyse every series ``--repeat`` times, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measures", type=int, default=1000)
    parser.add_argument("--points", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--null", action="store_true", help="No series shifts (false alarms).")
    parser.add_argument("--rules", choices=["perla", "anhoej"], default="perla")
    parser.add_argument("--no-shewhart", action="store_true", help="Run-chart rules only.")
    args = parser.parse_args()
    rng = random.Random(20261126)
    series = [simulate(i, args.points, rng, null=args.null) for i in range(args.measures)]
    rules = AnalysisRules(run=RunChartRules(method=args.rules), use_shewhart=not args.no_shewhart)
    timings = []
    verdicts: dict[str, int] = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = [analyse_series(s, rules) for s in series]
        timings.append(time.perf_counter() - start)
    for result in results:
        verdicts[result.verdict.value] = verdicts.get(result.verdict.value, 0) + 1
    print(
        json.dumps(
            {
                "measures": args.measures,
                "null": args.null,
                "rules": args.rules + ("" if args.no_shewhart else "+shewhart"),
                "points": args.points,
                "seconds_best": round(min(timings), 3),
                "seconds_median": round(statistics.median(timings), 3),
                "verdicts": verdicts,
            }
        )
    )


if __name__ == "__main__":
    main()
