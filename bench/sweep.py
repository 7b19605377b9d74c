"""The concurrency sweep: at each level, first-delta and steady rounds through every relay
measured (the site, then any peers), and the same rounds straight to the fake upstream, the
baseline their "added" numbers subtract. Relays take turns within a level, so a level's
numbers for all of them come from the same minutes of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import load, procstat, profile, site
from bench.load import Endpoint, Round, Site
from bench.stats import summarise_direct, summarise_level

HERE = Path(__file__).resolve().parent
FIRST_TOKENS = 50  # replies of the first-delta rounds: only their start matters
SETTLE_S = 2.0  # longest wait after a round for its server to go quiet


@dataclass
class Lineup:
    """What one sweep measures: the site's processes, the relays in turn, the baseline."""

    site: Site
    relays: list[Endpoint]  # the site first
    direct: Endpoint

    def pids(self) -> list[int]:
        return [r.pid for r in self.relays if r.pid] + [self.site.upstream_pid]


def rounds_for(n: int) -> tuple[int, int]:
    """(first-delta rounds, steady rounds) at n streams: enough samples, bounded time."""
    first = 20 if n == 1 else max(2, math.ceil(20 / n))
    steady = 5 if n == 1 else (2 if n <= 50 else 1)
    return first, steady


async def sweep(lineup: Lineup, args: argparse.Namespace, out: dict[str, Any]) -> None:
    s = lineup.site
    tag = iter(range(1_000_000))
    for relay in lineup.relays:  # warm-up: imports, caches, the first connections
        for _ in range(3):
            await load.run_round(s, relay, 2, tokens=20, delay_ms=1, steady=False, tag="w")
        await settle(relay)
    out["idle_server_core_utilisation"] = await load.idle_baseline(s.daphne_pid)
    for relay in lineup.relays[1:]:
        if relay.pid:
            idle = await load.idle_baseline(relay.pid)
            out["peers"][relay.name]["idle_core_utilisation"] = idle
    for n in args.levels:
        quiet(lineup, args)
        first_rounds, steady_rounds = rounds_for(n)
        fr: dict[str, list[Round]] = {r.name: [] for r in lineup.relays}
        sr: dict[str, list[Round]] = {r.name: [] for r in lineup.relays}
        fd: list[Round] = []
        for _ in range(first_rounds):
            for relay in [*lineup.relays, lineup.direct]:
                rnd = await _first(s, relay, n, args)
                (fd if relay is lineup.direct else fr[relay.name]).append(rnd)
                await settle(relay)
            await asyncio.sleep(0.1)
        for _ in range(steady_rounds):
            for relay in lineup.relays:
                sr[relay.name].append(await _steady(s, relay, n, args, f"r{next(tag)}"))
                await settle(relay)
                await asyncio.sleep(0.3)
        sd = [await _steady(s, lineup.direct, n, args, f"d{next(tag)}")]
        out["direct"].append(summarise_direct(n, fd, sd))
        for relay in lineup.relays:
            level = summarise_level(n, fr[relay.name], fd, sr[relay.name], sd)
            if relay.name == "site":
                out["levels"].append(level)
            else:
                out["peers"][relay.name]["levels"].append(level)
            _print_level(relay.name, n, level)
        if n in args.profile:
            out["profiles"][str(n)] = await _profiled(s, lineup.relays[0], n, args, f"p{next(tag)}")


def _print_level(name: str, n: int, level: dict[str, Any]) -> None:
    print(
        f"{n:>4} streams, {name:<9}: first delta +{level['first_delta_added_ms']['p50']:.1f} ms, "
        f"per delta +{level['delta_added_ms']['p50']:.3f}/"
        f"{level['delta_added_ms']['p99']:.2f} ms (p50/p99), "
        f"on time {100 * level['on_time_fraction']:.1f} %, "
        f"CPU {level['server_cpu_ms_per_delta']:.3f} ms/delta",
        flush=True,
    )
    if level.get("errors"):
        errors = level["errors"]
        print(f"       {len(errors)}+ failed streams, e.g. {errors[0]}", flush=True)


def quiet(lineup: Lineup, args: argparse.Namespace) -> None:
    """Other work on this machine skews every number: wait for it to calm down (bounded)."""
    if args.patience > 0:
        site.wait_quiet(lineup.pids(), args.quiet_limit, args.patience)


async def settle(relay: Endpoint, limit: float = 0.05) -> None:
    """Until the server just measured uses under `limit` of a core over 0.1 s (its work after
    a round, such as saving or logging, must not fall into the next relay's round)."""
    if not relay.pid:
        return
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        cpu0, t0 = procstat.tree_cpu_seconds(relay.pid), time.monotonic()
        await asyncio.sleep(0.1)
        used = procstat.tree_cpu_seconds(relay.pid) - cpu0
        if used / (time.monotonic() - t0) < limit:
            return


async def _first(s: Site, relay: Endpoint, n: int, args: argparse.Namespace) -> Round:
    """N replies at once, each timed from its POST to its first text."""
    return await load.run_round(
        s, relay, n, tokens=FIRST_TOKENS, delay_ms=args.delay_ms, steady=False, tag="f"
    )


async def _steady(s: Site, relay: Endpoint, n: int, args: argparse.Namespace, tag: str) -> Round:
    return await load.run_round(
        s, relay, n, tokens=args.tokens, delay_ms=args.delay_ms, steady=True, tag=tag
    )


async def _profiled(
    s: Site, relay: Endpoint, n: int, args: argparse.Namespace, tag: str
) -> dict[str, object]:
    """One more steady round at n streams, sampled by py-spy from its start signal."""
    stem = HERE / "results" / f"profile-{n}"
    seconds = args.tokens * args.delay_ms / 1000 + 0.5
    samplers: list[subprocess.Popen[bytes]] = []

    def started() -> None:
        samplers.extend(profile.start(s.daphne_pid, stem, seconds))

    rnd = await load.run_round(
        s,
        relay,
        n,
        tokens=args.tokens,
        delay_ms=args.delay_ms,
        steady=True,
        tag=tag,
        on_start=started,
    )
    for sampler in samplers:
        await asyncio.to_thread(sampler.wait, 60)
    summary = profile.summarise(stem.with_suffix(".txt"))
    delivered = sum(len(r.recv) for r in rnd.records)
    summary["stream_cpu_ms_per_delta"] = round(1000 * rnd.stream_cpu_s / max(1, delivered), 3)
    summary["flamegraph"] = str(stem.with_suffix(".svg").relative_to(HERE.parent))
    return summary
