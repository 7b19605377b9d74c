"""One reply's life: upstream -> text -> listeners -> database.

A Generation runs as an asyncio task in the process that accepted the message, independent of
any browser connection. Three loops cooperate:

- the pump reads the provider's events and appends text;
- the publisher sends what the pump appended to the reply's channel-layer group, one message
  per send with the next sequence number. While a send is in flight, new text accumulates and
  goes out together in the next one: deltas that arrive together are coalesced, a lone delta
  is never held back;
- the control loop answers listeners on the reply's own channel: `sync` (send me what I missed
  after sequence n) and `stop`.

The partial text is checkpointed at most once per CHAT_CHECKPOINT_INTERVAL, and the final text
is rendered and saved once.
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

from chat import runtime, store
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
    runtime.start_task(Generation(reply_id, channel).run())


class Generation:
    def __init__(self, reply_id: int, channel: str) -> None:
        self.reply_id = reply_id
        self.channel = channel
        self.group = runtime.group_name(reply_id)
        self.layer = get_channel_layer()
        self.parts: list[str] = []
        self.offsets: list[int] = [0]  # offsets[n] = len(text) after delta n
        self.reasoning: list[str] = []
        self.reasoning_offsets: list[int] = [0]
        self.pending_text: list[str] = []
        self.pending_reasoning: list[str] = []
        self.wake = asyncio.Event()
        self.usage = Usage()
        self.finish = Finish("stop", "")
        self.first_token_ms: int | None = None
        self.stop_requested = False
        self.pump_done = False
        self.closing = False

    @property
    def seq(self) -> int:
        return len(self.offsets) - 1

    async def run(self) -> None:
        self.started = time.monotonic()
        self.pump_task = asyncio.create_task(self.pump())
        helpers = [
            asyncio.create_task(self.control_loop()),
            asyncio.create_task(self.checkpoint_loop()),
        ]
        publisher = asyncio.create_task(self.publish_loop())
        pump = self.pump_task
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
            elif self.finish.reason == "content_filter" and not self._has_text():
                # A refusal with no words (Gemini SAFETY, an Anthropic refusal) must not look
                # like an empty success.
                status, error = (
                    Message.Status.ERROR,
                    (
                        "The provider withheld this reply (content filter"
                        + (f": {self.finish.raw})." if self.finish.raw else ").")
                    ),
                )
        self.pump_done = True
        self.wake.set()
        await publisher
        # Saved before the helpers stop: the checkpointer's heartbeat goes on until the reply is
        # final (stopping the control loop can take a while on a busy channel layer, and a
        # reply without heartbeat for CHAT_STALE_AFTER is swept as interrupted).
        await self.save_and_announce(status, error)
        await self._stop_helpers(helpers)

    async def pump(self) -> None:
        provider, request = await runtime.in_db_thread(self._prepare)()
        stream = provider.stream(request, timeouts())
        text, reasoning = SurrogateJoiner(), SurrogateJoiner()
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    self._first_token()
                    self.pending_text.append(text.feed(event.text))
                    self.wake.set()
                elif isinstance(event, ReasoningDelta):
                    self._first_token()
                    self.pending_reasoning.append(reasoning.feed(event.text))
                    self.wake.set()
                elif isinstance(event, Usage):
                    self.usage = event
                elif isinstance(event, Finish):
                    self.finish = event
        except asyncio.CancelledError:
            if not self.stop_requested:
                raise
            # Stopped: fall through so run() sees a normally finished pump with stop set.
        finally:
            if rest := text.flush():  # a high surrogate that never got its pair
                self.pending_text.append(rest)
            if rest := reasoning.flush():
                self.pending_reasoning.append(rest)
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
        while True:
            if self.pending_text or self.pending_reasoning:
                await self.layer.group_send(self.group, self._take_pending())
            elif self.pump_done:
                return
            else:
                # Cleared right after finding nothing to do, with no await in between: a wake-up
                # given while a send was in flight (the pump's last text, or its end) is kept.
                self.wake.clear()
                await self.wake.wait()

    def _take_pending(self) -> dict[str, object]:
        text = "".join(self.pending_text)
        reasoning = "".join(self.pending_reasoning)
        self.pending_text.clear()
        self.pending_reasoning.clear()
        self.parts.append(text)
        self.offsets.append(self.offsets[-1] + len(text))
        self.reasoning.append(reasoning)
        self.reasoning_offsets.append(self.reasoning_offsets[-1] + len(reasoning))
        message: dict[str, object] = {"type": "reply.delta", "seq": self.seq, "text": text}
        if reasoning:
            message["reasoning"] = reasoning
        return message

    def _has_text(self) -> bool:
        return any(self.parts) or any(self.pending_text)

    def text(self) -> str:
        return "".join(self.parts)

    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    async def checkpoint_loop(self) -> None:
        interval = settings.CHAT_CHECKPOINT_INTERVAL
        heartbeat_every = max(interval, settings.CHAT_STALE_AFTER / 3)
        saved_seq, last_write = 0, time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            if self.seq == saved_seq and now - last_write < heartbeat_every:
                continue
            seq = self.seq
            alive = await runtime.in_db_thread(store.checkpoint)(
                self.reply_id, self.text(), self.reasoning_text(), seq
            )
            saved_seq, last_write = seq, now
            if not alive:  # ended elsewhere (stop after a lost message, or the sweeper)
                self.stop_requested = True
                self.pump_task.cancel()
                return

    async def _stop_helpers(self, helpers: list[asyncio.Task[None]]) -> None:
        """End the checkpointer and the control loop. The control loop is told by a message on
        its own channel, not by cancellation alone: redis-py can turn the cancellation of a
        blocking pop into a TimeoutError, which the loop would take for a hiccup."""
        self.closing = True
        checkpointer, control = helpers[1], helpers[0]
        checkpointer.cancel()
        with contextlib.suppress(Exception):
            await self.layer.send(self.channel, {"type": "reply.closed"})
        await asyncio.wait(helpers, timeout=5)
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
                self.stop_requested = True
                self.pump_task.cancel()
            elif kind == "reply.sync":  # a full channel drops the answer: the listener re-asks
                with contextlib.suppress(ChannelFull):
                    await self.layer.send(message["reply_to"], self._catchup(message.get("after")))

    def _catchup(self, after: object) -> dict[str, object]:
        seq = self.seq
        if isinstance(after, int) and 0 <= after <= seq:
            return {
                "type": "reply.catchup",
                "seq": seq,
                "from": after,
                "text": self.text()[self.offsets[after] :],
                "reasoning": self.reasoning_text()[self.reasoning_offsets[after] :],
            }
        return {
            "type": "reply.catchup",
            "seq": seq,
            "from": None,
            "text": self.text(),
            "reasoning": self.reasoning_text(),
        }

    async def save_and_announce(self, status: str, error: str) -> None:
        finish = self.finish
        if status == Message.Status.ERROR:
            finish = Finish("error", finish.raw)
        elif status != Message.Status.COMPLETE:
            finish = Finish("", finish.raw)
        outcome = store.Outcome(
            status=status,
            content=self.text(),
            reasoning=self.reasoning_text(),
            error=error,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            finish_reason=finish.reason,
            upstream_finish_reason=finish.raw,
            first_token_ms=self.first_token_ms,
            duration_ms=int((time.monotonic() - self.started) * 1000),
        )
        end_seq = self.seq + 1
        try:
            reply = await runtime.in_db_thread(store.finish)(self.reply_id, outcome, end_seq)
        except Exception:
            log.exception("could not save reply %s", self.reply_id)
            return
        if reply is not None:
            await runtime.announce_end(reply)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, UpstreamError):
        return exc.message
    log.error("generation failed", exc_info=exc)
    return "Something went wrong on the server while writing this reply."
