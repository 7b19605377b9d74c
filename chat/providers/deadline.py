"""A time limit on each read of an upstream's body, for the cost of a clock read per read.

`asyncio.timeout()` around every read arms and cancels a timer each time: about 15 µs per
chunk, several percent of the relay's CPU per chunk. A `ReadDeadline` keeps one timer per
body and re-arms it lazily: when the timer fires it looks at the read under way, cancels it if
it has run past its limit, and otherwise sleeps until it would. The cancellation is turned into
a timeout as `asyncio.timeout()` does (and a cancellation from elsewhere stays one).
"""

from __future__ import annotations

import asyncio


class ReadDeadline:
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._since = 0.0  # loop time the read under way began; 0.0: no read under way
        self._limit = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._expired = False

    def begin(self, limit: float) -> None:
        """A read starts, in the current task, and may take `limit` seconds."""
        self._task = asyncio.current_task()
        self._since, self._limit = self._loop.time(), limit
        if self._timer is None:
            self._timer = self._loop.call_at(self._since + limit, self._check)

    def end(self) -> None:
        self._since = 0.0

    def timed_out(self) -> bool:
        """After a CancelledError in a read: whether this deadline caused it, and nothing
        else cancelled the task too (then the read timed out, and the cancellation is spent)."""
        if not self._expired or self._task is None:
            return False
        self._expired = False
        return self._task.uncancel() == 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        if not self._since or self._task is None:
            return  # no read under way: the next one re-arms the timer
        due = self._since + self._limit
        if self._loop.time() >= due:
            self._expired = True
            self._task.cancel()
        else:
            self._timer = self._loop.call_at(due, self._check)
