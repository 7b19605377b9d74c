"""The relay benchmark in one command: `python -m bench.run` (see BENCHMARKS.md).

Starts the fake upstream, any peers asked for (`--peers`) and a daphne process (all servers
pinned to one core), sweeps concurrency levels over the site, the peers and the fake
upstream itself, counts database statements per reply in a second daphne, opens idle streams
in a third, prints everything against the targets, writes JSON and the latency plot.
`--runs N` does all of that N times and summarises the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import idle, load, queries, repeat, report, site
from bench.load import Site
from bench.peers import PEERS
from bench.peers.install import default_root, ensure
from bench.peers.servers import Peer, start, start_forwarder
from bench.sweep import Lineup, quiet, sweep

HERE = Path(__file__).resolve().parent


def prepare(workdir: Path) -> tuple[int, str]:
    """The bench database (this process uses it too; one for all runs) and a user's session."""
    workdir.mkdir(parents=True, exist_ok=True)
    (HERE / "results").mkdir(exist_ok=True)
    site.setup_django(site.site_env(workdir, 0))
    return site.login_session()


def run(args: argparse.Namespace, workdir: Path, user_id: int, session: str) -> dict[str, Any]:
    """One whole run: every process started afresh (Open WebUI on a new data folder)."""
    up_port, port = site.free_port(), site.free_port()
    args.upstream_port = up_port
    env = site.site_env(workdir, up_port)
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": _machine(),
        "code": _code_version(),
        "settings": {"tokens": args.tokens, "delay_ms": args.delay_ms, "levels": args.levels},
        "levels": [],
        "direct": [],
        "peers": {},
        "profiles": {},
    }
    upstream = site.start_upstream(workdir, up_port)
    try:
        s = Site(port, up_port, session, user_id, 0, upstream.pid)
        _sweep_all(args, workdir, env, s, out)
        if not args.skip_queries:
            out["queries"] = _with_daphne(env, upstream, session, user_id, "queries", args)
            print(f"queries: {[(c['tokens'], c['writes']) for c in out['queries']['cases']]}")
        if args.idle:
            out["idle"] = _with_daphne(env, upstream, session, user_id, "idle", args)
    finally:
        upstream.stop()
    return out


def _sweep_all(
    args: argparse.Namespace,
    workdir: Path,
    env: dict[str, str],
    s: Site,
    out: dict[str, Any],
) -> None:
    """The sweep, with the peers (started first: they take a while) and one daphne."""
    peers: list[Peer] = []
    daphne: site.Process | None = None
    try:
        for name in args.peers:
            print(f"starting {name} ...", flush=True)
            peers.append(start(name, args.peers_dir, workdir, args.upstream_port))
            print(f"  {name} ready after {peers[-1].started_s:.1f} s", flush=True)
        if args.forwarder:
            peers.append(start_forwarder(workdir, args.upstream_port))
        daphne = site.start_daphne(env, s.port)
        s.daphne_pid = daphne.pid
        relays = [load.site_endpoint(s)]
        for peer in peers:
            relays.append(load.openai_endpoint(peer.name, peer.pid, peer.endpoint()))
            out["peers"][peer.name] = {**peer.describe(), "levels": []}
        asyncio.run(sweep(Lineup(s, relays, load.direct_endpoint(s)), args, out))
    finally:
        if daphne:
            daphne.stop()
        for peer in peers:
            peer.stop()


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
        quiet_for(s, args)
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


def quiet_for(s: Site, args: argparse.Namespace) -> None:
    quiet(Lineup(s, [load.site_endpoint(s)], load.direct_endpoint(s)), args)


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
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _write(path: str, results: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1, default=str))


def parse_args() -> argparse.Namespace:
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
        "--peers",
        nargs="?",
        const=",".join(PEERS),
        default="",
        help=f"measure peers too, in the same sweep: all, or some of {','.join(PEERS)} "
        "(installed into their own virtualenvs first if need be)",
    )
    parser.add_argument(
        "--forwarder",
        action="store_true",
        help="measure a bare byte forwarder too (bench/forwarder.py): what any relay adds here",
    )
    parser.add_argument(
        "--peers-dir", type=Path, default=default_root(), help="where the peers' virtualenvs are"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the whole run; report median and spread"
    )
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
    args.peers = [x.strip() for x in args.peers.split(",") if x.strip()]
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))} (known: {', '.join(PEERS)})")
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    wanted = {x.strip() for x in args.profile.split(",") if x.strip()}
    args.profile_idle = "idle" in wanted
    args.profile = {int(x) for x in wanted - {"idle"}}
    return args


def main() -> None:
    code = site.rerun_in_own_session("bench.run", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    args = parse_args()
    for name in args.peers:  # quick when they are installed already
        ensure(PEERS[name], args.peers_dir)
    site.raise_fd_limit()
    site.pin_self()
    started = time.monotonic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="chatsite-bench-"))
    user_id, session = prepare(workdir)
    runs: list[dict[str, Any]] = []
    for i in range(args.runs):
        if args.runs > 1:
            print(f"\n=== run {i + 1} of {args.runs} ===", flush=True)
        t0 = time.monotonic()
        runs.append(run(args, workdir, user_id, session))
        runs[-1]["duration_s"] = round(time.monotonic() - t0)
        report.print_results(runs[-1])
        _write(args.json, runs[0] if args.runs == 1 else {"runs": runs})
    if args.runs > 1:
        summary = repeat.summarise(runs)
        total = round(time.monotonic() - started)
        _write(args.json, {"runs": runs, "summary": summary, "duration_s": total})
        repeat.print_summary(summary)
    if runs[-1]["levels"] and report.plot(runs[-1], Path(args.plot)):
        print(f"plot: {args.plot}" + (" (the last run)" if args.runs > 1 else ""))
    print(f"results: {args.json} ({round(time.monotonic() - started)} s)")


if __name__ == "__main__":
    main()
