"""The targets the relay is held to, and the headline numbers compared across relays.

One relay's results are a dict with its "levels" (bench/stats.py's summaries) and, for the
site, "idle"; `relays()` picks them out of a run's results: the site, the fake upstream
itself ("direct", whose numbers are its own, not added) and each peer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Results = dict[str, Any]
Getter = Callable[[Results], float | None]


def level(results: Results, n: int) -> dict[str, Any] | None:
    return next((lv for lv in results.get("levels") or () if lv["streams"] == n), None)


def at(n: int, *path: str) -> Getter:
    """The number at `path` in the level of n streams, or None when that level did not run."""

    def get(results: Results) -> float | None:
        value: Any = level(results, n)
        if value is None:
            return None
        for key in path:
            value = value[key]
        return None if value is None or math.isnan(value) else float(value)

    return get


def cpu_level(results: Results) -> dict[str, Any] | None:
    """CPU per chunk is read where the relay still keeps up (at saturation it is only one
    core ÷ throughput): 20 streams, or 50 when 20 did not run."""
    return level(results, 20) or level(results, 50)


def cpu_per_chunk(results: Results) -> float | None:
    lv = cpu_level(results)
    return float(lv["server_cpu_ms_per_delta"]) if lv else None


def idle_kb(results: Results) -> float | None:
    idle = results.get("idle")
    return float(idle["kb_per_stream"]) if idle else None


def _idle_ok(kb: float, results: Results) -> bool:
    idle = results["idle"]
    return idle["opened"] >= 2000 and idle["alive_after_hold"] == idle["opened"] and kb <= 50


@dataclass(frozen=True)
class Shown:
    """How a number is written: its digits, then its unit (once for a whole range)."""

    digits: int
    unit: str
    scale: float = 1.0

    def number(self, v: float) -> str:
        return f"{self.scale * v:,.{self.digits}f}"

    def __call__(self, v: float) -> str:
        return f"{self.number(v)}{self.unit}"

    def span(self, median: float, low: float, high: float) -> str:
        return f"{self.number(median)} [{self.number(low)}–{self.number(high)}]{self.unit}"


def ms(digits: int) -> Shown:
    return Shown(digits, " ms")


percent = Shown(1, " %", 100.0)
KB = Shown(1, " KB")


@dataclass(frozen=True)
class Goal:
    key: str
    name: str
    limit: str
    value: Getter
    ok: Callable[[float, Results], bool]
    show: Shown

    def check(self, results: Results) -> tuple[float | None, bool | None]:
        """(measured, met); (None, None) when the phase it needs did not run."""
        v = self.value(results)
        return (None, None) if v is None else (v, self.ok(v, results))


GOALS = [
    Goal(
        "first_1",
        "added first-token latency p50, 1 stream",
        "≤ 10 ms",
        at(1, "first_delta_added_ms", "p50"),
        lambda v, _: v <= 10,
        ms(1),
    ),
    Goal(
        "delta_1",
        "added per-chunk latency p50, 1 stream",
        "≤ 0.15 ms",
        at(1, "delta_added_ms", "p50"),
        lambda v, _: v <= 0.15,
        ms(3),
    ),
    Goal(
        "on_time_50",
        "50 streams: chunks delivered on time",
        "≥ 99 %",
        at(50, "on_time_fraction"),
        lambda v, _: v >= 0.99,
        percent,
    ),
    Goal(
        "delta_p99_50",
        "50 streams: added per-chunk latency p99",
        "≤ 10 ms",
        at(50, "delta_added_ms", "p99"),
        lambda v, _: v <= 10,
        ms(2),
    ),
    Goal(
        "first_50",
        "50 streams: added first-token latency p50",
        "≤ 50 ms",
        at(50, "first_delta_added_ms", "p50"),
        lambda v, _: v <= 50,
        ms(1),
    ),
    Goal(
        "cpu",
        "server CPU per relayed chunk (20 streams, else 50)",
        "≤ 0.12 ms",
        cpu_per_chunk,
        lambda v, _: v <= 0.12,
        ms(3),
    ),
    Goal(
        "idle",
        "2,000 open idle streams, memory per stream",
        "≤ 50 KB",
        idle_kb,
        _idle_ok,
        KB,
    ),
]


@dataclass(frozen=True)
class Metric:
    """A headline number, read from a relay's levels or (differently) from the baseline's."""

    key: str
    name: str
    relay: Getter
    direct: Getter | None
    show: Shown


def _delivered(n: int) -> Getter:
    return at(n, "delivered_per_s")


METRICS = [
    Metric(
        "first_p50_1",
        "first token p50, 1 stream",
        at(1, "first_delta_added_ms", "p50"),
        at(1, "first_delta_ms", "p50"),
        ms(1),
    ),
    Metric(
        "delta_p50_1",
        "per chunk p50, 1 stream",
        at(1, "delta_added_ms", "p50"),
        at(1, "delta_ms", "p50"),
        ms(3),
    ),
    Metric(
        "delta_p99_1",
        "per chunk p99, 1 stream",
        at(1, "delta_added_ms", "p99"),
        at(1, "delta_ms", "p99"),
        ms(2),
    ),
    Metric(
        "first_p50_50",
        "first token p50, 50 streams",
        at(50, "first_delta_added_ms", "p50"),
        at(50, "first_delta_ms", "p50"),
        ms(1),
    ),
    Metric(
        "delta_p50_50",
        "per chunk p50, 50 streams",
        at(50, "delta_added_ms", "p50"),
        at(50, "delta_ms", "p50"),
        ms(2),
    ),
    Metric(
        "delta_p99_50",
        "per chunk p99, 50 streams",
        at(50, "delta_added_ms", "p99"),
        at(50, "delta_ms", "p99"),
        ms(2),
    ),
    Metric(
        "on_time_50",
        "on time, 50 streams",
        at(50, "on_time_fraction"),
        at(50, "on_time_fraction"),
        percent,
    ),
    Metric(
        "delivered_50",
        "chunks/s delivered, 50 streams",
        _delivered(50),
        _delivered(50),
        Shown(0, ""),
    ),
    Metric("cpu", "CPU per chunk (20, else 50)", cpu_per_chunk, None, ms(3)),
    Metric("idle_kb", "memory per idle stream", idle_kb, None, KB),
]


def relays(results: Results) -> dict[str, Results]:
    """The site, the baseline and each peer, as {name: their results}, in that order."""
    found: dict[str, Results] = {
        "site": {"levels": results.get("levels") or [], "idle": results.get("idle")}
    }
    if results.get("direct"):
        found["direct"] = {"levels": results["direct"]}
    for name, peer in (results.get("peers") or {}).items():
        found[name] = peer
    return found


def metric_value(metric: Metric, name: str, results: Results) -> float | None:
    getter = metric.direct if name == "direct" else metric.relay
    return getter(results) if getter else None
