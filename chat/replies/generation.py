"""One reply's life: upstream -> text -> listeners -> database.

A Generation runs as an asyncio task in the process that accepted the message, independent of
any browser connection. These loops cooperate:

- the pump reads the provider's events and appends the text to the reply's feed
  (chat/replies/feed.py), where listeners in this process read it directly;
- with a channel layer shared between processes (Redis), the publisher publishes what the
  feed gained to the reply's Redis channel (chat/replies/relay.py), for listeners in other
  processes: one message per publish, with the pieces of text it covers and the sequence
  number of the first. While a publish is in flight, new text accumulates and goes out
  together in the next one: deltas that arrive together are coalesced, a lone delta is never
  held back.
  Nothing is published until a listener in another process has asked for a catch-up (its
  first `reply.sync`): until then no other process follows the reply, and a listener that
  comes later gets what was skipped in its catch-up;
- with a shared layer only, the control loop answers other processes on the reply's own
  channel: `reply.sync` (send me what I missed after sequence n) and `reply.stop` (in this
  process, a stop comes through the feed);
- with the moderation hook on (CHAT_MODERATION), the review checks the text in batches
  (chat/replies/review.py); a hit stops the pump like Stop does, and the reply ends as
  moderated, saved without its text.

The partial text is checkpointed at most once per CHAT_CHECKPOINT_INTERVAL, with the other
replies of the process (chat/replies/checkpoints.py), and the final text is rendered and saved
once. How the reply ended is decided by chat/replies/outcome.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator

from channels.layers import get_channel_layer
from django.conf import settings

from chat import moderation
from chat.models import Message
from chat.providers import timeouts
from chat.providers.base import (
    Event,
    Finish,
    ReasoningDelta,
    SurrogateJoiner,
    TextDelta,
    Usage,
)
from chat.replies import checkpoints, outcome, store, titles
from chat.replies.feed import Feed
from chat.replies.messages import (
    DeltaMessage,
    EndMessage,
    GenerationMessage,
    announce_end,
    end_message,
    layer_is_shared,
    survive,
)
from chat.replies.redaction import Redactor
from chat.replies.relay import relay
from chat.replies.review import Review
from chat.replies.start import Prepared, prepare
from chat.server import renderer
from chat.server.process import detach, in_db_thread, start_generation

log = logging.getLogger(__name__)


def spawn(reply: Message, channel: str, prepared: Prepared | None = None) -> None:
    """Start the generation of `reply` (as just made, with its conversation) as a task of
    this process; `prepared`: its provider and request, if the caller made them."""
    generation = Generation(reply, channel, prepared)
    detach(start_generation(generation.run()), generation.feed.abandon)


def _owner(reply: Message) -> int | None:
    """Whose reply it is, if the conversation it was made with is at hand (never a query: this
    runs on the event loop)."""
    if not Message.conversation.is_cached(reply):
        return None
    return reply.conversation.owner_id


class Generation:
    def __init__(self, reply: Message, channel: str, prepared: Prepared | None = None) -> None:
        self.reply: Message | None = reply  # until the upstream request is made
        self.prepared = prepared
        self.reply_id = reply_id = reply.pk
        self.channel = channel
        self.layer = get_channel_layer()
        self.feed = Feed(reply_id, _owner(reply)).open()
        self.usage = Usage()
        self.finish = Finish("stop", "")
        self.first_token_ms: int | None = None
        self.started = time.monotonic()
        self.stop_requested = False
        self.pump_task: asyncio.Task[None] | None = None
        self.closing = False
        self.feed.on_stop = self.stop
        self.review: Review | None = None
        self.moderated: moderation.Verdict | None = None
        self.followed = False  # a listener in another process asked for a catch-up

    def stop(self) -> None:
        """Stop: cancelling the pump closes the upstream's stream, and with it its connection."""
        self.stop_requested = True
        if self.pump_task is not None:
            self.pump_task.cancel()

    def halt(self, verdict: moderation.Verdict) -> None:
        """The moderation hook refused the reply: stop the upstream, end it as moderated."""
        self.moderated = verdict
        self.stop()

    async def run(self) -> None:
        self.started = time.monotonic()
        if moderation.checker() is not None:
            self.review = Review(
                moderation.check, settings.CHAT_MODERATION_BATCH, self.halt
            ).start()
        self.pump_task = pump = asyncio.create_task(self.pump())
        if self.stop_requested:  # asked before this task first ran
            pump.cancel()
        # Other processes reach the generation through the channel layer (its control loop)
        # and follow it there (its publisher); within this process, through its feed.
        shared = layer_is_shared()
        checkpoints.watch(self.feed)
        control = asyncio.create_task(self.control_loop()) if shared else None
        publisher = asyncio.create_task(self.publish_loop()) if shared else None
        shut_down = False
        try:
            await asyncio.wait({pump})
        except asyncio.CancelledError:
            # Shutdown cancelled run(): cancel the upstream too, then save as interrupted.
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            pump.cancel()
            await asyncio.wait({pump})
            shut_down = True
        if self.review is not None:
            if shut_down:
                self.review.cancel()
            else:
                await self.review.finish()  # the rest is checked before anything is saved
        verdict = outcome.decide(
            shut_down=shut_down,
            stopped=pump.cancelled() or self.stop_requested,
            failure=None if pump.cancelled() else pump.exception(),
            finish=self.finish,
            has_text=self.feed.has_text(),
        )
        if self.moderated is not None and not shut_down:
            verdict = outcome.moderated(self.moderated.service_failed, self.finish)
        self.feed.seal()
        if publisher is not None:
            await publisher
        # Saved before the checkpointer lets go: its heartbeat goes on until the reply is final
        # (a reply without heartbeat for CHAT_STALE_AFTER is swept as interrupted).
        try:
            await self.save_and_announce(verdict)
        finally:
            checkpoints.forget(self.reply_id)
            self.feed.abandon()
        if control is not None:
            await self._stop_control_loop(control)

    async def _upstream(self) -> tuple[AsyncGenerator[Event], tuple[str, ...]]:
        """The provider's events for this reply, and the secrets to keep out of its text. The
        request (the conversation's history) stays with the provider's stream only, which
        drops it once sent, and the reply's row is let go: a streaming reply does not hold its
        conversation."""
        prepared, self.prepared = self.prepared, None
        reply, self.reply = self.reply, None
        assert reply is not None  # a generation runs once
        provider, request = prepared or await in_db_thread(prepare)(reply)
        return provider.events(request, timeouts()), provider.secrets

    async def pump(self) -> None:
        events, secrets = await self._upstream()
        text, reasoning = SurrogateJoiner(), SurrogateJoiner()
        keys, reasoning_keys = Redactor(secrets), Redactor(secrets)
        review = self.review
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    self._first_token()
                    piece = keys.feed(text.feed(event.text))
                    self.feed.append(piece)
                    if review is not None:
                        review.feed(piece)
                elif isinstance(event, ReasoningDelta):
                    self._first_token()
                    piece = reasoning_keys.feed(reasoning.feed(event.text))
                    self.feed.append("", piece)
                    if review is not None:
                        review.feed(piece)
                elif isinstance(event, Usage):
                    self.usage = event
                elif isinstance(event, Finish):
                    self.finish = event
        except asyncio.CancelledError:
            if not self.stop_requested:
                raise
            # Stopped: fall through so run() sees a normally finished pump with stop set.
        finally:
            # A high surrogate that never got its pair; the end held back in case it began a key.
            rest = keys.feed(text.flush()) + keys.flush()
            reasoning_rest = reasoning_keys.feed(reasoning.flush()) + reasoning_keys.flush()
            self.feed.append(rest, reasoning_rest)
            if review is not None:
                review.feed(rest + reasoning_rest)
            await events.aclose()  # closes the upstream connection, whatever happened

    def _first_token(self) -> None:
        if self.first_token_ms is None:
            self.first_token_ms = int((time.monotonic() - self.started) * 1000)

    async def publish_loop(self) -> None:
        feed, published = self.feed, 0
        while True:
            if feed.seq > published and not self.followed:
                published = feed.seq  # no listener elsewhere: any that comes is caught up
            elif feed.seq > published:
                # The pieces themselves, not their concatenation: a listener that is already
                # part-way through this range (its catch-up came meanwhile) skips what it has.
                seq = feed.seq
                message: DeltaMessage = {
                    "type": "reply.delta",
                    "from": published,
                    "parts": feed.parts[published:seq],
                }
                if any(reasoning := feed.reasoning[published:seq]):
                    message["reasoning"] = reasoning
                published = seq
                await survive(relay().publish(self.reply_id, message))
            elif feed.sealed:
                return
            else:
                await feed.wait(published, None, until_sealed=True)

    async def _stop_control_loop(self, control: asyncio.Task[None]) -> None:
        """Told by a message on its own channel, not by cancellation alone: redis-py can turn
        the cancellation of a blocking pop into a TimeoutError, which the loop would take for
        a hiccup."""
        self.closing = True
        await survive(self.layer.send(self.channel, {"type": "reply.closed"}))
        await asyncio.wait({control}, timeout=5)
        control.cancel()  # only matters if the layer lost the message

    def _closed(self) -> bool:
        return self.closing

    async def control_loop(self) -> None:
        while not self.closing:
            try:
                message: GenerationMessage = await self.layer.receive(self.channel)
            except Exception:  # a layer hiccup must not leave the reply deaf to stop and sync
                if self._closed():
                    return
                log.warning("reply %s: channel layer receive failed", self.reply_id, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if message["type"] == "reply.closed":
                return
            if message["type"] == "reply.stop":
                self.stop()
            elif message["type"] == "reply.sync":  # if the answer is lost, the listener re-asks
                self.followed = True  # from now on the text is published
                catchup = self.feed.catchup(message["after"])
                await survive(self.layer.send(message["reply_to"], catchup))

    async def save_and_announce(self, verdict: outcome.Verdict) -> None:
        content = store.storable(self.feed.text())
        reasoning = self.feed.reasoning_text()
        if self.moderated is not None and verdict.error_kind in outcome.MODERATED_KINDS:
            # The text is kept for administrators only (a ModerationFlag), not on the reply.
            await in_db_thread(store.flag_reply)(
                self.reply_id, "\n\n".join(filter(None, (content, reasoning))), self.moderated
            )
            content = reasoning = ""
        saved = store.Outcome(
            status=verdict.status,
            content=content,
            html=await renderer.render(content),
            reasoning=reasoning,
            error=verdict.error,
            error_kind=verdict.error_kind or "",
            # As the upstream reported it (None when it did not): the site's estimate of what
            # it sends (chat/context.py) only decides what fits, never passes for usage.
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            finish_reason=verdict.finish.reason,
            upstream_finish_reason=verdict.finish.raw,
            first_token_ms=self.first_token_ms,
            duration_ms=int((time.monotonic() - self.started) * 1000),
        )
        end_seq = self.feed.seq + 1
        try:
            reply = await in_db_thread(store.finish)(self.reply_id, saved, end_seq)
        except Exception:
            log.exception("could not save reply %s", self.reply_id)
            return
        end: EndMessage
        if reply is not None:
            end = store.end_message(reply)
        elif not await in_db_thread(store.reply_exists)(self.reply_id):
            # Deleted with its conversation (its checkpoint found it gone and stopped it):
            # every listener, here or in another process, ends now.
            end = end_message(end_seq, store.DELETED_END)
        else:
            return  # ended elsewhere, which announced it
        self.feed.close(end)
        await announce_end(self.reply_id, end)
        if reply is not None:
            titles.after_reply(reply)  # a task of its own: the reply is already out
