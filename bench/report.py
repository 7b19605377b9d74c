"""Printing the results, checking them against the targets, and the latency plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def _level(results: dict[str, Any], n: int) -> dict[str, Any] | None:
    return next((lv for lv in results["levels"] if lv["streams"] == n), None)


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) rows; met is None when the phase did not run."""
    rows: list[tuple[str, str, str, bool | None]] = []
    one, fifty = _level(results, 1), _level(results, 50)
    if one:
        v = one["first_delta_added_ms"]["p50"]
        rows.append(("added first-delta latency p50, 1 stream", "≤ 15 ms", f"{v:.1f} ms", v <= 15))
        v = one["delta_added_ms"]["p50"]
        rows.append(("added per-delta latency p50, 1 stream", "≤ 0.3 ms", f"{v:.3f} ms", v <= 0.3))
    if fifty:
        v = fifty["on_time_fraction"]
        rows.append(("delivered on time, 50 streams", "≥ 95 %", f"{100 * v:.1f} %", v >= 0.95))
        v = fifty["delta_added_ms"]["p99"]
        rows.append(("added per-delta latency p99, 50 streams", "≤ 10 ms", f"{v:.2f} ms", v <= 10))
    # CPU per delta where the relay still keeps up (at saturation it is only 1 core ÷ rate).
    cpu_level = _level(results, 20) or fifty
    if cpu_level:
        v = cpu_level["server_cpu_ms_per_delta"]
        name = f"server CPU per relayed delta, {cpu_level['streams']} streams"
        rows.append((name, "≤ 0.15 ms", f"{v:.3f} ms", v <= 0.15))
    idle = results.get("idle")
    if idle:
        ok = idle["opened"] >= 2000 and idle["alive_after_hold"] == idle["opened"]
        rows.append(
            ("open idle streams, one process", "2,000", f"{idle['alive_after_hold']:,}", ok)
        )
        v = idle["kb_per_stream"]
        rows.append(("memory per open stream", "≤ 50 KB", f"{v:.1f} KB", v <= 50))
    queries = results.get("queries")
    if queries:
        cases = queries["cases"]
        text = ", ".join(f"{c['writes']}w/{c['tokens']}tok/{c['duration_s']:g}s" for c in cases)
        # Same duration, different token counts: the writes must not differ.
        same = [
            (a, b)
            for a in cases
            for b in cases
            if a["tokens"] < b["tokens"] and abs(a["duration_s"] - b["duration_s"]) < 0.5
        ]
        ok = all(a["writes"] == b["writes"] for a, b in same) if same else None
        rows.append(("database writes per reply vs token count", "constant", text, ok))
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
    print("\ntargets")
    for name, limit, measured, met in targets(results):
        mark = "n/a" if met is None else ("met" if met else "MISSED")
        print(f"  {name:<45} {limit:>9}  {measured:<40} {mark}")


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

    def series(key: str, q: str) -> list[float]:
        return [max(1e-3, lv[key][q]) if not math.isnan(lv[key][q]) else math.nan for lv in levels]

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
        (15, 16.5, "15 ms: first-delta p50 target at 1 stream"),
        (10, 7.5, "10 ms: per-delta p99 target at 50 streams"),
        (0.3, 0.33, "0.3 ms: per-delta p50 target at 1 stream"),
    ):
        ax.axhline(target, color="grey", ls=":", lw=1)
        ax.text(xs[-1], label_at, label, color="grey", fontsize=8, ha="right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("concurrent streams (200 tokens at 10 ms each)")
    ax.set_ylabel("latency added by the relay (ms)")
    ax.set_title("Added latency against concurrency, one daphne process")
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
