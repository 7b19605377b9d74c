"""Admission (chat/server/admission.py) answers CHAT_REQUEST_THREADS requests at a time, the
others in the order they came; a request's place comes free when its response starts, when it
ends, or after the hold time; a reply's event stream and stop are never queued."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from django.test import override_settings

from chat.server.admission import Admission
from tests.support.waiting import until


def free(places: asyncio.Semaphore) -> int:
    return places._value  # type: ignore[attr-defined]  (the places not taken)


async def test_places_go_in_the_order_they_were_asked_for() -> None:
    places = asyncio.Semaphore(1)
    await places.acquire()
    got: list[int] = []

    async def wait_for_one(n: int) -> None:
        await places.acquire()
        got.append(n)

    waiting = [asyncio.ensure_future(wait_for_one(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert got == []
    for n in range(3):
        places.release()
        await until(functools.partial(lambda count: len(got) == count, n + 1))
    assert got == [0, 1, 2]
    await asyncio.gather(*waiting)
    places.release()
    assert free(places) == 1


async def test_a_request_that_goes_away_while_queued_takes_no_place() -> None:
    places = asyncio.Semaphore(1)
    await places.acquire()
    gone = asyncio.ensure_future(places.acquire())
    after = asyncio.ensure_future(places.acquire())
    await asyncio.sleep(0.01)
    gone.cancel()
    await asyncio.sleep(0.01)
    places.release()  # goes to `after`, not to the request that went away
    await asyncio.wait_for(after, 5)
    places.release()
    assert free(places) == 1


async def test_a_place_handed_over_as_its_request_goes_away_is_given_on() -> None:
    places = asyncio.Semaphore(1)
    await places.acquire()
    gone = asyncio.ensure_future(places.acquire())
    after = asyncio.ensure_future(places.acquire())
    await asyncio.sleep(0.01)
    places.release()  # hands the place to `gone`, which is cancelled before it runs
    gone.cancel()
    await asyncio.wait_for(after, 5)
    places.release()
    assert free(places) == 1


class App:
    """An ASGI app whose requests start their response, or end, when the test says."""

    def __init__(self) -> None:
        self.running: list[str] = []
        self.respond: dict[str, asyncio.Event] = {}
        self.end: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        self.respond[path], self.end[path] = asyncio.Event(), asyncio.Event()
        self.running.append(path)
        await self.respond[path].wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await self.end[path].wait()
        await send({"type": "http.response.body", "body": b""})


def start(handler: Admission, path: str, sent: list[dict[str, Any]]) -> asyncio.Task[None]:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path}
    return asyncio.ensure_future(handler(scope, None, send))


@override_settings(CHAT_REQUEST_THREADS=2)
async def test_requests_beyond_the_places_wait_until_a_response_starts() -> None:
    app, sent = App(), list[dict[str, Any]]()
    handler = Admission(app, hold_s=60)
    tasks = [start(handler, f"/api/conversations/{n}/messages", sent) for n in range(4)]
    await until(lambda: len(app.running) == 2)
    await asyncio.sleep(0.05)
    assert app.running == ["/api/conversations/0/messages", "/api/conversations/1/messages"]

    # The second request's response starts: the third is let in, not the fourth.
    app.respond["/api/conversations/1/messages"].set()
    await until(lambda: len(app.running) == 3)
    assert app.running[2] == "/api/conversations/2/messages"
    assert sent == [{"type": "http.response.start", "status": 200, "headers": []}]

    # The first request ends with an error before any response: its place goes on too.
    tasks[0].cancel()
    await until(lambda: len(app.running) == 4)
    assert app.running[3] == "/api/conversations/3/messages"
    for path in app.running[1:]:
        app.respond[path].set()
        app.end[path].set()
    await asyncio.wait_for(asyncio.gather(*tasks[1:]), 5)
    assert handler._places is not None and free(handler._places) == 2


@override_settings(CHAT_REQUEST_THREADS=1)
async def test_a_request_that_holds_its_place_too_long_lets_the_next_one_in() -> None:
    app, sent = App(), list[dict[str, Any]]()
    handler = Admission(app, hold_s=0.05)
    slow = start(handler, "/api/conversations/1/messages", sent)
    await until(lambda: len(app.running) == 1)
    waiting = start(handler, "/api/conversations/2/messages", sent)
    await until(lambda: len(app.running) == 2)  # after hold_s, with the first still unanswered
    for path in app.running:
        app.respond[path].set()
        app.end[path].set()
    await asyncio.wait_for(asyncio.gather(slow, waiting), 5)
    # Each place went back once: the first's at its hold time, not again at its response.
    assert handler._places is not None and free(handler._places) == 1


@override_settings(CHAT_REQUEST_THREADS=1)
async def test_a_reply_s_stream_and_stop_are_never_queued() -> None:
    app, sent = App(), list[dict[str, Any]]()
    handler = Admission(app, hold_s=60)
    busy = start(handler, "/api/conversations/1/messages", sent)
    await until(lambda: len(app.running) == 1)
    stream = start(handler, "/api/replies/7/events", sent)
    stop = start(handler, "/api/replies/7/stop", sent)
    queued = start(handler, "/", sent)
    await until(lambda: len(app.running) == 3)
    await asyncio.sleep(0.05)
    assert app.running == [
        "/api/conversations/1/messages",
        "/api/replies/7/events",
        "/api/replies/7/stop",
    ]
    for path in list(app.running):
        app.respond[path].set()
        app.end[path].set()
    await until(lambda: len(app.running) == 4)
    app.respond["/"].set()
    app.end["/"].set()
    await asyncio.wait_for(asyncio.gather(busy, stream, stop, queued), 5)


async def test_other_connections_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    handler = Admission(app)
    await handler({"type": "lifespan"}, None, None)
    await handler({"type": "websocket", "path": "/ws"}, None, None)
    assert seen == ["lifespan", "websocket"]
    assert handler._places is None
