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
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings


class RequestThreads:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._executors: list[ThreadPoolExecutor] = []
        self._turn: itertools.cycle[ThreadPoolExecutor] | None = None

    def _next_executor(self) -> ThreadPoolExecutor:
        if self._turn is None:
            self._executors = [
                ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{n}")
                for n in range(settings.CHAT_REQUEST_THREADS)
            ]
            self._turn = itertools.cycle(self._executors)
        return next(self._turn)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with ThreadSensitiveContext(executor=self._next_executor()):
            await self.app(scope, receive, send)
