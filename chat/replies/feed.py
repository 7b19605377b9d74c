"""A reply's text as its generation produces it, read directly by listeners in the same process.

The generation appends each piece of text the upstream sends; it becomes sequence number n,
and `since(n)` is everything after it. A listener in the same process waits on the feed and
writes whatever arrived since its last write as one event: deltas that arrive together go out
together, a lone delta goes out at once, and a reader that cannot keep up costs no memory of
its own (it is only a sequence number behind). Listeners in other processes get the same
sequence numbers through the channel layer (the generation's publisher, the listener).

A listener that has sent everything and whose connection can take a write now attaches itself
as a reader: each append then writes the new piece to its connection at once, on the
generation's task, with no wake-up of the listener's own task (which waits only for a ping,
the end, or a connection that cannot take the write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from chat.replies.messages import CatchupMessage, EndMessage
from chat.server.process import state


class Reader(Protocol):
    """A listener the generation writes to directly (chat/replies/listener.py)."""

    def push(self, feed: Feed) -> None:
        """Send what arrived since the reader's last write, now (on the generation's task)."""

    def wake(self) -> None:
        """The feed sealed or closed: the reader's own task takes over."""


def local_feed(reply_id: int) -> Feed | None:
    """The feed of a reply whose generation runs in this process, if any."""
    return state.feeds.get(reply_id)


class Feed:
    def __init__(self, reply_id: int, owner_id: int | None = None) -> None:
        self.reply_id = reply_id
        self.owner_id = owner_id  # the user whose reply it is, when known (None: not known)
        self.parts: list[str] = []  # parts[n] is the text of sequence number n + 1
        self.reasoning: list[str] = []
        self.sealed = False  # no more text will come
        self.closed = False  # the reply is saved (or could not be): listeners end
        self.end: EndMessage | None = None  # the `reply.end` message, once saved
        self._waiters: list[asyncio.Future[None]] = []
        self.readers: list[Reader] = []  # written to on each append, not woken
        self.on_stop: Callable[[], None] | None = None  # the generation's stop

    def open(self) -> Feed:
        state.feeds[self.reply_id] = self
        return self

    @property
    def seq(self) -> int:
        return len(self.parts)

    def append(self, text: str, reasoning: str = "") -> None:
        if text or reasoning:
            self.parts.append(text)
            self.reasoning.append(reasoning)
            for reader in tuple(self.readers):
                reader.push(self)
            self._wake()

    def text(self) -> str:
        return "".join(self.parts)

    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    def has_text(self) -> bool:
        return any(self.parts)

    def since(self, after: int) -> tuple[str, str]:
        """The text and reasoning after sequence number `after` (0 <= after <= seq)."""
        if after == len(self.parts) - 1:  # the usual case: one new piece
            return self.parts[after], self.reasoning[after]
        return "".join(self.parts[after:]), "".join(self.reasoning[after:])

    def catchup(self, after: object) -> CatchupMessage:
        """Everything after sequence number `after`, or all of it (`from` None) when `after` is
        not a number this reply has reached (a client with nothing yet, or from elsewhere)."""
        start = after if isinstance(after, int) and 0 <= after <= self.seq else None
        text, reasoning = self.since(start or 0)
        return {
            "type": "reply.catchup",
            "seq": self.seq,
            "from": start,
            "text": text,
            "reasoning": reasoning,
        }

    def request_stop(self) -> None:
        if self.on_stop is not None:
            self.on_stop()

    async def wait_closed(self, within: float) -> None:
        """Return once the feed is closed, or after `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self.closed and (left := deadline - loop.time()) > 0:
            await self.wait(self.seq, left)

    def seal(self) -> None:
        self.sealed = True
        self._wake()

    def close(self, end: EndMessage | None) -> None:
        """The reply ended with `end` (its `reply.end` message), or could not be saved (None:
        listeners ask the database)."""
        self.end = end
        self.sealed = self.closed = True
        if state.feeds.get(self.reply_id) is self:
            del state.feeds[self.reply_id]
        self._wake()

    def abandon(self, _task: object = None) -> None:
        """The generation's task ended: if it never closed the feed (cancelled before it
        started), listeners are not left waiting for it. Nothing is left to stop (and the
        generation, which refers to this feed, is not kept alive by it)."""
        self.on_stop = None
        if not self.closed:
            self.close(None)

    async def wait(self, seen: int, within: float | None, *, until_sealed: bool = False) -> None:
        """Return when there is text after `seen`, the feed is closed (or, `until_sealed`,
        sealed), or after `within` seconds (None: no limit)."""
        if self.seq > seen or self.closed or (until_sealed and self.sealed):
            return
        # A bare future woken by `_wake` or by a timer: no task, set or callback per wake-up.
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = None if within is None else loop.call_later(within, _expire, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            # Not woken by `_wake` (a timeout, or the listener went away): unlisted if it is
            # the last one, as it usually is; otherwise the next `_wake` drops it.
            if self._waiters and self._waiters[-1] is waiter:
                self._waiters.pop()

    def attach(self, reader: Reader) -> None:
        self.readers.append(reader)

    def detach(self, reader: Reader) -> None:
        if reader in self.readers:
            self.readers.remove(reader)

    def _wake(self) -> None:
        if self.sealed:
            for reader in tuple(self.readers):
                reader.wake()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
