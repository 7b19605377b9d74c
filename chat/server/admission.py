"""Admission: how many requests the process answers at once, and in what order.

An event loop runs whatever is ready in turn. Fifty messages sent at once all start at once and
advance together, a little each: every one is answered near the end of the burst, and every
reply's first token comes about when the last one's does. `Admission` (an ASGI middleware,
chatsite/asgi.py) lets CHAT_REQUEST_THREADS requests be answered at a time and queues the rest
in the order they came, as WSGI workers take requests from their listening socket: in a burst
the first requests are answered first, and their replies stream while later ones wait. On
this project's bench, 50 replies started at once reached their median first token about 30 %
sooner, and the last one about a tenth later, the earlier replies' streaming now running
meanwhile; two processes behind one listening socket did worse with it (BENCHMARKS.md).

A request holds its place until its response starts (its headers are sent), or for HOLD_S at
most: a request that waits that long is most likely waiting on something other than this
process's CPU (a database lock, a password's hash on its thread), and its place goes to the
next request meanwhile. A reply's event stream and its stop are never queued: a stream is the
second half of a request already answered, and a stop is what the user waits on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings

from chat.server.threads import FIRST

HOLD_S = 0.1


class Place:
    """One request's place of `places` (asyncio's semaphore hands them out in the order they
    were asked for): given back once, at whichever comes first of its response's start,
    `hold_s` and its end."""

    def __init__(self, places: asyncio.Semaphore, hold_s: float) -> None:
        self._places: asyncio.Semaphore | None = places
        self._timer = asyncio.get_running_loop().call_later(hold_s, self.give_back)

    def give_back(self) -> None:
        places, self._places = self._places, None
        if places is not None:
            self._timer.cancel()
            places.release()


class Admission:
    def __init__(self, app: Any, hold_s: float = HOLD_S) -> None:
        self.app = app
        self.hold_s = hold_s
        self._places: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or FIRST.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self._places is None:  # settings are read at the first request, as RequestThreads does
            self._places = asyncio.Semaphore(settings.CHAT_REQUEST_THREADS)
        await self._places.acquire()
        place = Place(self._places, self.hold_s)

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                place.give_back()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            place.give_back()
