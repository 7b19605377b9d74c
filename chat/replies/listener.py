"""The listener side of a reply: what one event-stream connection sends.

A listener in the process running the reply's generation reads its feed (chat/replies/feed.py):
each time text arrives it writes everything it has not sent yet as one event, and while the
browser is not reading (chat/server/flow.py) it writes nothing and only falls behind.

A listener in another process (a shared channel layer, Redis) subscribes to the reply's
published text (chat/replies/relay.py), joins the reply's group on the channel layer
(chat/replies/messages.py), then asks the generation for everything after the last sequence
number this client has (`reply.sync`). Its answer (`reply.catchup`) and the published
`reply.delta` messages carry sequence numbers, so duplicates are dropped and a gap (a full
inbox dropped messages) triggers a new sync; the rules are in chat/replies/sequence.py.
`reply.end`, to the group, carries the final reply. While the browser is not reading, the
listener leaves its messages in its inbox: a full inbox drops further deltas, and the gap is
caught up in one event once the browser reads again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import translation

from chat import sse
from chat.models import Message
from chat.replies import endwatch, store
from chat.replies.feed import Feed, local_feed
from chat.replies.messages import (
    LOCAL_CHANNEL_PREFIX,
    EndMessage,
    ListenerMessage,
    SyncMessage,
    end_payload,
    group_name,
    layer_is_shared,
    survive,
)
from chat.replies.outcome import for_reader
from chat.replies.relay import Inbox, relay
from chat.replies.sequence import Position, Send, end_id
from chat.server.flow import Flow
from chat.server.process import in_request_thread

log = logging.getLogger(__name__)

SYNC_TIMEOUT = 2.0


def _frame(send: Send) -> bytes:
    return sse.text_frame(send.event, send.text, send.reasoning, send.seq)


class Listener:
    def __init__(
        self, reply: Message, last_event_id: int | None, flow: Flow, language: str | None = None
    ) -> None:
        self.reply = reply
        self.flow = flow
        # The reader's language, for the end's messages: the stream's task keeps no
        # translation state of its own while it is open (None: the one active now).
        self.language = language or translation.get_language() or settings.LANGUAGE_CODE
        self.layer = get_channel_layer()
        self.position = Position(last_event_id)
        self.sync_sent_at = 0.0
        self.closes_at = 0.0
        self._woken: asyncio.Future[None] | None = None

    async def events(self) -> AsyncIterator[bytes]:
        """The stream's bytes. A failure ends it (logged): an exception escaping a streaming
        response would leave daphne's connection open and silent, while an ended stream makes
        the browser reconnect with its Last-Event-ID and pick up where it was."""
        yield sse.retry(1000)
        try:
            if self.reply.is_finished:
                yield self._end(store.end_message(self.reply))
                return
            self.closes_at = time.monotonic() + settings.CHAT_STREAM_MAX_AGE
            self.flow.start()
            feed = local_feed(self.reply.pk)
            if feed is not None:
                async for chunk in self._follow_feed(feed):
                    yield chunk
                if not feed.closed or feed.end is not None:
                    return
            # No feed: the generation runs in another process, or has just ended. A feed closed
            # without an end: its generation could not save the reply (the sweeper will).
            if (ended := await self._check_database()) is not None:
                yield ended
                return
            async for chunk in self._follow_group():
                yield chunk
        except Exception:
            log.exception("event stream of reply %s failed; closed to be reopened", self.reply.pk)
        finally:
            self.flow.release()

    def _end(self, end: EndMessage) -> bytes:
        with translation.override(self.language):
            payload = for_reader(end_payload(end))
        return sse.frame("end", payload, end_id(end["seq"], self.position.last))

    async def _follow_feed(self, feed: Feed) -> AsyncIterator[bytes]:
        position = self.position
        for send in position.catchup(feed.catchup(position.last)):
            yield _frame(send)
        while (remaining := self.closes_at - time.monotonic()) > 0:
            last = position.last or 0
            if self.flow.paused:
                await self.flow.resumed(remaining)
            elif feed.seq > last:
                text, reasoning = feed.since(last)
                position.last = feed.seq
                yield sse.text_frame("delta", text, reasoning, feed.seq)
            elif feed.closed:
                if feed.end is not None:
                    yield self._end(feed.end)
                return
            else:
                within = min(settings.CHAT_PING_INTERVAL, remaining)
                if self.flow.direct:
                    await self._pushed_to(feed, within)
                else:
                    await feed.wait(last, within)
                if position.last == last and feed.seq == last and not feed.closed:
                    yield sse.PING

    async def _pushed_to(self, feed: Feed, within: float) -> None:
        """Let the generation write each new piece straight to this connection (`push`) for
        up to `within` seconds, or until the feed seals, or a write cannot be made."""
        loop = asyncio.get_running_loop()
        self._woken = waiter = loop.create_future()
        timer = loop.call_later(within, self.wake)
        feed.attach(self)
        try:
            await waiter
        finally:
            timer.cancel()
            feed.detach(self)
            self._woken = None

    def push(self, feed: Feed) -> None:
        last = self.position.last or 0
        text, reasoning = feed.since(last)
        if self.flow.write(sse.text_frame("delta", text, reasoning, feed.seq)):
            self.position.last = feed.seq
        else:
            self.wake()  # the usual path sends it (or waits for the connection)

    def wake(self) -> None:
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)

    async def _follow_group(self) -> AsyncIterator[bytes]:
        """Follow a reply generated in another process: its deltas through the relay
        (chat/replies/relay.py), its catch-ups and its end through the channel layer, all into
        one inbox. Every call may fail (a lost message, in effect): a failed subscription or
        join is tried again, a failed sync is asked again after SYNC_TIMEOUT, and the reply's
        end comes from the database if the layer loses it (chat/replies/endwatch.py)."""
        position = self.position
        channel = await self.layer.new_channel(LOCAL_CHANNEL_PREFIX)
        group = group_name(self.reply.pk)
        inbox = Inbox(settings.CHANNEL_CAPACITY)
        ended = endwatch.watch(self.reply.pk)
        ended.add_done_callback(lambda _: inbox.wake())
        receiving = asyncio.ensure_future(_receive_into(self.layer, channel, inbox))
        published = relay() if layer_is_shared() else None  # one process: nothing published
        following, joined = published is None, False
        try:
            while (remaining := self.closes_at - time.monotonic()) > 0:
                if published is not None and not following:
                    following = await survive(published.follow(self.reply.pk, inbox))
                # Subscribed first: what the generation publishes after its catch-up arrives.
                if (
                    following
                    and not joined
                    and (joined := await survive(self.layer.group_add(group, channel)))
                ):
                    await self._request_sync(channel)
                if self.flow.paused:  # the inbox keeps the messages meanwhile, up to its capacity
                    if await self.flow.resumed(remaining):
                        # What the full inbox dropped meanwhile comes with one catch-up.
                        await self._request_sync(channel)
                    continue
                wait = min(settings.CHAT_PING_INTERVAL, remaining)
                if not (joined and position.synced):
                    wait = min(wait, max(0.05, self.sync_sent_at + SYNC_TIMEOUT - time.monotonic()))
                # Meanwhile the relay's reader writes each delta straight to the connection.
                if joined and position.synced and self.flow.direct:
                    inbox.direct = self._take
                try:
                    message = await inbox.get(wait)
                finally:
                    inbox.direct = None
                if ended.done() and (frame := await self._check_database()) is not None:
                    yield frame
                    return
                if message is None:
                    if joined and not position.synced:
                        if time.monotonic() - self.sync_sent_at >= SYNC_TIMEOUT:
                            # No answer: the generation may be gone, or have moved.
                            if (frame := await self._check_database()) is not None:
                                yield frame
                                return
                            await self._request_sync(channel)
                        continue
                    yield sse.PING
                    continue
                if message["type"] == "reply.end":
                    yield self._end(message)
                    return
                if message["type"] == "reply.catchup":
                    for send in position.catchup(message):
                        yield _frame(send)
                    if not position.synced:  # an old answer, or a gap right after it
                        await self._request_sync(channel)
                    continue
                was_synced = position.synced
                if (sent := position.delta(message)) is not None:
                    yield _frame(sent)
                if was_synced and not position.synced:  # a gap: the inbox dropped messages
                    log.info("reply %s: a gap after event %s", self.reply.pk, position.last)
                    await self._request_sync(channel)
            # Out of time: the page reconnects with Last-Event-ID and continues seamlessly.
        finally:
            # Also runs on client disconnect (CancelledError); the generation is untouched.
            endwatch.unwatch(self.reply.pk, ended)
            receiving.cancel()
            if published is not None:
                await asyncio.shield(survive(published.unfollow(self.reply.pk, inbox)))
            if joined:
                await asyncio.shield(survive(self.layer.group_discard(group, channel)))

    def _take(self, message: ListenerMessage) -> bool:
        """Write a published delta to the connection now, on the relay's reader task (as
        `push` does for a local feed): True once written, or if it brings nothing new. A gap,
        any other message, or a connection that cannot take the write is left to the
        listener's own loop (False), with the position as it was."""
        position = self.position
        if message["type"] != "reply.delta" or not position.synced:
            return False
        last = position.last
        sent = position.delta(message)
        if sent is None and position.synced:
            return True  # the catch-up brought all of it
        if sent is not None and self.flow.write(_frame(sent)):
            return True
        position.last, position.synced = last, True
        return False

    async def _request_sync(self, channel: str) -> None:
        self.position.resync()
        self.sync_sent_at = time.monotonic()
        worker = self.reply.worker_channel
        if worker:  # refused or lost: asked again after SYNC_TIMEOUT
            sync: SyncMessage = {
                "type": "reply.sync",
                "reply_to": channel,
                "after": self.position.last,
            }
            await survive(self.layer.send(worker, sync))

    async def _check_database(self) -> bytes | None:
        reply = await in_request_thread(store.load_reply)(self.reply.pk)
        if reply is None:
            # After the last piece sent, as the generation's own end would be.
            return sse.frame("end", store.DELETED_END, end_id(1, self.position.last))
        if reply.is_finished:
            return self._end(store.end_message(reply))
        self.reply = reply  # its generation may have moved (a retry of the stop, a new channel)
        return None


async def _receive_into(layer: Any, channel: str, inbox: Inbox) -> None:
    """The layer's messages to this listener (catch-ups, the end) into its inbox, until
    cancelled. A failing layer is tried again after a pause."""
    while True:
        try:
            message: ListenerMessage = await layer.receive(channel)
        except Exception:
            # redis-py may end a cancelled pop with an error instead of the cancellation.
            if (task := asyncio.current_task()) is not None and task.cancelling():
                return
            log.warning("channel layer receive failed", exc_info=True)
            await asyncio.sleep(0.5)
            continue
        inbox.put(message)
