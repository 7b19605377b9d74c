"""A crash mid-reply (issue 9, item 3): how soon the reply reads `interrupted`, and how soon
Stop answers on a reply whose process is dead.

    python -m bench.crash                      # one crash run and one Stop run per delay
    python -m bench.crash --runs 2 --stop-delays 1 4

Two daphne processes on a fresh PostgreSQL database and a free Redis database, with the
site's defaults for everything about crashes (heartbeats, checkpoints, the sweeper, end
checks); bench/site.py's environment otherwise. Process A generates a long reply from the fake
upstream; its event stream is open on process B. Once B has streamed --kill-after seconds of
it, A gets SIGKILL (its render workers, if any, are left to exit when their pipes close).

- Crash run: the database is read every 50 ms until the reply is finished; reported are the
  seconds from the kill until it reads `interrupted` (or whatever it became), and until B's
  open stream brings `end`; and the heartbeat's age at the kill.
- Stop run, once per --stop-delays value: as above, then that many seconds after the kill
  B is asked to stop the reply (POST /api/replies/<id>/stop); reported are the seconds the
  POST took to answer, and the status it answered with.

A fresh process A is started for every run; B and the database stay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench import hardening as h
from bench import site

POLL = 0.05


async def finished_at(reply: int, limit: float) -> tuple[float | None, str]:
    """time.time() when the reply first reads finished in the database, and its status."""
    from chat.models import Message

    deadline = time.time() + limit
    while time.time() < deadline:
        status = (await asyncio.to_thread(_status, reply))[0]
        if status not in ("streaming", "pending"):
            return time.time(), status
        await asyncio.sleep(POLL)
    return None, Message.objects.get(pk=reply).status


def _status(reply: int) -> tuple[str, float | None]:
    from chat.models import Message

    m = Message.objects.get(pk=reply)
    return m.status, None if m.heartbeat_at is None else m.heartbeat_at.timestamp()


async def one_run(
    args: argparse.Namespace,
    env: dict[str, str],
    ports: tuple[int, int],
    session: str,
    stop_delay: float | None,
) -> dict[str, object]:
    port_a, port_b = ports
    a = site.start_daphne(env, port_a, f"daphne-a-{port_a}")
    try:
        await h.page_load(port_a, session)  # A's background tasks start on its first request
        conversation = h.new_conversation(session, site.MODEL)
        spec = {"tokens": int(args.reply_seconds * 20), "delay_ms": 50}
        reply, path = await h.send_message(port_a, session, conversation, json.dumps(spec))
        record = h.Watch()
        watching = asyncio.create_task(h.watch(port_b, session, path, record, args.limit + 60))
        await asyncio.sleep(args.kill_after)
        os.kill(a.pid, signal.SIGKILL)
        killed = time.time()
        status, beat = await asyncio.to_thread(_status, reply)
        result: dict[str, object] = {
            "streamed_before_kill": len(record.text),
            "heartbeat_age_at_kill_s": None if beat is None else killed - beat,
            "status_at_kill": status,
        }
        ended = asyncio.create_task(finished_at(reply, args.limit))
        if stop_delay is not None:
            await asyncio.sleep(stop_delay)
            asked = time.time()
            code, answer = await h.post_json(port_b, session, f"/api/replies/{reply}/stop", {})
            result["stop_delay_s"] = stop_delay
            result["stop_answer_s"] = time.time() - asked
            result["stop_http"] = code
            result["stop_status"] = answer.get("status") if isinstance(answer, dict) else answer
        at, final = await ended
        await watching
        result["finished_after_kill_s"] = None if at is None else at - killed
        result["final_status"] = final
        result["end_on_b_after_kill_s"] = None if record.end_at is None else record.end_at - killed
        result["end_status_on_b"] = (record.end or {}).get("status")
        return result
    finally:
        a.stop()


async def run_all(
    args: argparse.Namespace, workdir: Path, urls: tuple[str, str]
) -> list[dict[str, object]]:
    database, redis = urls
    upstream_port, port_b = site.free_port(), site.free_port()
    upstream = site.start_upstream(workdir, upstream_port)
    env = site.site_env(workdir, upstream_port)
    env.update({"DATABASE_URL": database, "REDIS_URL": redis})
    h.use_database(env)
    session = h.user_session("crash")
    b = site.start_daphne(env, port_b, "daphne-b")
    rows: list[dict[str, object]] = []
    try:
        await h.page_load(port_b, session)  # B's sweeper starts on its first request
        for i in range(args.runs):
            for delay in [None, *args.stop_delays]:
                load = h.MachineLoad([b.pid, upstream.pid])
                row = await one_run(args, env, (site.free_port(), port_b), session, delay)
                row.update({"run": i + 1, "others_cores": round(load.others(), 2)})
                print("  " + json.dumps(row), flush=True)
                rows.append(row)
    finally:
        b.stop()
        upstream.stop()
    return rows


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=1, help="crash + Stop runs, repeated")
    p.add_argument(
        "--stop-delays", type=float, nargs="*", default=[1.0], help="seconds after the kill"
    )
    p.add_argument("--kill-after", type=float, default=3.0, help="seconds of streaming first")
    p.add_argument("--reply-seconds", type=float, default=120.0, help="the reply's length")
    p.add_argument("--limit", type=float, default=90.0, help="seconds to wait for the end")
    p.add_argument("--postgres", default=h.POSTGRES_ADMIN, help="a server's postgres database")
    p.add_argument("--redis", default=h.REDIS, help="a Redis server (a free database is used)")
    p.add_argument("--json", help="write the results here")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    code = site.rerun_in_own_session("bench.crash", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    site.pin_self()
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-crash-"))
    with h.postgres_database(args.postgres) as database, h.redis_database(args.redis) as redis:
        rows = asyncio.run(run_all(args, workdir, (database, redis)))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
