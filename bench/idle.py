"""Open idle streams: how many one daphne process holds, and what each one costs.

An idle stream is a reply whose upstream sent its headers and nothing else, with a browser's
event stream open on it: on the server that is one request, one generation task, one
upstream connection. RSS and CPU are read from /proc before and after opening them; while
they are held, one ordinary reply measures how responsive the process still is.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bench import profile
from bench.httpclient import Response, StreamRecord, request
from bench.load import Site, relay_reply, upstream_call
from bench.procstat import cpu_seconds, open_fds, rss_kb, threads
from bench.site import new_conversations, site_headers, spec
from bench.stats import percentile

IDLE_SECONDS = 600.0


def _snapshot(pid: int) -> dict[str, float]:
    return {"rss_kb": rss_kb(pid), "threads": threads(pid), "fds": open_fds(pid)}


async def _open_idle(site: Site, conversation: int) -> Response:
    headers = site_headers(site.port, site.session)
    path = f"/api/conversations/{conversation}/messages"
    answer = await request(site.port, "POST", path, headers, spec(idle=IDLE_SECONDS))
    body = await answer.read()
    answer.close()
    if answer.status != 202:
        raise RuntimeError(f"POST messages answered {answer.status}: {body[:200]!r}")
    get_headers = {"Cookie": headers["Cookie"], "Accept": "text/event-stream"}
    stream = await request(site.port, "GET", json.loads(body)["stream_url"], get_headers)
    if stream.status != 200:
        stream.close()
        raise RuntimeError(f"event stream answered {stream.status}")
    return stream


async def _drain(stream: Response) -> None:
    """Keep reading (pings) so nothing piles up; ends when the server closes the stream."""
    try:
        async for _ in stream.body_parts():
            pass
    finally:
        stream.close()


async def _wait_idle(site: Site, count: int, within_s: float) -> int:
    deadline = time.monotonic() + within_s
    idle = 0
    while time.monotonic() < deadline:
        stats = await upstream_call(site, "GET", "/stats")
        idle = int(stats["idle"]) if isinstance(stats, dict) else 0
        if idle >= count:
            break
        await asyncio.sleep(0.2)
    return idle


async def idle_streams(
    site: Site,
    count: int,
    budget: float = 180.0,
    hold: float = 10.0,
    parallel: int = 16,
    profile_to: Path | None = None,
) -> dict[str, object]:
    """Open up to `count` idle streams (giving up on new ones after `budget` seconds), then
    hold them for `hold` seconds while one ordinary reply runs (and py-spy samples the
    server, when `profile_to` names where its output goes)."""
    conversations = new_conversations(site.user_id, count + 1)
    pid = site.daphne_pid
    await asyncio.sleep(2)
    before = _snapshot(pid)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    gate = asyncio.Semaphore(parallel)
    readers: list[asyncio.Task[None]] = []
    failures: list[str] = []

    async def open_one(conversation: int) -> None:
        async with gate:
            if time.monotonic() - t0 > budget:
                return
            try:
                stream = await _open_idle(site, conversation)
            except (OSError, RuntimeError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return
            readers.append(asyncio.ensure_future(_drain(stream)))

    await asyncio.gather(*(open_one(c) for c in conversations[:count]))
    open_s = time.monotonic() - t0
    upstream_idle = await _wait_idle(site, len(readers), 60)
    cpu_open = cpu_seconds(pid) - cpu0
    await asyncio.sleep(3)
    after = _snapshot(pid)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    samplers = profile.start(pid, profile_to, hold - 1) if profile_to else []
    probe = await relay_reply(site, conversations[count], {"tokens": 200, "delay_ms": 10}, None, 60)
    await asyncio.sleep(max(0.0, hold - (time.monotonic() - t1)))
    held_cpu = (cpu_seconds(pid) - cpu1) / (time.monotonic() - t1)
    for sampler in samplers:
        await asyncio.to_thread(sampler.wait, 60)
    alive = sum(1 for r in readers if not r.done())
    still_idle = await _wait_idle(site, len(readers), 1)
    opened = len(readers)
    result = {
        "requested": count,
        "budget_s": budget,
        "opened": opened,
        "alive_after_hold": alive,
        "upstream_idle": upstream_idle,
        "upstream_idle_after_hold": still_idle,
        "failures": failures[:5],
        "failure_count": len(failures),
        "open_seconds": round(open_s, 1),
        "cpu_ms_per_open": round(1000 * cpu_open / max(1, opened), 2),
        "rss_before_kb": before["rss_kb"],
        "rss_after_kb": after["rss_kb"],
        "kb_per_stream": round((after["rss_kb"] - before["rss_kb"]) / max(1, opened), 1),
        "threads_before": before["threads"],
        "threads_after": after["threads"],
        "fds_after": after["fds"],
        "held_core_utilisation": round(held_cpu, 3),
        "probe": _probe_summary(probe),
    }
    if profile_to:
        result["profile"] = profile.summarise(profile_to.with_suffix(".txt"))
    await upstream_call(site, "POST", "/release")
    await asyncio.wait(readers, timeout=60)
    for task in readers:
        task.cancel()
    return result


def _probe_summary(record: StreamRecord) -> dict[str, float]:
    latencies = [ns / 1e6 for ns in record.latencies_ns()]
    first = (record.first_ns - record.started_ns) / 1e6 if record.first_ns else float("nan")
    return {
        "first_delta_ms": round(first, 2),
        "delta_p50_ms": round(percentile(latencies, 50), 3),
        "delta_p99_ms": round(percentile(latencies, 99), 3),
        "delivered": len(latencies),
    }
