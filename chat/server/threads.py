"""The threads that run requests' synchronous work (middleware, ORM calls, templates).

Django's ASGI handler gives every request a thread of its own for its synchronous work, alive
until the response ends: for an event stream, as long as the stream is open. That thread and
its database connection were most of the memory of an open stream (about 200 KB each, measured
in bench/), and opening a new SQLite connection per request cost about 2.5 ms of CPU.

`RequestThreads` (an ASGI middleware, chatsite/asgi.py) instead runs each request's
synchronous work on one of CHAT_REQUEST_THREADS long-lived threads, taken in turn, through
asgiref's ThreadSensitiveContext with an executor of our own (Django's own context then
defers to it). A request still runs all its synchronous work on one thread, one call at a
time, as Django requires; requests share threads the way WSGI workers do, and with them the
threads' database connections (kept open on SQLite, returned to the pool on PostgreSQL).

A request's work is several calls (Django's request_started, the session's user, the view's
work, request_finished), each queued on its thread when the one before it ends. Taken in the
order they were queued, the calls of a burst's messages went round in turn, and a reply's event
stream, asked for once its message was answered, queued behind the calls of every message sent
after its own: of 50 messages sent at once, the first stream opened after most messages were
answered. So each thread takes the queued call of the oldest request first (`OldestFirst`),
and those of a reply's event stream or stop before any other's: a reply's stream is the second
half of a request already answered, a stop is what the user waits on, and both are short.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

# A reply's event stream (GET) and its stop (POST).
FIRST = re.compile(r"/api/replies/[0-9]{1,18}/(events|stop)")

# The current request's place in its thread's queue: (0 for a reply's event stream or stop,
# else 1; the order in which the process received the request). Outside a request: last.
_order: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar(
    "request_order", default=(2, 0)
)
_received = itertools.count()


class OldestFirst(Executor):
    """One thread that runs the calls submitted to it, those of the request with the smallest
    order first (in the order they came within a request)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: list[tuple[tuple[int, int], int, Future[Any], Callable[[], Any]]] = []
        self._submitted = itertools.count()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        call = (_order.get(), next(self._submitted), future, lambda: fn(*args, **kwargs))
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot run new calls after shutdown")
            heapq.heappush(self._queue, call)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                *_, future, call = heapq.heappop(self._queue)
            if future.set_running_or_notify_cancel():
                _run(future, call)
            del future, call  # nothing of the call is kept while the thread waits

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._ready:
            self._closed = True
            if cancel_futures:
                for *_, future, _call in self._queue:
                    future.cancel()
            self._ready.notify()
        if wait and self._thread is not None:
            self._thread.join()


def _run(future: Future[Any], call: Callable[[], Any]) -> None:
    try:
        result = call()
    except BaseException as exc:  # handed to the awaiting request, as an executor does
        future.set_exception(exc)
    else:
        future.set_result(result)


class RequestThreads:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._executors: list[OldestFirst] = []
        self._turn: itertools.cycle[OldestFirst] | None = None

    def _next_executor(self) -> OldestFirst:
        if self._turn is None:
            self._executors = [
                OldestFirst(f"request-{n}") for n in range(settings.CHAT_REQUEST_THREADS)
            ]
            self._turn = itertools.cycle(self._executors)
        return next(self._turn)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        first = FIRST.fullmatch(scope["path"]) is not None
        token = _order.set((0 if first else 1, next(_received)))
        try:
            async with ThreadSensitiveContext(executor=self._next_executor()):
                await self.app(scope, receive, send)
        finally:
            _order.reset(token)
