"""Several runs of the benchmark (`python -m bench.run --runs N`): per headline number and
per relay, the median and the spread (min–max) over the runs; a target is met when it was
met in most runs (more than half), since one run's verdict can land either side of a limit.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from bench.goals import GOALS, METRICS, Shown, metric_value, relays


def spread(values: list[float | None]) -> dict[str, float | int] | None:
    found = [v for v in values if v is not None and not math.isnan(v)]
    if not found:
        return None
    return {
        "median": statistics.median(found),
        "min": min(found),
        "max": max(found),
        "runs": len(found),
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    per_run = [relays(r) for r in runs]
    names = list(dict.fromkeys(name for found in per_run for name in found))
    metrics: dict[str, dict[str, Any]] = {}
    for metric in METRICS:
        metrics[metric.key] = {
            name: spread([metric_value(metric, name, f[name]) for f in per_run if name in f])
            for name in names
        }
    goals: dict[str, dict[str, Any]] = {}
    for goal in GOALS:
        row: dict[str, Any] = {}
        for name in names:
            if name == "direct":
                continue
            checks = [goal.check(f[name]) for f in per_run if name in f]
            met = sum(1 for _, ok in checks if ok)
            ran = sum(1 for _, ok in checks if ok is not None)
            verdict = "n/a" if ran == 0 else ("met" if met > len(runs) / 2 else "MISSED")
            row[name] = {
                **(spread([v for v, _ in checks]) or {}),
                "met_in": met,
                "of": len(runs),
                "verdict": verdict,
            }
        goals[goal.key] = row
    return {"runs": len(runs), "relays": names, "metrics": metrics, "targets": goals}


def _cell(stats: dict[str, Any] | None, show: Shown) -> str:
    if not stats or "median" not in stats:
        return "-"
    return show.span(stats["median"], stats["min"], stats["max"])


def print_summary(summary: dict[str, Any]) -> None:
    names = summary["relays"]
    n = summary["runs"]
    print(f"\nover {n} runs: median [min–max] (added, except direct: the fake upstream's own)")
    print(f"  {'':<32}" + "".join(f" {name:<30}" for name in names))
    for metric in METRICS:
        row = summary["metrics"][metric.key]
        cells = [_cell(row.get(name), metric.show) for name in names]
        if all(c == "-" for c in cells):
            continue
        print(f"  {metric.name:<32}" + "".join(f" {c:<30}" for c in cells))
    relay_names = [name for name in names if name != "direct"]
    print(f"\ntargets over {n} runs (met: met in most runs)")
    for goal in GOALS:
        row = summary["targets"][goal.key]
        ran = [n for n in relay_names if (row.get(n) or {}).get("verdict", "n/a") != "n/a"]
        print(f"  {goal.name} {goal.limit}" + ("" if ran else ": not run"))
        for name in ran:
            stats = row[name]
            print(
                f"    {name:<10} {_cell(stats, goal.show):<32} met in {stats['met_in']} of "
                f"{stats['of']}: {stats['verdict']}"
            )
