"""Printing the results, checking them against the targets, and the latency plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.goals import GOALS, relays


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) rows for the site; met is None when the phase did not
    run."""
    site = relays(results)["site"]
    rows: list[tuple[str, str, str, bool | None]] = []
    for goal in GOALS:
        value, met = goal.check(site)
        rows.append((goal.name, goal.limit, "-" if value is None else goal.show(value), met))
    return rows


def print_results(results: dict[str, Any]) -> None:
    print("\nper concurrency level (added = through the site minus direct to the fake upstream)")
    head = (
        f"{'streams':>7} {'1st p50':>8} {'1st p99':>8} {'Δ p50':>7} {'Δ p99':>7} "
        f"{'on time':>8} {'offered/s':>9} {'deliv/s':>8} {'chunk/ev':>8} "
        f"{'CPU/Δ ms':>8} {'stream':>7} {'setup ms':>8} {'srv core':>8} {'harness':>7} "
        f"{'others':>6}"
    )
    print(head)
    for lv in results["levels"]:
        print(
            f"{lv['streams']:>7} {lv['first_delta_added_ms']['p50']:>8.2f} "
            f"{lv['first_delta_added_ms']['p99']:>8.2f} {lv['delta_added_ms']['p50']:>7.3f} "
            f"{lv['delta_added_ms']['p99']:>7.2f} {100 * lv['on_time_fraction']:>7.1f}% "
            f"{lv['offered_per_s']:>9.0f} {lv['delivered_per_s']:>8.0f} "
            f"{lv['chunks_per_delta_event']:>8.2f} {lv['server_cpu_ms_per_delta']:>8.3f} "
            f"{lv['stream_cpu_ms_per_delta']:>7.3f} {lv['setup_cpu_ms_per_reply']:>8.1f} "
            f"{100 * lv['server_core_utilisation']:>7.0f}% "
            f"{100 * lv['harness_core_utilisation']:>6.0f}% "
            f"{lv['foreign_cores']:>6.2f}"
        )
        if lv["errors"]:
            print(f"        errors: {lv['errors']}")
    if results.get("idle"):
        print("\nidle streams:", results["idle"])
    if results.get("queries"):
        print("\ndatabase statements per reply (sweeper apart):")
        for c in results["queries"]["cases"]:
            print(
                f"  {c['tokens']:>5} tokens at {c['delay_ms']:g} ms ({c['duration_s']} s): "
                f"{c['queries']} statements, {c['writes']} writes, {c['transactions']} BEGIN"
            )
        print(f"  sweeper: {results['queries']['background_per_minute']} statements/minute")
    if results.get("peers"):
        print_side_by_side(results)
    print("\ntargets (the site)")
    for name, limit, measured, met in targets(results):
        mark = "n/a" if met is None else ("met" if met else "MISSED")
        print(f"  {name:<50} {limit:>9}  {measured:<14} {mark}")
    if results.get("peers"):
        print_goals_side_by_side(results)


def print_side_by_side(results: dict[str, Any]) -> None:
    """Every relay and the baseline, level by level (direct: its own latencies)."""
    everyone = relays(results)
    print(
        "\nside by side (added ms = through the relay minus direct; the direct rows are the "
        "fake upstream's own)"
    )
    print(
        f"{'streams':>7} {'':<10} {'1st p50':>8} {'1st p99':>8} {'Δ p50':>7} {'Δ p99':>8} "
        f"{'on time':>8} {'deliv/s':>8} {'CPU/Δ ms':>8} {'srv core':>8}"
    )
    for n in results["settings"]["levels"]:
        for name, mine in everyone.items():
            lv = next((x for x in mine["levels"] if x["streams"] == n), None)
            if lv is None:
                continue
            direct = name == "direct"
            first = lv["first_delta_ms" if direct else "first_delta_added_ms"]
            delta = lv["delta_ms" if direct else "delta_added_ms"]
            cpu = "-" if direct else f"{lv['server_cpu_ms_per_delta']:.3f}"
            core = "-" if direct else f"{100 * lv['server_core_utilisation']:.0f}%"
            print(
                f"{n:>7} {name:<10} {first['p50']:>8.2f} {first['p99']:>8.2f} "
                f"{delta['p50']:>7.3f} {delta['p99']:>8.2f} {100 * lv['on_time_fraction']:>7.1f}% "
                f"{lv['delivered_per_s']:>8.0f} {cpu:>8} {core:>8}"
            )
            if lv.get("errors"):
                print(f"        errors: {lv['errors']}")


def print_goals_side_by_side(results: dict[str, Any]) -> None:
    """The site's targets, applied to each peer as well (for comparison)."""
    everyone = {k: v for k, v in relays(results).items() if k != "direct"}
    print("\nthe targets, every relay")
    print(f"  {'':<50} {'':>9}" + "".join(f"  {name:<22}" for name in everyone))
    for goal in GOALS:
        cells = []
        for mine in everyone.values():
            value, met = goal.check(mine)
            mark = "" if met is None else (" met" if met else " MISSED")
            cells.append("-" if value is None else goal.show(value) + mark)
        print(f"  {goal.name:<50} {goal.limit:>9}" + "".join(f"  {c:<22}" for c in cells))


def plot(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return False
    levels = results["levels"]
    xs = [lv["streams"] for lv in levels]

    def series(key: str, q: str, of: list[dict[str, Any]] = levels) -> list[float]:
        return [max(1e-3, lv[key][q]) if not math.isnan(lv[key][q]) else math.nan for lv in of]

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax.plot(xs, series("delta_added_ms", "p50"), "o-", label="per delta, p50")
    ax.plot(xs, series("delta_added_ms", "p99"), "s-", label="per delta, p99")
    ax.plot(
        xs, series("first_delta_added_ms", "p50"), "^--", label="first delta, p50 (N sent at once)"
    )
    ax.plot(
        xs, series("first_delta_added_ms", "p99"), "v--", label="first delta, p99 (N sent at once)"
    )
    for target, label_at, label in (
        (50, 56, "50 ms: first-delta p50 target at 50 streams"),
        (10, 11.2, "10 ms: first-delta p50 target at 1 stream, per-delta p99 at 50"),
        (0.15, 0.168, "0.15 ms: per-delta p50 target at 1 stream"),
    ):
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.text(xs[-1], label_at, label, color="grey", fontsize=8, ha="right")
    peers = results.get("peers") or {}
    for name, peer in peers.items():  # the peers' per-delta latency, thinner
        pxs = [lv["streams"] for lv in peer["levels"]]
        for q, mark in (("p50", "o:"), ("p99", "s:")):
            ax.plot(
                pxs,
                series("delta_added_ms", q, peer["levels"]),
                mark,
                lw=1,
                ms=3,
                label=f"{name}: per delta, {q}",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("concurrent streams (200 tokens at 10 ms each)")
    ax.set_ylabel("latency added by the relay (ms)")
    ax.set_title(
        "Added latency against concurrency, one daphne process"
        + (" (dotted: the other relays)" if peers else "")
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax2.plot(xs, [100 * lv["on_time_fraction"] for lv in levels], "o-", label="on time (%)")
    ax2.plot(
        xs, [100 * lv["server_core_utilisation"] for lv in levels], "s-", label="server core (%)"
    )
    ax2.plot(
        xs,
        [100 * lv["delivered_per_s"] / lv["offered_per_s"] for lv in levels],
        "^--",
        label="delivered / offered (%)",
    )
    for name, peer in peers.items():
        pxs = [lv["streams"] for lv in peer["levels"]]
        ax2.plot(
            pxs,
            [100 * lv["on_time_fraction"] for lv in peer["levels"]],
            "o:",
            lw=1,
            ms=3,
            label=f"{name}: on time (%)",
        )
    ax2.set_xscale("log")
    ax2.set_xticks(xs, [str(x) for x in xs])
    ax2.set_ylim(0, 110)
    ax2.set_xlabel("concurrent streams")
    ax2.set_title("Keeping up")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
