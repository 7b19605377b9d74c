"""The relay on several daphne processes behind one address, on PostgreSQL + Redis:

    python -m bench.scaleout [--processes 2] [--levels 1,50,100] [--runs N] [--json PATH]

The bench opens one listening TCP socket and starts every daphne with `--fd` on it, so the
kernel hands each new connection to whichever process accepts first (`--listen reuseport`:
one SO_REUSEPORT socket per process on the same port, the kernel spreading connections by
hash). The processes share a fresh PostgreSQL database and a free Redis database, as in
bench/watchers.py, and are started by one shell, whose process tree is the server measured,
so the sweep (bench/sweep.py) and its report (bench/report.py) run unchanged: the same rounds,
figures and targets as the one-process benchmark, CPU being that of all the daphnes. Each
round also reads every daphne's CPU, the replies it generated (the message POSTs in its
access log), the event streams it held open (steady rounds), and the CPU of PostgreSQL and
Redis (system services, unpinned: the report's "others" column counts them). `--cpus shared`
puts every daphne on the server core; `split` spreads them over all cores, the load
client's included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import hardening as h
from bench import load, procstat, repeat, report, site
from bench.run import _code_version, _machine, _write
from bench.sweep import Lineup, sweep

HERE = Path(__file__).resolve().parent
KINDS = {"w": "warm-up", "f": "first", "r": "steady", "p": "profiled"}


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def service_pid(name: str) -> int | None:
    """The oldest process called `name` (PostgreSQL's postmaster: its tree holds every backend)."""
    found = subprocess.run(["pgrep", "-o", "-x", name], capture_output=True, text=True).stdout
    return int(found) if found.strip() else None


def listeners(count: int, reuseport: bool) -> list[socket.socket]:
    """One shared listening socket, or `count` SO_REUSEPORT ones on the same port."""
    socks: list[socket.socket] = []
    port = 0
    for _ in range(count if reuseport else 1):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(4096)
        port = sock.getsockname()[1]
        socks.append(sock)
    return socks


class Servers:
    """The daphne processes, children of one shell (which waits for them on SIGTERM)."""

    def __init__(self, env: dict[str, str], count: int, cpus: list[set[int]], reuse: bool) -> None:
        self.workdir = Path(env["BENCH_WORKDIR"])
        self.socks = listeners(count, reuse)
        self.port = self.socks[0].getsockname()[1]
        self.names = [f"daphne-{i + 1}" for i in range(count)]
        lines = ["trap wait TERM"]
        for i in range(count):
            fd = self.socks[i % len(self.socks)].fileno()
            cmd = ["taskset", "-c", ",".join(map(str, sorted(cpus[i]))), sys.executable]
            cmd += ["-m", "chatsite.serve", "--fd", str(fd), "--access-log", str(self.access(i))]
            cmd += ["chatsite.asgi:application"]
            lines.append(f"{shlex.join(cmd)} >{shlex.quote(str(self.log(i)))} 2>&1 &")
        lines.append("wait")
        fds = tuple(s.fileno() for s in self.socks)
        every = set().union(*cpus)
        self.shell = site.Process(
            "daphnes", ["sh", "-c", "\n".join(lines)], env, every, site.ROOT, fds
        )
        for sock in self.socks:  # the children hold them now
            sock.close()
        self.pids = self._wait_listening()

    def log(self, i: int) -> Path:
        return self.workdir / f"{self.names[i]}.log"

    def access(self, i: int) -> Path:
        return self.workdir / f"{self.names[i]}.access.log"

    def _wait_listening(self, timeout: float = 60) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.shell.popen.poll() is not None:
                raise RuntimeError(f"daphnes exited: {self.shell.log_path.read_text()[-2000:]}")
            logs = [
                self.log(i).read_text() if self.log(i).exists() else ""
                for i in range(len(self.names))
            ]
            if all("Listening on" in text for text in logs):
                return [self._pid_of(i) for i in range(len(self.names))]
            time.sleep(0.1)
        raise RuntimeError("the daphne processes did not start listening")

    def _pid_of(self, i: int) -> int:
        """The child of the shell serving with this access log."""
        found = subprocess.run(["pgrep", "-P", str(self.shell.pid)], capture_output=True, text=True)
        for pid in map(int, found.stdout.split()):
            if str(self.access(i)).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        raise RuntimeError(f"no process found for {self.names[i]}")

    async def warm(self, session: str, tries: int = 50) -> None:
        """Page loads until every process has served one (each starts its background tasks
        on its first request)."""
        for _ in range(tries):
            if all(c["all"] for c in self.requests()):
                return
            await asyncio.gather(*(h.page_load(self.port, session) for _ in range(4)))
            await asyncio.sleep(0.1)
        print(f"  warning: not every process served a page: {self.requests()}", flush=True)

    def requests(self) -> list[dict[str, int]]:
        """Each process's completed requests so far, and its message POSTs (a reply is
        generated by the process its POST reached). Event streams are not counted here: one
        the client closes on `end` before the server finishes it is never logged."""
        counts = []
        for i in range(len(self.names)):
            text = self.access(i).read_text() if self.access(i).exists() else ""
            counts.append({"all": text.count("\n"), "posts": text.count('/messages"')})
        return counts

    def connections(self) -> list[int]:
        """Each process's open connections on the site's port (a steady round holds them all
        open at its start signal: the event streams each process serves)."""
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            f = line.split()
            if int(f[1].rsplit(":", 1)[1], 16) == self.port and f[3] == "01":
                inodes.add(f"socket:[{f[9]}]")
        held = []
        for pid in self.pids:
            fds = Path(f"/proc/{pid}/fd")
            held.append(sum(1 for fd in fds.iterdir() if _link(fd) in inodes))
        return held

    def stop(self) -> None:
        self.shell.stop(timeout=40)


class Probe:
    """Per site round: the CPU of each daphne, PostgreSQL and Redis; the streams each served."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.roots = {name: pid for name, pid in zip(servers.names, servers.pids, strict=True)}
        for name in ("postgres", "redis-server"):
            pid = service_pid(name)
            if pid:
                self.roots[name] = pid
        self.rounds: list[dict[str, Any]] = []
        self._held: list[int] | None = None
        self._start: tuple[float, dict[int, float], list[dict[str, int]]] | None = None

    def read(self) -> tuple[float, dict[int, float], list[dict[str, int]]]:
        cpu = procstat.trees_cpu_seconds(list(self.roots.values()))
        return time.monotonic(), cpu, self.servers.requests()

    def __call__(self, phase: str, tag: str, n: int) -> None:
        if phase == "start":
            self._start, self._held = self.read(), None
            return
        if phase == "go":
            self._held = self.servers.connections()
            return
        assert self._start is not None
        (t0, cpu0, req0), (t1, cpu1, req1) = self._start, self.read()
        row: dict[str, Any] = {"streams": n, "kind": KINDS.get(tag[:1], tag), "wall_s": t1 - t0}
        row["cpu_s"] = {name: cpu1[pid] - cpu0[pid] for name, pid in self.roots.items()}
        row["served"] = {
            name: {k: after[k] - before[k] for k in after}
            for name, before, after in zip(self.servers.names, req0, req1, strict=True)
        }
        if self._held is not None:
            row["streams_held"] = dict(zip(self.servers.names, self._held, strict=True))
        self.rounds.append(row)


def run(
    args: argparse.Namespace, workdir: Path, urls: tuple[str, str], login: tuple[int, str]
) -> dict[str, Any]:
    up_port = site.free_port()
    env = site.site_env(workdir, up_port)
    env.update({"DATABASE_URL": urls[0], "REDIS_URL": urls[1]})
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": _machine(),
        "code": _code_version(),
        "settings": {"tokens": args.tokens, "delay_ms": args.delay_ms, "levels": args.levels},
        "setup": {"processes": args.processes, "listen": args.listen, "cpus": args.placement},
        "levels": [],
        "direct": [],
        "peers": {},
        "profiles": {},
    }
    upstream = site.start_upstream(workdir, up_port)
    servers: Servers | None = None
    try:
        servers = Servers(env, args.processes, args.cpu_sets, args.listen == "reuseport")
        s = load.Site(servers.port, up_port, login[1], login[0], servers.shell.pid, upstream.pid)
        asyncio.run(servers.warm(login[1]))
        probe = Probe(servers)
        relay = load.site_endpoint(s)
        relay.probe = probe
        out["setup"]["services"] = {
            k: v for k, v in probe.roots.items() if not k.startswith("daphne")
        }
        asyncio.run(sweep(Lineup(s, [relay], load.direct_endpoint(s)), args, out))
        out["rounds"] = probe.rounds
    finally:
        if servers:
            servers.stop()
            out["log_problems"] = log_problems(servers)
        upstream.stop()
    return out


def log_problems(servers: Servers) -> dict[str, list[str]]:
    """Warnings and errors in each daphne's log (first of each kind), and how often a Redis
    channel was full (channels-redis drops messages for it: deltas a watcher never got)."""
    found: dict[str, list[str]] = {}
    for i, name in enumerate(servers.names):
        lines = servers.log(i).read_text(errors="replace").splitlines()
        bad = [ln for ln in lines if any(w in ln for w in ("WARNING", "ERROR", "Traceback"))]
        bad = [ln for ln in bad if "shutting down: 0 replies running" not in ln]
        found[name] = list(dict.fromkeys(ln.split(" ", 3)[-1][:160] for ln in bad))[:8]
        full = sum(1 for ln in lines if "channels over capacity" in ln)
        if full:
            found[name].append(f"{full} times a channel over capacity (messages dropped)")
    return found


def print_rounds(out: dict[str, Any]) -> None:
    """One row per steady round, one per level for its first-delta rounds (summed)."""
    print(f"\nplacement: {out['setup']['cpus']}; PostgreSQL and Redis unpinned (services)")
    print(
        "per round: CPU ms of each process (% of a core over the round); daphnes: replies "
        "generated (POSTs reached), and in steady rounds streams held open at the start signal"
    )
    names = list(out["rounds"][0]["cpu_s"]) if out["rounds"] else []
    print(f"{'streams':>7} {'round':<9} {'wall s':>6} " + "".join(f" {n:>25}" for n in names))
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for i, row in enumerate(out["rounds"]):
        if row["kind"] == "first":
            groups.setdefault((row["streams"], "first"), []).append(row)
        elif row["kind"] != "warm-up":
            groups[(row["streams"], f"steady{i}")] = [row]
    for (n, kind), rows in groups.items():
        wall = sum(r["wall_s"] for r in rows)
        cells = []
        for name in names:
            cpu = sum(r["cpu_s"][name] for r in rows)
            cell = f"{1000 * cpu:.0f} ({100 * cpu / wall:.0f}%)"
            if name in rows[0]["served"]:
                cell += f" gen {sum(r['served'][name]['posts'] for r in rows)}"
            if name in rows[0].get("streams_held", {}):
                cell += f" held {rows[0]['streams_held'][name]}"
            cells.append(f" {cell:>25}")
        label = f"first ×{len(rows)}" if kind == "first" else "steady"
        print(f"{n:>7} {label:<9} {wall:>6.2f} " + "".join(cells))
    for name, lines in (out.get("log_problems") or {}).items():
        for line in lines:
            print(f"  {name} log: {line}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.split("\n")[0])
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--levels", default="1,50,100", help="concurrent streams")
    p.add_argument("--runs", type=int, default=1, help="repeat; report median and spread")
    p.add_argument("--listen", choices=("shared", "reuseport"), default="shared")
    p.add_argument("--cpus", choices=("shared", "split"), default="shared")
    p.add_argument("--tokens", type=int, default=200)
    p.add_argument("--delay-ms", type=float, default=10.0)
    p.add_argument("--quiet-limit", type=float, default=0.3)
    p.add_argument("--patience", type=float, default=30)
    p.add_argument("--postgres", default=h.POSTGRES_ADMIN, help="a server's postgres database")
    p.add_argument("--redis", default=h.REDIS, help="a Redis server (a free database is used)")
    p.add_argument("--json", default=str(HERE / "results" / "scaleout.json"))
    args = p.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.profile = set()
    cores = sorted(os.sched_getaffinity(0))
    if args.cpus == "shared":
        args.cpu_sets = [site.SERVER_CPUS] * args.processes
    else:
        args.cpu_sets = [{cores[i % len(cores)]} for i in range(args.processes)]
    where = ", ".join(f"daphne-{i + 1} on core {min(c)}" for i, c in enumerate(args.cpu_sets))
    args.placement = f"{where}; load client + fake upstream on core {min(site.HARNESS_CPUS)}"
    return args


def main() -> None:
    code = site.rerun_in_own_session("bench.scaleout", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    args = parse_args()
    site.raise_fd_limit()
    site.pin_self()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-scaleout-"))
    (HERE / "results").mkdir(exist_ok=True)
    print(f"workdir (logs): {workdir}", flush=True)
    with h.postgres_database(args.postgres) as database, h.redis_database(args.redis) as redis:
        env = site.site_env(workdir, 0)
        env["DATABASE_URL"] = database
        h.use_database(env)
        login = site.login_session()
        runs: list[dict[str, Any]] = []
        for i in range(args.runs):
            if args.runs > 1:
                print(f"\n=== run {i + 1} of {args.runs} ===", flush=True)
            analyze(database)
            runs.append(run(args, workdir, (database, redis), login))
            report.print_results(runs[-1])
            print_rounds(runs[-1])
            _write(args.json, runs[0] if args.runs == 1 else {"runs": runs})
    if args.runs > 1:
        summary = repeat.summarise(runs)
        _write(args.json, {"runs": runs, "summary": summary})
        repeat.print_summary(summary)
    print(f"results: {args.json} ({round(time.monotonic() - started)} s)")


def analyze(database: str) -> None:
    """Refresh PostgreSQL's statistics before a run, as autovacuum does on a deployment (this
    machine's server runs without it): planned for the empty tables of the run before, the
    user's running-replies count walked every conversation of the bench user, and each run
    was slower than the last (PostgreSQL at 13, 32 and 56 % of a core at 50 streams)."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ANALYZE")


if __name__ == "__main__":
    main()
