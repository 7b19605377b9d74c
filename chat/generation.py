"""One reply's life: upstream -> text -> listeners -> database.

A Generation runs as an asyncio task in the process that accepted the message, independent of
any browser connection. These loops cooperate:

- the pump reads the provider's events and appends the text to the reply's feed
  (chat/feed.py), where listeners in this process read it directly;
- with a channel layer shared between processes (Redis), the publisher sends what the feed
  gained to the reply's group, for listeners in other processes: one message per send, with
  the pieces of text it covers and the sequence number of the first. While a send is in
  flight, new text accumulates and goes out together in the next one: deltas that arrive
  together are coalesced, a lone delta is never held back;
- with a shared layer only, the control loop answers other processes on the reply's own
  channel: `sync` (send me what I missed after sequence n) and `stop` (in this process, a stop
  comes through the feed).

The partial text is checkpointed at most once per CHAT_CHECKPOINT_INTERVAL, with the other
replies of the process (chat/checkpoints.py), and the final text is rendered and saved once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings

from chat import checkpoints, runtime, store
from chat.feed import Feed
from chat.models import Message
from chat.providers import resolve, timeouts
from chat.providers.base import (
    ChatRequest,
    Finish,
    Provider,
    ReasoningDelta,
    SurrogateJoiner,
    TextDelta,
    UpstreamError,
    Usage,
)

log = logging.getLogger(__name__)


def spawn(reply_id: int, channel: str) -> None:
    """Start a reply's generation as a task of this process (see chat.runtime.start_task)."""
    generation = Generation(reply_id, channel)
    runtime.start_task(generation.run()).add_done_callback(generation.feed.abandon)


class Generation:
    def __init__(self, reply_id: int, channel: str) -> None:
        self.reply_id = reply_id
        self.channel = channel
        self.group = runtime.group_name(reply_id)
        self.layer = get_channel_layer()
        self.feed = Feed(reply_id).open()
        self.usage = Usage()
        self.finish = Finish("stop", "")
        self.first_token_ms: int | None = None
        self.stop_requested = False
        self.pump_task: asyncio.Task[None] | None = None
        self.closing = False
        self.feed.on_stop = self.stop

    def stop(self) -> None:
        """Stop: cancelling the pump closes the upstream's stream, and with it its connection."""
        self.stop_requested = True
        if self.pump_task is not None:
            self.pump_task.cancel()

    async def run(self) -> None:
        self.started = time.monotonic()
        self.pump_task = pump = asyncio.create_task(self.pump())
        if self.stop_requested:  # asked before this task first ran
            pump.cancel()
        # Other processes reach the generation through the channel layer (its control loop)
        # and follow it there (its publisher); within this process, through its feed.
        shared = runtime.layer_is_shared()
        checkpoints.watch(self)
        control = asyncio.create_task(self.control_loop()) if shared else None
        publisher = asyncio.create_task(self.publish_loop()) if shared else None
        status, error = Message.Status.COMPLETE, ""
        try:
            await asyncio.wait({pump})
        except asyncio.CancelledError:
            # Shutdown cancelled run(): cancel the upstream too, then save as interrupted.
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            pump.cancel()
            await asyncio.wait({pump})
            status, error = (
                Message.Status.INTERRUPTED,
                (
                    "The server restarted while this reply was being written; "
                    "the text up to then is kept."
                ),
            )
        else:
            if pump.cancelled() or self.stop_requested:
                status = Message.Status.STOPPED
            elif (exc := pump.exception()) is not None:
                status, error = Message.Status.ERROR, _error_text(exc)
            elif self.finish.reason == "content_filter" and not self.feed.has_text():
                # A refusal with no words (Gemini SAFETY, an Anthropic refusal) must not look
                # like an empty success.
                status, error = (
                    Message.Status.ERROR,
                    (
                        "The provider withheld this reply (content filter"
                        + (f": {self.finish.raw})." if self.finish.raw else ").")
                    ),
                )
        self.feed.seal()
        if publisher is not None:
            await publisher
        # Saved before the checkpointer lets go: its heartbeat goes on until the reply is final
        # (a reply without heartbeat for CHAT_STALE_AFTER is swept as interrupted).
        try:
            await self.save_and_announce(status, error)
        finally:
            checkpoints.forget(self.reply_id)
            self.feed.abandon()
        if control is not None:
            await self._stop_control_loop(control)

    async def pump(self) -> None:
        provider, request = await runtime.in_db_thread(self._prepare)()
        stream = provider.stream(request, timeouts())
        text, reasoning = SurrogateJoiner(), SurrogateJoiner()
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    self._first_token()
                    self.feed.append(text.feed(event.text))
                elif isinstance(event, ReasoningDelta):
                    self._first_token()
                    self.feed.append("", reasoning.feed(event.text))
                elif isinstance(event, Usage):
                    self.usage = event
                elif isinstance(event, Finish):
                    self.finish = event
        except asyncio.CancelledError:
            if not self.stop_requested:
                raise
            # Stopped: fall through so run() sees a normally finished pump with stop set.
        finally:
            # A high surrogate that never got its pair.
            self.feed.append(text.flush(), reasoning.flush())
            await stream.aclose()  # closes the upstream connection, whatever happened

    def _prepare(self) -> tuple[Provider, ChatRequest]:
        reply = store.load_reply(self.reply_id)
        if reply is None:
            raise UpstreamError("This reply was deleted.")
        request = store.history_request(reply, settings.CHAT_MAX_OUTPUT_TOKENS)
        provider, model = resolve(reply.model or reply.conversation.model)
        return provider, replace(request, model=model)

    def _first_token(self) -> None:
        if self.first_token_ms is None:
            self.first_token_ms = int((time.monotonic() - self.started) * 1000)

    async def publish_loop(self) -> None:
        feed, published = self.feed, 0
        while True:
            if feed.seq > published:
                # The pieces themselves, not their concatenation: a listener that is already
                # part-way through this range (its catch-up came meanwhile) skips what it has.
                seq = feed.seq
                message: dict[str, object] = {
                    "type": "reply.delta",
                    "from": published,
                    "parts": feed.parts[published:seq],
                }
                if any(reasoning := feed.reasoning[published:seq]):
                    message["reasoning"] = reasoning
                published = seq
                await self.layer.group_send(self.group, message)
            elif feed.sealed:
                return
            else:
                await feed.wait(published, None, until_sealed=True)

    async def _stop_control_loop(self, control: asyncio.Task[None]) -> None:
        """Told by a message on its own channel, not by cancellation alone: redis-py can turn
        the cancellation of a blocking pop into a TimeoutError, which the loop would take for
        a hiccup."""
        self.closing = True
        with contextlib.suppress(Exception):
            await self.layer.send(self.channel, {"type": "reply.closed"})
        await asyncio.wait({control}, timeout=5)
        control.cancel()  # only matters if the layer lost the message

    async def control_loop(self) -> None:
        while not self.closing:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:  # a layer hiccup must not leave the reply deaf to stop and sync
                if self.closing:
                    return
                log.warning("reply %s: channel layer receive failed", self.reply_id, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            kind = message.get("type")
            if kind == "reply.closed":
                return
            if kind == "reply.stop":
                self.stop()
            elif kind == "reply.sync":  # a full channel drops the answer: the listener re-asks
                with contextlib.suppress(ChannelFull):
                    await self.layer.send(message["reply_to"], self._catchup(message.get("after")))

    def _catchup(self, after: object) -> dict[str, object]:
        feed = self.feed
        start = after if isinstance(after, int) and 0 <= after <= feed.seq else None
        text, reasoning = feed.since(start or 0)
        return {
            "type": "reply.catchup",
            "seq": feed.seq,
            "from": start,
            "text": text,
            "reasoning": reasoning,
        }

    async def save_and_announce(self, status: str, error: str) -> None:
        finish = self.finish
        if status == Message.Status.ERROR:
            finish = Finish("error", finish.raw)
        elif status != Message.Status.COMPLETE:
            finish = Finish("", finish.raw)
        outcome = store.Outcome(
            status=status,
            content=self.feed.text(),
            reasoning=self.feed.reasoning_text(),
            error=error,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            finish_reason=finish.reason,
            upstream_finish_reason=finish.raw,
            first_token_ms=self.first_token_ms,
            duration_ms=int((time.monotonic() - self.started) * 1000),
        )
        end_seq = self.feed.seq + 1
        try:
            reply = await runtime.in_db_thread(store.finish)(self.reply_id, outcome, end_seq)
        except Exception:
            log.exception("could not save reply %s", self.reply_id)
            return
        if reply is not None:
            end = store.end_message(reply)
        elif not await runtime.in_db_thread(store.reply_exists)(self.reply_id):
            # Deleted with its conversation (its checkpoint found it gone and stopped it):
            # every listener, here or in another process, ends now.
            end = {"type": "reply.end", "seq": end_seq, **store.DELETED_END}
        else:
            return  # ended elsewhere, which announced it
        self.feed.close(end)
        await runtime.announce_end(self.reply_id, end)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, UpstreamError):
        return exc.message
    log.error("generation failed", exc_info=exc)
    return "Something went wrong on the server while writing this reply."
