"""Hostile markdown (issue 9, item 1): how long rendering takes, and what one user's hostile
message does to another user's reply and page loads.

    python -m bench.hostile                    # both parts
    python -m bench.hostile --skip-site        # only the render times
    python -m bench.hostile --skip-render --attacks '[*20000' '[a](*6000+)'

Render times: `chat.render.render_markdown` is called directly on each shape, each in a
subprocess of its own killed after --timeout seconds; wall time and the CPU time of the
render itself (the subprocess's total CPU when it was killed).

The site: one daphne on SQLite (bench/site.py's environment, the demo model and the fake
upstream). User B's reply (from the fake upstream, --victim-seconds long) is streaming when
user A sends the hostile text to the demo model --copies times at once (4: the threads the
site had for replies' database work before the hardening); the demo model quotes it back, so
the replies that are rendered are hostile. Meanwhile B loads the page (GET /) --loads times,
one every --interval seconds. Reported: whether B's reply completed exactly (streamed text =
`end` = database, every chunk once, in order) or became `interrupted`, B's page-load median
and p90 (and before the attack), and how A's replies ended (a reply with no `end` after
--give-up seconds is reported with the status it still has).

A shape is PATTERN*COUNT[+SUFFIX]; COUNT may be NKB (PATTERN repeated to N*1000 characters).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import hardening as h
from bench import site

RENDER_SHAPES = [
    "[*8000",
    "[*20000",
    "![*10000",
    "[a](*10000",
    "[*200KB",
    "![*200KB",
    "[a](*200KB",
]
ATTACKS = ["[*20000"]
STAMP = re.compile(r"(\d+):\d+\|")


def build(shape: str) -> str:
    pattern, _, rest = shape.rpartition("*")
    count, _, suffix = rest.partition("+")
    if count.upper().endswith("KB"):
        size = int(count[:-2]) * 1000
        return (pattern * (size // len(pattern) + 1))[:size] + suffix
    return pattern * int(count) + suffix


def render_one(shape: str) -> None:
    """In the subprocess: render the shape once, print wall and CPU seconds as JSON."""
    from chat.render import render_markdown

    text = build(shape)
    render_markdown("*warm-up*")
    wall, cpu = time.perf_counter(), time.process_time()
    html = render_markdown(text)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu, "chars": len(text), "html": len(html)}))


def render_times(shapes: list[str], timeout: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for shape in shapes:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = h.MachineLoad([])
        cmd = [sys.executable, "-m", "bench.hostile", "--render-one", shape]
        row: dict[str, object] = {"shape": shape, "chars": len(build(shape))}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            row.update({"wall": None, "cpu": None, "timeout": timeout, "cpu_used": used})
        row["others_cores"] = round(load.others(), 2)
        rows.append(row)
        print("  render", _render_line(row), flush=True)
    return rows


def _render_line(row: dict[str, object]) -> str:
    if row.get("wall") is None:
        return f"{row['shape']:>12}: > {row['timeout']} s (killed; {row['cpu_used']:.1f} s CPU)"
    return (
        f"{row['shape']:>12}: {row['wall']:.3f} s wall, {row['cpu']:.3f} s CPU"
        f"  (others {row['others_cores']} cores)"
    )


def stamps_in_order(text: str, tokens: int) -> bool:
    return [int(m[1]) for m in STAMP.finditer(text)] == list(range(tokens))


async def attack_round(
    args: argparse.Namespace, port: int, sessions: tuple[str, str], attack: str, pids: list[int]
) -> dict[str, object]:
    from chat.models import Message

    a_session, b_session = sessions
    quiet = [await h.page_load(port, b_session) for _ in range(10)]
    tokens = int(args.victim_seconds * 10)
    b_conv = h.new_conversation(b_session, site.MODEL)
    a_convs = [h.new_conversation(a_session, "demo") for _ in range(args.copies)]
    b_reply, b_path = await h.send_message(
        port, b_session, b_conv, json.dumps({"tokens": tokens, "delay_ms": 100})
    )
    b_watch, a_watches = h.Watch(), [h.Watch() for _ in a_convs]
    b_task = asyncio.create_task(
        h.watch(port, b_session, b_path, b_watch, args.victim_seconds + args.give_up)
    )
    await asyncio.sleep(2.0)
    load = h.MachineLoad(pids)
    sent = time.time()
    sends = [h.send_message(port, a_session, c, build(attack)) for c in a_convs]
    a_replies = await asyncio.gather(*sends)
    a_tasks = [
        asyncio.create_task(h.watch(port, a_session, path, w, args.give_up))
        for (_, path), w in zip(a_replies, a_watches, strict=True)
    ]
    loads: list[float] = []
    start = time.monotonic()
    for i in range(args.loads):
        await asyncio.sleep(max(0.0, start + i * args.interval - time.monotonic()))
        loads.append(await asyncio.wait_for(h.page_load(port, b_session), 300))
    await asyncio.gather(b_task, *a_tasks)
    others = load.others()
    b_saved = Message.objects.get(pk=b_reply)
    a_saved = list(Message.objects.filter(pk__in=[r for r, _ in a_replies]))
    a_ends = [w.end_at - sent for w in a_watches if w.end_at is not None]
    b_end = b_watch.end or {}
    exact = (
        b_end.get("status") == "complete"
        and b_watch.text == b_end.get("content") == b_saved.content
        and stamps_in_order(b_saved.content, tokens)
    )
    return {
        "attack": attack,
        "victim_status": b_saved.status,
        "victim_exact": exact,
        "victim_end_after_attack_s": None if b_watch.end_at is None else b_watch.end_at - sent,
        "quiet_load_median_ms": h.percentile(quiet, 50) * 1000,
        "load_median_ms": h.percentile(loads, 50) * 1000,
        "load_p90_ms": h.percentile(loads, 90) * 1000,
        "load_max_ms": max(loads) * 1000,
        "attacker_statuses": sorted(m.status for m in a_saved),
        "attacker_last_end_s": max(a_ends, default=None),
        "attacker_no_end": sum(w.end is None for w in a_watches),
        "attacker_plain_text": sum(m.html.startswith('<div class="plain-text">') for m in a_saved),
        "others_cores": round(others, 2),
    }


async def site_rounds(args: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    upstream_port, port = site.free_port(), site.free_port()
    upstream = site.start_upstream(workdir, upstream_port)
    env = site.site_env(workdir, upstream_port)
    env["CHAT_MAX_MESSAGE_CHARS"] = str(args.max_message_chars)
    h.use_database(env)
    sessions = (h.user_session("attacker"), h.user_session("victim"))
    server = site.start_daphne(env, port)
    rows = []
    try:
        for attack in args.attacks:
            row = await attack_round(args, port, sessions, attack, [server.pid, upstream.pid])
            print("  site", json.dumps(row), flush=True)
            rows.append(row)
    finally:
        server.stop()
        upstream.stop()
    return rows


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n")[0])
    p.add_argument("--shapes", nargs="+", default=RENDER_SHAPES, help="shapes to render")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per render")
    p.add_argument("--attacks", nargs="+", default=ATTACKS, help="shapes user A sends")
    p.add_argument("--copies", type=int, default=4, help="messages A sends at once")
    p.add_argument("--victim-seconds", type=float, default=75.0, help="B's reply length")
    p.add_argument(
        "--give-up", type=float, default=300.0, help="seconds to wait for A's replies to end"
    )
    p.add_argument("--loads", type=int, default=30, help="B's page loads during the attack")
    p.add_argument("--interval", type=float, default=1.5, help="seconds between B's loads")
    p.add_argument(
        "--max-message-chars",
        type=int,
        default=250_000,
        help="CHAT_MAX_MESSAGE_CHARS (a model's reply has no such cap)",
    )
    p.add_argument("--skip-render", action="store_true")
    p.add_argument("--skip-site", action="store_true")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--render-one", help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.render_one:
        render_one(args.render_one)
        return
    code = site.rerun_in_own_session("bench.hostile", sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    site.pin_self()
    results: dict[str, object] = {"loadavg_start": h.loadavg()}
    if not args.skip_render:
        results["render"] = render_times(args.shapes, args.timeout)
    if not args.skip_site:
        workdir = Path(tempfile.mkdtemp(prefix="chatsite-hostile-"))
        results["site"] = asyncio.run(site_rounds(args, workdir))
    results["loadavg_end"] = h.loadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
