"""Shared parts of the hardening measurements (bench/hostile.py, bench/watchers.py,
bench/crash.py): a fresh PostgreSQL database and a free Redis database, the harness's own
Django setup, logged-in users, a site event-stream reader that notes when each event came,
and how busy the rest of the machine was.

The scripts use only the site's HTTP API, its models and `chat.render.render_markdown`, which
kept their names across the hardening, so they run unchanged in a checkout from before it
(with this bench/ folder's harness files copied in).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.httpclient import request
from bench.procstat import machine_cpu_seconds, tree_cpu_seconds
from bench.site import site_headers

POSTGRES_ADMIN = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379"
CLAIM = "bench-hardening-claim"  # the key that marks a Redis database as taken by a run


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN when there is nothing."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def spread(values: Sequence[float]) -> str:
    """median [min..max] of some seconds, for the printed summaries."""
    if not values:
        return "-"
    return f"{percentile(values, 50):.2f} [{min(values):.2f}..{max(values):.2f}]"


@contextlib.contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN) -> Iterator[str]:
    """A database of its own on the server of `admin_url`, dropped afterwards."""
    import psycopg

    name = f"bench_hardening_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_database(base: str = REDIS) -> Iterator[str]:
    """An empty Redis database (the highest free number; 0 is left to the tests), claimed
    with a marker key and flushed afterwards."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.dbsize() == 0 and client.set(CLAIM, str(os.getpid()), nx=True):
            break
        client.close()
    else:
        raise RuntimeError("no free Redis database among 1..15")
    try:
        yield f"{base}/{number}"
    finally:
        client.flushdb()
        client.close()


def use_database(env: dict[str, str]) -> None:
    """Set Django up in this process on the site's database (users, sessions, reading
    replies) and migrate it. The harness reads the database from its event loop on purpose,
    in short calls; the server processes never get DJANGO_ALLOW_ASYNC_UNSAFE."""
    keys = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "SQLITE_PATH")
    for key in (*keys, "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
        if key in env:
            os.environ[key] = env[key]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def user_session(username: str) -> str:
    from bench.site import login_session

    return login_session(username)[1]


def new_conversation(session: str, model: str) -> int:
    """A conversation of the session's user, made through the ORM (the site's caps on new
    conversations are not what is measured)."""
    from django.contrib.sessions.backends.db import SessionStore

    from chat.models import Conversation

    user_id = int(SessionStore(session_key=session)["_auth_user_id"])
    return int(Conversation.objects.create(owner_id=user_id, model=model, title="bench").pk)


async def post_json(port: int, session: str, path: str, body: object) -> tuple[int, object]:
    response = await request(
        port, "POST", path, site_headers(port, session), json.dumps(body).encode()
    )
    data = await response.read()
    response.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data.decode("utf-8", "replace")[:200]


async def send_message(port: int, session: str, conversation: int, text: str) -> tuple[int, str]:
    """POST a message; returns the reply's id and its event-stream path."""
    status, answer = await post_json(
        port, session, f"/api/conversations/{conversation}/messages", {"content": text}
    )
    if status != 202 or not isinstance(answer, dict):
        raise RuntimeError(f"message refused: {status} {answer}")
    return int(answer["reply"]["id"]), str(answer["stream_url"])


@dataclass
class Watch:
    """What one reader of a reply's event stream saw, as a browser's EventSource would:
    it reconnects with Last-Event-ID when the stream closes before `end`."""

    opened: list[float] = field(default_factory=list)  # time.time() of each connection
    statuses: list[int] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    text: str = ""
    last_id: str | None = None
    end_at: float | None = None  # time.time() when `end` arrived
    end: dict[str, object] | None = None

    def apply(self, kind: str, event_id: str | None, data: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if event_id is not None:
            self.last_id = event_id
        if kind not in ("delta", "snapshot", "end"):
            return
        payload = json.loads(data)
        if kind == "delta":
            self.text += str(payload.get("text", ""))
        elif kind == "snapshot":
            self.text = str(payload.get("content", payload.get("text", "")))
        else:
            self.end_at = time.time()
            self.end = payload


async def watch(
    port: int, session: str, path: str, record: Watch, within: float, retry: float = 1.0
) -> None:
    """Read the stream at `path` until `end`, reconnecting after `retry` seconds when it
    closes; give up after `within` seconds in all."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_follow(port, session, path, record, retry), within)


async def _follow(port: int, session: str, path: str, record: Watch, retry: float) -> None:
    headers = {**site_headers(port, session), "Accept": "text/event-stream"}
    del headers["Content-Type"]
    while record.end is None:
        if record.last_id is not None:
            headers["Last-Event-ID"] = record.last_id
        record.opened.append(time.time())
        try:
            response = await request(port, "GET", path, headers)
        except OSError:
            await asyncio.sleep(retry)
            continue
        record.statuses.append(response.status)
        try:
            if response.status != 200:
                await response.read()
                return
            buf = b""
            async for _now, payload in response.body_parts():
                buf += payload
                *frames, buf = buf.split(b"\n\n")
                for frame in frames:
                    if _apply_frame(record, frame.decode()) == "end":
                        return
        finally:
            response.close()
        await asyncio.sleep(retry)


def _apply_frame(record: Watch, frame: str) -> str:
    """Apply one SSE event; returns its type (`comment` for a comment or a retry)."""
    kind, event_id, data = "message", None, []
    for line in frame.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            kind = value
        elif name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
    if not data:
        return "comment"
    record.apply(kind, event_id, "\n".join(data))
    return kind


async def page_load(port: int, session: str, path: str = "/") -> float:
    """Seconds to GET a page and read all of it."""
    t0 = time.perf_counter()
    response = await request(port, "GET", path, site_headers(port, session))
    await response.read()
    response.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return time.perf_counter() - t0


class MachineLoad:
    """How much CPU the machine's other work used while a measurement ran, in cores:
    everything but this process and the process trees passed in."""

    def __init__(self, own_pids: Sequence[int]) -> None:
        self.pids = list(own_pids)
        self.t0 = time.monotonic()
        self.machine0 = machine_cpu_seconds()
        self.own0 = self._own()

    def _own(self) -> float:
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        return own + sum(tree_cpu_seconds(p) for p in self.pids)

    def others(self) -> float:
        machine = machine_cpu_seconds() - self.machine0
        own = self._own() - self.own0
        return max(0.0, (machine - own) / max(time.monotonic() - self.t0, 1e-6))


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]
