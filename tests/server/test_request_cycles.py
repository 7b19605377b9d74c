"""A request served through the site's ASGI handler is freed by reference counting when it
ends (chat/server/middleware.py): nothing of it is left for the garbage collector, whose full
passes over tens of thousands of such objects paused every stream for tens of milliseconds;
and the generation a request starts keeps nothing of it (chat/server/process.py)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from chat.replies.feed import Feed
from chat.server import middleware, process

pytestmark = pytest.mark.django_db(transaction=True)


HANDLER = middleware.ASGIHandler()  # one for the process, as chatsite/asgi.py makes it


@pytest.fixture
def garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable from here on (kept, not freed, to be looked at)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def serve(path: str) -> list[dict[str, Any]]:
    """GET `path` through the handler; the client disconnects once the response is over."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            incoming.put_nowait({"type": "http.disconnect"})

    await HANDLER(scope(path), incoming.get, send)
    return sent


async def test_a_served_request_leaves_no_cycle_behind(garbage: list[object]) -> None:
    await serve("/api/conversations")  # warm: first imports and caches
    gc.collect()
    garbage.clear()

    sent = await serve("/api/conversations")  # through every middleware, to the view
    gc.collect()

    assert sent[0]["status"] == 401
    assert not HANDLER._serving  # the handler let go of it too
    left = {type(o).__name__ for o in garbage}
    assert not left & {"ASGIRequest", "RequestAborted", "SessionStore", "ResolverMatch"}, left


def test_an_abandoned_feed_lets_go_of_its_generation() -> None:
    feed = Feed(1)
    feed.on_stop = lambda: None
    feed.abandon()
    assert feed.on_stop is None and feed.closed


class Probe:
    """Something a request's context holds."""


async def test_a_generation_keeps_nothing_of_the_context_it_was_started_in() -> None:
    held: contextvars.ContextVar[Probe] = contextvars.ContextVar("held")
    box = [Probe()]
    gone = weakref.ref(box[0])
    release = asyncio.Event()

    async def generation() -> None:
        await release.wait()

    def start() -> asyncio.Task[None]:  # as a request does: its context holds the probe
        held.set(box.pop())
        task = process.start_generation(generation())
        process.detach(task, lambda _task: None)
        return task

    task = contextvars.copy_context().run(start)
    assert gone() is None  # freed while the generation runs on
    release.set()
    await task
