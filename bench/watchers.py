"""Watchers in the other process (issue 9, item 2): does every one hear its reply's `end`?

    python -m bench.watchers                       # 200 replies
    python -m bench.watchers --replies 200 --connections 100

Two daphne processes, A and B, on a fresh PostgreSQL database and a free Redis database
(bench/site.py's environment otherwise), and the fake upstream streaming each reply for about
--reply-seconds. All --replies messages are POSTed to A at once; each reply is watched from B,
its event stream opened as soon as the POST is answered, read as a browser's EventSource reads
(reconnecting with Last-Event-ID if the stream closes before `end`). Per reply: when it was
saved (its `updated_at`, set by the final save) and when B's stream brought `end`. Reported:
the watchers with no `end` within --grace seconds of the save, and the distribution of
(end received - reply saved). --connections sets CHAT_REDIS_CONNECTIONS (the size of each
process's Redis pool, where the site has that setting; left at the site's default otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bench import hardening as h
from bench import site


async def one(
    ports: tuple[int, int], session: str, conversation: int, args: argparse.Namespace
) -> tuple[int, h.Watch]:
    post, watch = ports
    body = json.dumps({"tokens": args.tokens, "delay_ms": args.reply_seconds * 1000 / args.tokens})
    reply, path = await h.send_message(post, session, conversation, body)
    record = h.Watch()
    await h.watch(watch, session, path, record, args.reply_seconds + args.grace + 60)
    return reply, record


async def burst(
    ports: tuple[int, int], session: str, args: argparse.Namespace
) -> tuple[list[float], int]:
    """All replies at once; returns (end received - saved) per reply, inf for no `end`, and
    how many watchers had to reconnect."""
    from chat.models import Message

    conversations = [h.new_conversation(session, site.MODEL) for _ in range(args.replies)]
    t0 = time.monotonic()
    results = await asyncio.gather(*(one(ports, session, c, args) for c in conversations))
    print(f"  all watchers done in {time.monotonic() - t0:.1f} s", flush=True)
    saved = {m.pk: m for m in Message.objects.filter(pk__in=[r for r, _ in results])}
    delays = []
    unfinished = 0
    for reply, record in results:
        message = saved[reply]
        if not message.is_finished:
            unfinished += 1
        if record.end_at is None or not message.is_finished:
            delays.append(float("inf"))
        else:
            delays.append(record.end_at - message.updated_at.timestamp())
    if unfinished:
        print(f"  {unfinished} replies never finished in the database", flush=True)
    reconnected = sum(1 for _, record in results if len(record.opened) > 1)
    statuses: dict[str, int] = {}
    for m in saved.values():
        statuses[m.status] = statuses.get(m.status, 0) + 1
    print(f"  statuses: {statuses}", flush=True)
    return delays, reconnected


def summary(delays: list[float], grace: float) -> dict[str, object]:
    heard = [d for d in delays if d <= grace]
    return {
        "replies": len(delays),
        "no_end_within_grace": len(delays) - len(heard),
        "never_ended": sum(1 for d in delays if d == float("inf")),
        "delay_p50_s": h.percentile(heard, 50),
        "delay_p90_s": h.percentile(heard, 90),
        "delay_p99_s": h.percentile(heard, 99),
        "delay_max_s": max(heard, default=float("nan")),
        "over_5_s": sum(1 for d in heard if d > 5),
        "late_s": sorted(round(d, 1) for d in delays if d > 5),  # inf: no `end` at all
    }


async def run_once(
    args: argparse.Namespace, workdir: Path, urls: tuple[str, str]
) -> dict[str, object]:
    database, redis = urls
    upstream_port, port_a, port_b = site.free_port(), site.free_port(), site.free_port()
    upstream = site.start_upstream(workdir, upstream_port)
    env = site.site_env(workdir, upstream_port)
    env.update({"DATABASE_URL": database, "REDIS_URL": redis})
    if args.connections:
        env["CHAT_REDIS_CONNECTIONS"] = str(args.connections)
    h.use_database(env)
    session = h.user_session("watcher")
    a = site.start_daphne(env, port_a, "daphne-a")
    b = site.start_daphne(env, port_b, "daphne-b")
    try:
        for port in (port_a, port_b):  # each process starts its background tasks
            await h.page_load(port, session)
        load = h.MachineLoad([a.pid, b.pid, upstream.pid])
        delays, reconnected = await burst((port_a, port_b), session, args)
        result = summary(delays, args.grace)
        result["reconnected"] = reconnected
        result["others_cores"] = round(load.others(), 2)
        result["loadavg"] = h.loadavg()
    finally:
        for p in (a, b, upstream):
            p.stop()
    return result


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.watchers", description=__doc__.split("\n")[0])
    p.add_argument("--replies", type=int, default=200)
    p.add_argument("--connections", type=int, help="CHAT_REDIS_CONNECTIONS (default: the site's)")
    p.add_argument("--reply-seconds", type=float, default=2.0, help="each reply's length")
    p.add_argument("--tokens", type=int, default=100, help="chunks per reply")
    p.add_argument("--grace", type=float, default=30.0, help="seconds after the save for `end`")
    p.add_argument("--postgres", default=h.POSTGRES_ADMIN, help="a server's postgres database")
    p.add_argument("--redis", default=h.REDIS, help="a Redis server (a free database is used)")
    p.add_argument("--json", help="write the results here")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    code = site.rerun_in_own_session("bench.watchers", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    site.raise_fd_limit()
    site.pin_self()
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-watchers-"))
    with h.postgres_database(args.postgres) as database, h.redis_database(args.redis) as redis:
        result = asyncio.run(run_once(args, workdir, (database, redis)))
    print(json.dumps(result, indent=2), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
