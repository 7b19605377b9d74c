"""The relay benchmark in one command: `python -m bench.run` (see BENCHMARKS.md).

Starts the fake upstream and a daphne process (pinned to its own core), sweeps concurrency
levels, counts database statements per reply in a second daphne, opens idle streams in a
third, prints everything against the targets, writes JSON and the latency plot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import idle, load, profile, queries, report, site
from bench.load import Endpoint, Round, Site
from bench.stats import summarise_level

HERE = Path(__file__).resolve().parent
FIRST_TOKENS = 50  # replies of the first-delta rounds: only their start matters


def rounds_for(n: int) -> tuple[int, int]:
    """(first-delta rounds, steady rounds) at n streams: enough samples, bounded time."""
    first = 20 if n == 1 else max(2, math.ceil(20 / n))
    steady = 5 if n == 1 else (2 if n <= 50 else 1)
    return first, steady


async def sweep(s: Site, args: argparse.Namespace, out: dict[str, Any]) -> None:
    tag = iter(range(1_000_000))
    relay, direct = load.site_endpoint(s), load.direct_endpoint(s)
    for _ in range(3):  # warm-up: imports, caches, the first connections
        await load.run_round(s, relay, 2, tokens=20, delay_ms=1, steady=False, tag="w")
    out["idle_server_core_utilisation"] = await load.idle_baseline(s.daphne_pid)
    for n in args.levels:
        quiet(s, args)
        first_rounds, steady_rounds = rounds_for(n)
        fr: list[Round] = []
        fd: list[Round] = []
        sr: list[Round] = []
        sd: list[Round] = []
        for _ in range(first_rounds):
            fr.append(await _first(s, relay, n, args))
            fd.append(await _first(s, direct, n, args))
            await asyncio.sleep(0.1)
        for _ in range(steady_rounds):
            sr.append(await _steady(s, relay, n, args, f"r{next(tag)}"))
            await asyncio.sleep(0.3)
        sd.append(await _steady(s, direct, n, args, f"d{next(tag)}"))
        level = summarise_level(n, fr, fd, sr, sd)
        out["levels"].append(level)
        print(
            f"{n:>4} streams: first delta +{level['first_delta_added_ms']['p50']:.1f} ms, "
            f"per delta +{level['delta_added_ms']['p50']:.3f}/"
            f"{level['delta_added_ms']['p99']:.2f} ms (p50/p99), "
            f"on time {100 * level['on_time_fraction']:.1f} %, "
            f"CPU {level['server_cpu_ms_per_delta']:.3f} ms/delta",
            flush=True,
        )
        if n in args.profile:
            out["profiles"][str(n)] = await _profiled(s, relay, n, args, f"p{next(tag)}")


def quiet(s: Site, args: argparse.Namespace) -> None:
    """Other work on this machine skews every number: wait for it to calm down (bounded)."""
    if args.patience > 0:
        site.wait_quiet([s.daphne_pid, s.upstream_pid], args.quiet_limit, args.patience)


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


def run(args: argparse.Namespace) -> dict[str, Any]:
    site.raise_fd_limit()
    site.pin_self()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="chatsite-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (HERE / "results").mkdir(exist_ok=True)
    up_port, port = site.free_port(), site.free_port()
    args.upstream_port = up_port
    env = site.site_env(workdir, up_port)
    site.setup_django(env)
    user_id, session = site.login_session()
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": _machine(),
        "code": _code_version(),
        "settings": {"tokens": args.tokens, "delay_ms": args.delay_ms, "levels": args.levels},
        "levels": [],
        "profiles": {},
    }
    upstream = site.start_upstream(workdir, up_port)
    try:
        daphne = site.start_daphne(env, port)
        s = Site(port, up_port, session, user_id, daphne.pid, upstream.pid)
        try:
            asyncio.run(sweep(s, args, out))
        finally:
            daphne.stop()
        if not args.skip_queries:
            out["queries"] = _with_daphne(env, upstream, session, user_id, "queries", args)
            print(f"queries: {[(c['tokens'], c['writes']) for c in out['queries']['cases']]}")
        if args.idle:
            out["idle"] = _with_daphne(env, upstream, session, user_id, "idle", args)
    finally:
        upstream.stop()
    return out


def _with_daphne(
    env: dict[str, str],
    upstream: site.Process,
    session: str,
    user_id: int,
    phase: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """A fresh daphne for one phase (the query phase runs with the query log installed)."""
    port = site.free_port()
    phase_env = dict(env)
    log = Path(env["BENCH_WORKDIR"]) / "queries.log"
    if phase == "queries":
        phase_env.update(DJANGO_SETTINGS_MODULE="bench.settings", BENCH_QUERY_LOG=str(log))
    daphne = site.start_daphne(phase_env, port, f"daphne-{phase}")
    s = Site(port, args.upstream_port, session, user_id, daphne.pid, upstream.pid)
    relay = load.site_endpoint(s)

    async def go() -> dict[str, Any]:
        quiet(s, args)
        for _ in range(3):
            await load.run_round(s, relay, 1, tokens=20, delay_ms=1, steady=False, tag="w")
        if phase == "queries":
            return await queries.count_queries(s, log)
        stem = HERE / "results" / "profile-idle" if args.profile_idle else None
        return await idle.idle_streams(s, args.idle, args.idle_budget, profile_to=stem)

    try:
        result = asyncio.run(go())
    finally:
        daphne.stop(timeout=30)
    # Replies the sweeper ended as "interrupted" (their heartbeat came too late) are live
    # replies lost to load: count them from the server's log.
    log_text = daphne.log_path.read_text(errors="replace")
    result["sweeper_interrupted"] = log_text.count("interrupted: its generation stopped")
    return result


def _code_version() -> dict[str, str]:
    """The commit measured, and whether the server's code differed from it."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "chat", "chatsite")
    return {"commit": git("rev-parse", "--short", "HEAD"), "server_code_changed": changed}


def _machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def main() -> None:
    code = site.rerun_in_own_session("bench.run", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    parser = argparse.ArgumentParser(description="Benchmark the reply relay (BENCHMARKS.md).")
    parser.add_argument("--levels", default="1,5,10,20,50,100", help="concurrent streams")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=2000, help="idle streams to open (0: skip)")
    parser.add_argument(
        "--idle-budget", type=float, default=180, help="seconds allowed for opening them"
    )
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument(
        "--profile", default="", help="profile with py-spy: levels and/or idle, e.g. 50,idle"
    )
    parser.add_argument(
        "--quiet-limit",
        type=float,
        default=0.3,
        help="before each phase, wait until other processes use fewer cores than this",
    )
    parser.add_argument("--patience", type=float, default=30, help="longest wait (s), 0: never")
    parser.add_argument("--workdir", help="where the database and logs go (default: a temp dir)")
    parser.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--plot", default=str(HERE / "latency.png"))
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    wanted = {x.strip() for x in args.profile.split(",") if x.strip()}
    args.profile_idle = "idle" in wanted
    args.profile = {int(x) for x in wanted - {"idle"}}
    started = time.monotonic()
    results = run(args)
    results["duration_s"] = round(time.monotonic() - started)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    report.print_results(results)
    if results["levels"] and report.plot(results, Path(args.plot)):
        print(f"plot: {args.plot}")
    print(f"results: {args.json} ({results['duration_s']} s)")


if __name__ == "__main__":
    main()
