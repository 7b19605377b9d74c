"""A reply's text between processes: Redis publish/subscribe on one connection per process.

A generation whose reply is followed from another process (its first `reply.sync`) publishes
each run of new pieces, a `reply.delta` (chat/replies/messages.py), to the reply's Redis
channel. A process with listeners of that reply is subscribed to the channel once, on its one
subscriber connection, and puts each message into the inbox of each of those listeners.

Through the channel layer, each message cost a Lua script and a list per receiving channel in
Redis, and each process read its messages one blocking pop (a round trip) at a time: two
processes could not carry 50 streams (BENCHMARKS.md). Here Redis pushes every message to the
subscriber as it is published, and the process reads them as fast as they come.

Pub/sub keeps nothing: a message published while no process listens, or that a full inbox
cannot take (its browser is not reading), is lost; the listener sees the gap in the sequence
numbers and asks the generation for a catch-up through the channel layer, which also carries
the catch-ups and the reply's end (chat/replies/listener.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from chat.replies.messages import DeltaMessage, ListenerMessage
from chat.server.layer import layer_config, redis_pool

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 5.0


class Inbox:
    """One listener's messages in arrival order. Deltas are dropped once `capacity` are
    waiting (the sequence numbers show the gap); catch-ups and ends are always kept.

    While its listener waits on an empty inbox, `direct` (if set) is offered each message
    first: it writes a delta straight to the listener's connection and returns True, or
    returns False and the message is queued as usual."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.messages: deque[ListenerMessage] = deque()
        self.dropped = 0  # deltas dropped since the inbox was last full
        self.direct: Callable[[ListenerMessage], bool] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put(self, message: ListenerMessage, droppable: bool = False) -> None:
        if self.direct is not None and not self.messages and self.direct(message):
            return
        if droppable and len(self.messages) >= self.capacity:
            if not self.dropped:
                log.info("reply relay: an inbox is full (%d); deltas dropped", self.capacity)
            self.dropped += 1
            return
        self.messages.append(message)
        self.wake()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self, wait: float) -> ListenerMessage | None:
        """The next message, or None after `wait` seconds or a `wake()`."""
        if not self.messages:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(wait, self.wake)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if not self.messages:
            return None
        self.dropped = 0
        return self.messages.popleft()


class Relay:
    """This event loop's publisher and subscriber (one per process under daphne)."""

    def __init__(self) -> None:
        self.prefix = f"{layer_config().get('prefix', 'chat')}:reply:"
        self.redis = Redis(connection_pool=redis_pool())
        self.pubsub = self.redis.pubsub()
        self.inboxes: dict[str, set[Inbox]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        # One (un)subscription at a time: redis-py's PubSub takes its connection on its first
        # command, and two first commands at once each took one, leaving a subscription on a
        # connection nobody read (its reply's text was published into the void).
        self._subscribing = asyncio.Lock()

    async def publish(self, reply_id: int, message: DeltaMessage) -> None:
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        await self.redis.publish(self.channel(reply_id), data.encode())

    def channel(self, reply_id: int) -> str:
        """The reply's Redis channel (the layer's prefix keeps sites sharing a Redis apart)."""
        return f"{self.prefix}{reply_id}"

    async def follow(self, reply_id: int, inbox: Inbox) -> None:
        """Put the reply's published messages into `inbox` from now on: returns once Redis
        has confirmed the subscription (what is published after that reaches the inbox)."""
        name = self.channel(reply_id)
        followers = self.inboxes.setdefault(name, set())
        followers.add(inbox)
        confirmed = self._confirmed.get(name)
        if confirmed is None:
            confirmed = self._confirmed[name] = asyncio.get_running_loop().create_future()
            try:
                async with self._subscribing:
                    await self.pubsub.subscribe(name)
            except BaseException:
                self._confirmed.pop(name, None)
                raise
            if self._reader is None or self._reader.done():
                self._reader = asyncio.get_running_loop().create_task(self._read())
        await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)

    async def unfollow(self, reply_id: int, inbox: Inbox) -> None:
        name = self.channel(reply_id)
        followers = self.inboxes.get(name)
        if followers is None:
            return
        followers.discard(inbox)
        if not followers:
            del self.inboxes[name]
            self._confirmed.pop(name, None)
            async with self._subscribing:
                await self.pubsub.unsubscribe(name)

    async def _read(self) -> None:
        """Until nothing is subscribed (a later subscription starts another reader)."""
        while self.pubsub.subscribed:
            try:
                message = await self.pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis restarted, say: redis-py reconnects and resubscribes
                log.warning("reply relay: reading from Redis failed", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            try:
                if message is not None:
                    self._dispatch(message)
            except Exception:  # not the site's message: nothing else waits for it
                log.warning("reply relay: a message could not be read", exc_info=True)

    def _dispatch(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode()
        if message["type"] == "message":
            delta: DeltaMessage = json.loads(message["data"])
            if not isinstance(delta, dict) or delta.get("type") != "reply.delta":
                raise ValueError(f"not a reply.delta on {name}")
            for inbox in self.inboxes.get(name, ()):
                inbox.put(delta, droppable=True)
        elif message["type"] == "subscribe":
            confirmed = self._confirmed.get(name)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait({self._reader})
        await self.pubsub.aclose()
        await self.redis.aclose()


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay] = weakref.WeakKeyDictionary()


def relay() -> Relay:
    """The running event loop's relay, made on first use."""
    loop = asyncio.get_running_loop()
    found = _relays.get(loop)
    if found is None:
        found = _relays[loop] = Relay()
    return found


async def close_relay() -> None:
    """Close this loop's relay (a process shutting down, a test's loop)."""
    found = _relays.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
