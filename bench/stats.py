"""Turning rounds into the numbers BENCHMARKS.md reports."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.load import Round

ON_TIME_MS = 10.0  # a delta is on time when the relay adds at most one token interval


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN when there is nothing."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def first_delta_ms(rounds: list[Round]) -> list[float]:
    return [
        (r.first_ns - r.started_ns) / 1e6
        for rnd in rounds
        for r in rnd.records
        if r.first_ns is not None
    ]


def chunk_latency_ms(rounds: list[Round]) -> list[float]:
    return [ns / 1e6 for rnd in rounds for r in rnd.records for ns in r.latencies_ns()]


def summarise_level(
    n: int,
    first_relay: list[Round],
    first_direct: list[Round],
    steady_relay: list[Round],
    steady_direct: list[Round],
) -> dict[str, object]:
    """One concurrency level: latencies (raw and added), delivery, CPU."""
    ttfd_relay, ttfd_direct = first_delta_ms(first_relay), first_delta_ms(first_direct)
    lat_relay, lat_direct = chunk_latency_ms(steady_relay), chunk_latency_ms(steady_direct)
    direct_p50 = percentile(lat_direct, 50)
    offered = sum(r.expected for r in steady_relay)
    delivered = len(lat_relay)
    on_time = sum(1 for v in lat_relay if v - direct_p50 <= ON_TIME_MS)
    offered_rate = _rate(steady_relay, "sent")
    delivered_rate = _rate(steady_relay, "recv")
    server_cpu = sum(r.server_cpu_s for r in steady_relay)
    stream_cpu = sum(r.stream_cpu_s for r in steady_relay)
    replies = sum(len(r.records) for r in steady_relay)
    harness_util = sum(r.harness_cpu_s for r in steady_relay) / max(
        1e-9, sum(r.wall_s for r in steady_relay)
    )
    foreign = sum(r.foreign_cpu_s for r in steady_relay + first_relay) / max(
        1e-9, sum(r.wall_s for r in steady_relay + first_relay)
    )
    server_util = stream_cpu / max(1e-9, sum(r.stream_wall_s for r in steady_relay))
    events: dict[str, int] = {}
    for rnd in steady_relay:
        for r in rnd.records:
            for k, v in r.events.items():
                events[k] = events.get(k, 0) + v
    p = percentile
    return {
        "streams": n,
        "first_delta_relay_ms": {"p50": p(ttfd_relay, 50), "p99": p(ttfd_relay, 99)},
        "first_delta_direct_ms": {"p50": p(ttfd_direct, 50), "p99": p(ttfd_direct, 99)},
        "first_delta_added_ms": {
            "p50": p(ttfd_relay, 50) - p(ttfd_direct, 50),
            "p99": p(ttfd_relay, 99) - p(ttfd_direct, 99),
        },
        "first_delta_samples": len(ttfd_relay),
        "delta_relay_ms": {q: p(lat_relay, v) for q, v in (("p50", 50), ("p99", 99))},
        "delta_direct_ms": {q: p(lat_direct, v) for q, v in (("p50", 50), ("p99", 99))},
        "delta_added_ms": {
            "p50": p(lat_relay, 50) - direct_p50,
            "p90": p(lat_relay, 90) - p(lat_direct, 90),
            "p99": p(lat_relay, 99) - p(lat_direct, 99),
            "max": (max(lat_relay) if lat_relay else math.nan) - direct_p50,
        },
        "offered": offered,
        "delivered": delivered,
        "on_time_fraction": on_time / offered if offered else math.nan,
        "offered_per_s": offered_rate,
        "delivered_per_s": delivered_rate,
        "sse_events": events,
        "chunks_per_delta_event": delivered / max(1, events.get("delta", 0)),
        "server_cpu_ms_per_delta": 1000 * server_cpu / max(1, delivered),
        "stream_cpu_ms_per_delta": 1000 * stream_cpu / max(1, delivered),
        "setup_cpu_ms_per_reply": 1000 * (server_cpu - stream_cpu) / max(1, replies),
        "server_core_utilisation": server_util,
        "harness_core_utilisation": harness_util,
        "foreign_cores": foreign,
        "errors": [e for rnd in first_relay + steady_relay for e in rnd.errors][:5],
    }


def _rate(rounds: list[Round], field: str) -> float:
    """Chunks per second, each round over its own span (first to last stamp sent, or first
    to last received), so the pauses between rounds do not count."""
    count, span = 0, 0.0
    for rnd in rounds:
        stamps = [t for r in rnd.records for t in getattr(r, field).values()]
        if len(stamps) > 1:
            count += len(stamps) - 1
            span += (max(stamps) - min(stamps)) / 1e9
    return count / span if span else math.nan


def summarise_direct(
    n: int, first_direct: list[Round], steady_direct: list[Round]
) -> dict[str, object]:
    """The baseline at one level: the fake upstream's own latencies, read by the load client
    (what every relay's "added" numbers subtract)."""
    ttfd, lat = first_delta_ms(first_direct), chunk_latency_ms(steady_direct)
    p50 = percentile(lat, 50)
    offered = sum(r.expected for r in steady_direct)
    harness = sum(r.harness_cpu_s for r in steady_direct)
    return {
        "streams": n,
        "first_delta_ms": {"p50": percentile(ttfd, 50), "p99": percentile(ttfd, 99)},
        "delta_ms": {q: percentile(lat, v) for q, v in (("p50", 50), ("p99", 99))},
        "offered": offered,
        "delivered": len(lat),
        "on_time_fraction": (
            sum(1 for v in lat if v - p50 <= ON_TIME_MS) / offered if offered else math.nan
        ),
        "offered_per_s": _rate(steady_direct, "sent"),
        "delivered_per_s": _rate(steady_direct, "recv"),
        "harness_core_utilisation": harness / max(1e-9, sum(r.wall_s for r in steady_direct)),
        "errors": [e for rnd in first_direct + steady_direct for e in rnd.errors][:5],
    }
