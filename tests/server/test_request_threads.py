"""Request threads (chat/server/threads.py) take the calls of the oldest request first, and a
reply's event stream's or stop's before any other request's: in a burst, a request already
under way ends first, and a reply's stream opens behind no message sent after it."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from chat.server import threads
from chat.server.threads import OldestFirst, RequestThreads
from tests.support.waiting import until


def submit_as(executor: OldestFirst, order: tuple[int, int], fn: Any) -> Any:
    """Submit `fn` from within a request of the given order."""
    context = contextvars.copy_context()
    context.run(threads._order.set, order)
    return context.run(executor.submit, fn)


def hold(executor: OldestFirst) -> tuple[threading.Event, Any]:
    """Keep the executor's thread busy (once it is) until the returned event is set."""
    running, gate = threading.Event(), threading.Event()
    busy = executor.submit(lambda: running.set() or gate.wait())
    assert running.wait(5)
    return gate, busy


def test_calls_run_by_their_requests_order_then_as_they_came() -> None:
    executor = OldestFirst("test-oldest-first")
    ran: list[str] = []
    gate, busy = hold(executor)  # the others queue meanwhile
    futures = [
        submit_as(executor, order, lambda name=name: ran.append(name))
        for name, order in [
            ("newer message", (1, 5)),
            ("older message", (1, 3)),
            ("stream", (0, 9)),
            ("older message, second call", (1, 3)),
            ("outside a request", (2, 0)),
        ]
    ]
    gate.set()
    for future in [busy, *futures]:
        future.result(timeout=5)

    assert ran == [
        "stream",
        "older message",
        "older message, second call",
        "newer message",
        "outside a request",
    ]
    executor.shutdown()


def test_a_failing_call_fails_its_future_and_the_thread_goes_on() -> None:
    executor = OldestFirst("test-oldest-first")
    failed = executor.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failed.result(timeout=5)
    assert executor.submit(lambda x: x + 1, 41).result(timeout=5) == 42
    executor.shutdown()


def test_shutdown_refuses_new_calls_and_can_cancel_queued_ones() -> None:
    executor = OldestFirst("test-oldest-first")
    gate, busy = hold(executor)
    queued = executor.submit(lambda: "never")
    executor.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert busy.result(timeout=5) is True
    assert queued.cancelled()
    with pytest.raises(RuntimeError):
        executor.submit(lambda: None)


@override_settings(CHAT_REQUEST_THREADS=1)
async def test_a_reply_s_stream_and_stop_go_before_messages_sent_earlier() -> None:
    holding, gate, ran = threading.Event(), threading.Event(), []

    def hold_the_thread() -> None:
        holding.set()
        gate.wait()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path"]
        if name == "/api/conversations/1/messages":
            await sync_to_async(hold_the_thread)()  # while the others come
        await sync_to_async(ran.append)(f"{name} first call")
        await sync_to_async(ran.append)(f"{name} second call")

    handler = RequestThreads(app)

    def request(method: str, path: str) -> asyncio.Task[None]:
        scope = {"type": "http", "method": method, "path": path}
        return asyncio.ensure_future(handler(scope, None, None))

    first = request("POST", "/api/conversations/1/messages")
    await until(holding.is_set)
    later = [
        request("POST", "/api/conversations/2/messages"),
        request("GET", "/api/replies/7/events"),
        request("POST", "/api/replies/8/stop"),
    ]
    [executor] = handler._executors
    await until(lambda: len(executor._queue) == 3)  # all three have queued their first call
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 10)

    # When the thread comes free, the second message's first call is queued, and so are the
    # stream's and the stop's, sent after it: the stream's and the stop's go first. Each call is
    # queued only once the one before it ends, so where the stream's second call falls (before
    # or after the stop's first) depends on the threads' timing; that no message's call comes
    # before either first call does not.
    first_message_call = next(i for i, call in enumerate(ran) if "/conversations/" in call)
    before = ran[:first_message_call]
    assert "/api/replies/7/events first call" in before, ran
    assert "/api/replies/8/stop first call" in before, ran
    assert len(ran) == 8
