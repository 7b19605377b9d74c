"""The load client: replies through the site, a peer, or straight from the fake upstream.

A *first-delta round* starts N replies at once and times each from its POST to its first
delta. A *steady round* opens N streams first, then lets the fake upstream start them all
together (spread over one token interval), so it measures relaying, not connection setup.
The same rounds are run against the fake upstream directly: that is the baseline the
"added" latencies subtract. The site's event stream and the OpenAI-style streams (the fake
upstream's own, the peers') each have their reader; both take the stamps from the text.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.httpclient import StreamRecord, read_openai_events, read_site_events, request
from bench.procstat import cpu_seconds, machine_cpu_seconds, tree_cpu_seconds
from bench.site import new_conversations, site_headers, spec


@dataclass
class Site:
    port: int
    upstream_port: int
    session: str
    user_id: int
    daphne_pid: int
    upstream_pid: int


@dataclass
class Round:
    records: list[StreamRecord]
    errors: list[str]
    expected: int  # stamps offered
    server_cpu_s: float  # the server's CPU over the whole round (setup, stream, save)
    stream_cpu_s: float  # the server's CPU from the start signal to the last end
    harness_cpu_s: float  # load client + fake upstream CPU over the round
    wall_s: float
    stream_wall_s: float = 0.0
    foreign_cpu_s: float = 0.0  # CPU used on the machine by processes other than ours
    extra: dict[str, float] = field(default_factory=dict)


Ready = Callable[[], None]


async def relay_reply(
    site: Site, conversation: int, fields: dict[str, object], ready: Ready | None, limit_s: float
) -> StreamRecord:
    headers = site_headers(site.port, site.session)
    record = StreamRecord(started_ns=time.time_ns())
    path = f"/api/conversations/{conversation}/messages"
    answer = await request(site.port, "POST", path, headers, spec(**fields))
    body = await answer.read()
    answer.close()
    if answer.status != 202:
        raise RuntimeError(f"POST messages answered {answer.status}: {body[:300]!r}")
    url = json.loads(body)["stream_url"]
    get_headers = {"Cookie": headers["Cookie"], "Accept": "text/event-stream"}
    stream = await request(site.port, "GET", url, get_headers)
    try:
        if stream.status != 200:
            raise RuntimeError(f"GET {url} answered {stream.status}")
        if ready:
            ready()
        await asyncio.wait_for(read_site_events(stream, record), limit_s)
    finally:
        stream.close()
    return record


@dataclass
class OpenAIEndpoint:
    """Where to ask for a streamed OpenAI-style chat completion: the fake upstream itself (the
    direct baseline) or a peer relaying it."""

    port: int
    path: str = "/v1/chat/completions"
    headers: dict[str, str] = field(default_factory=dict)
    model: str = "bench"


async def openai_reply(
    endpoint: OpenAIEndpoint, fields: dict[str, object], ready: Ready | None, limit_s: float
) -> StreamRecord:
    """One streamed completion whose user message is the fake upstream's spec. `ready` is
    called once the request is sent (a relay may hold its headers back until the first
    chunk; a steady round then waits for the fake upstream to hold every request)."""
    record = StreamRecord(started_ns=time.time_ns())
    payload = {
        "model": endpoint.model,
        "stream": True,
        "messages": [{"role": "user", "content": json.dumps(fields)}],
    }
    headers = {
        **endpoint.headers,
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
    }
    body = json.dumps(payload).encode()
    stream = await request(endpoint.port, "POST", endpoint.path, headers, body, on_sent=ready)
    try:
        if stream.status != 200:
            raise RuntimeError(f"POST {endpoint.path} answered {stream.status}")
        await asyncio.wait_for(read_openai_events(stream, record), limit_s)
    finally:
        stream.close()
    return record


ReplyFn = Callable[[dict[str, object], Ready | None, float], Awaitable[StreamRecord]]


@dataclass
class Endpoint:
    """One thing the load client measures. `replies(n)` prepares n replies (the site needs a
    conversation each); `pid` is the server process whose CPU (its tree's) counts, None for
    the fake upstream itself. `probe`, if any, is called as probe(phase, tag, n) with phase
    "start" just before a round's first reading, "go" when a steady round's streams are all
    open, and "end" just after its last reading (bench/scaleout.py reads each process there)."""

    name: str
    pid: int | None
    replies: Callable[[int], list[ReplyFn]]
    probe: Callable[[str, str, int], None] | None = None


def site_endpoint(site: Site) -> Endpoint:
    def replies(n: int) -> list[ReplyFn]:
        conversations = new_conversations(site.user_id, n)
        return [functools.partial(relay_reply, site, c) for c in conversations]

    return Endpoint("site", site.daphne_pid, replies)


def openai_endpoint(name: str, pid: int | None, target: OpenAIEndpoint) -> Endpoint:
    return Endpoint(name, pid, lambda n: [functools.partial(openai_reply, target)] * n)


def direct_endpoint(site: Site) -> Endpoint:
    return openai_endpoint("direct", None, OpenAIEndpoint(site.upstream_port))


def server_cpu(endpoint: Endpoint) -> float:
    return tree_cpu_seconds(endpoint.pid) if endpoint.pid else 0.0


async def upstream_call(site: Site, method: str, path: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else b""
    answer = await request(site.upstream_port, method, path, {}, data)
    result = await answer.json()
    answer.close()
    return result


def harness_cpu(site: Site) -> float:
    times = os.times()
    return times.user + times.system + cpu_seconds(site.upstream_pid)


async def run_round(
    site: Site,
    endpoint: Endpoint,
    n: int,
    *,
    tokens: int,
    delay_ms: float,
    steady: bool,
    tag: str,
    on_start: Ready | None = None,
) -> Round:
    """N replies at once; steady=True holds them until all are open, then starts them."""
    replies = endpoint.replies(n)
    timeout = tokens * delay_ms / 1000 + 60
    opened = asyncio.Event()
    count = 0

    def ready() -> None:
        nonlocal count
        count += 1
        if count == n:
            opened.set()

    def reply(i: int) -> Awaitable[StreamRecord]:
        fields: dict[str, object] = {"tokens": tokens, "delay_ms": delay_ms}
        if steady:
            fields.update(run=tag, phase_ms=round(i * delay_ms / n, 3))
        return replies[i](fields, ready, timeout)

    if endpoint.probe:
        endpoint.probe("start", tag, n)
    machine0 = machine_cpu_seconds()
    cpu0, harness0, t0 = server_cpu(endpoint), harness_cpu(site), time.monotonic()
    tasks = [asyncio.ensure_future(reply(i)) for i in range(n)]
    cpu_go, t_go = cpu0, t0
    if steady:
        waiting = asyncio.ensure_future(_all_waiting(site, tag, n, opened))
        done, _ = await asyncio.wait([waiting, *tasks], timeout=120, return_when="FIRST_COMPLETED")
        if waiting not in done:  # a stream failed before the start, or nothing came in time
            waiting.cancel()
            for task in tasks:
                task.cancel()
        if on_start:
            on_start()
        if endpoint.probe:
            endpoint.probe("go", tag, n)
        cpu_go, t_go = server_cpu(endpoint), time.monotonic()
        await upstream_call(site, "POST", "/go", {"run": tag})
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.05)  # let the server finish its after-end bookkeeping
    cpu1, harness1, t1 = server_cpu(endpoint), harness_cpu(site), time.monotonic()
    ours = cpu1 - cpu0 + harness1 - harness0
    foreign = max(0.0, machine_cpu_seconds() - machine0 - ours)
    if endpoint.probe:
        endpoint.probe("end", tag, n)
    records = [r for r in results if isinstance(r, StreamRecord)]
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    return Round(
        records=records,
        errors=errors,
        expected=n * tokens,
        server_cpu_s=cpu1 - cpu0,
        stream_cpu_s=cpu1 - cpu_go,
        harness_cpu_s=harness1 - harness0,
        wall_s=t1 - t0,
        stream_wall_s=t1 - t_go,
        foreign_cpu_s=foreign,
    )


async def _all_waiting(site: Site, tag: str, n: int, opened: asyncio.Event) -> None:
    """Until the client holds all N streams and the upstream holds all N requests."""
    await opened.wait()
    while True:
        stats = await upstream_call(site, "GET", "/stats")
        if isinstance(stats, dict) and stats["waiting"].get(tag, 0) >= n:
            return
        await asyncio.sleep(0.02)


async def idle_baseline(pid: int, seconds: float = 2.0) -> float:
    """A server's CPU use while nothing happens (timers, sweepers), as a fraction of a core."""
    cpu0, t0 = tree_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (tree_cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
