"""`python -m bench.peers install|check [NAME ...]`: install the peers, or install, start and
try them once against a fresh fake upstream (how long each took to be ready, one reply's
numbers, its memory at rest)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench import procstat, site
from bench.peers import PEERS
from bench.peers.install import default_root, ensure
from bench.peers.servers import start, stream_once
from bench.stats import percentile


def check(names: list[str], root: Path, workdir: Path) -> None:
    port = site.free_port()
    upstream = site.start_upstream(workdir, port)
    try:
        for name in names:
            print(f"{name}: starting (log: {workdir / name}.log)", flush=True)
            peer = start(name, root, workdir, port)
            try:
                time.sleep(2)
                cpu0, t0 = procstat.tree_cpu_seconds(peer.pid), time.monotonic()
                time.sleep(3)
                idle = (procstat.tree_cpu_seconds(peer.pid) - cpu0) / (time.monotonic() - t0)
                record = asyncio.run(stream_once(peer, {"tokens": 200, "delay_ms": 10}, 60))
                lat = [ns / 1e6 for ns in record.latencies_ns()]
                first = ((record.first_ns or 0) - record.started_ns) / 1e6
                print(
                    f"{name} {peer.version}: ready in {peer.started_s:.1f} s, "
                    f"RSS {procstat.rss_kb(peer.pid) / 1024:.0f} MB, idle CPU {100 * idle:.1f} % "
                    f"of a core; 200 chunks: {len(lat)} delivered, first after {first:.1f} ms, "
                    f"per chunk p50 {percentile(lat, 50):.2f} ms, p99 {percentile(lat, 99):.2f} ms"
                    f", events {record.events}",
                    flush=True,
                )
            finally:
                peer.stop()
    finally:
        upstream.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=("install", "check"))
    parser.add_argument("names", nargs="*", help=f"default: all ({', '.join(PEERS)})")
    parser.add_argument("--peers-dir", type=Path, default=default_root())
    parser.add_argument("--python", help="interpreter for the virtualenvs (default: the base one)")
    args = parser.parse_args()
    names = args.names or list(PEERS)
    unknown = set(names) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    for name in names:
        folder = ensure(PEERS[name], args.peers_dir, args.python)
        print(f"{name} {PEERS[name].version}: {folder}")
    if args.action == "check":
        site.raise_fd_limit()
        site.pin_self()
        check(names, args.peers_dir, Path(tempfile.mkdtemp(prefix="chat-bench-peers-")))


if __name__ == "__main__":
    main()
