"""The channel-layer messages of a reply, between processes, as checked types.

A generation and the listeners of its reply in other processes speak through the Channels
layer (Redis when several processes serve the site), and Redis pub/sub for the text:

- `reply.delta`, published to the reply's Redis channel (chat/replies/relay.py), not through the
  layer: pieces of text numbered from `from` + 1;
- `reply.sync`, to the generation's channel: "send `reply_to` everything after `after`";
- `reply.catchup`, the answer: the text after `from` (None: all of it) up to `seq`;
- `reply.stop`, to the generation's channel: stop the upstream;
- `reply.closed`, to the generation's own channel: its control loop may end;
- `reply.end`, to the group: the final reply, with the sequence number of `end`.

Within the generating process, listeners read the reply's feed instead (chat/replies/feed.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Literal, NotRequired, TypedDict

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

# Every process-local channel (generations' and listeners') takes the same prefix:
# channels-redis reads a process's local channels through one receive lock, blocking on the
# Redis key that the channel's prefix names for up to 5 s; a channel with another prefix has a
# key of its own and waits behind that lock, so its messages arrive seconds late.
LOCAL_CHANNEL_PREFIX = "specific"

# `from` is a Python keyword: these two are spelt in the functional syntax.
DeltaMessage = TypedDict(
    "DeltaMessage",
    {
        "type": Literal["reply.delta"],
        "from": int,
        "parts": list[str],
        "reasoning": NotRequired[list[str]],
    },
)
CatchupMessage = TypedDict(
    "CatchupMessage",
    {
        "type": Literal["reply.catchup"],
        "seq": int,
        "from": int | None,
        "text": str,
        "reasoning": str,
    },
)


class SyncMessage(TypedDict):
    type: Literal["reply.sync"]
    reply_to: str
    after: int | None


class StopMessage(TypedDict):
    type: Literal["reply.stop"]


class ClosedMessage(TypedDict):
    type: Literal["reply.closed"]


class Usage(TypedDict):
    input_tokens: int | None
    output_tokens: int | None


class EndPayload(TypedDict):
    """The data of the `end` event (DESIGN.md, "Event stream contract")."""

    status: str
    content: str
    reasoning: str
    html: str
    error: str
    error_kind: str
    retryable: bool
    usage: Usage | None
    finish_reason: str
    # The first message sent with the reply, when older ones did not fit in the context.
    context_from: NotRequired[int]


class EndMessage(EndPayload):
    type: Literal["reply.end"]
    seq: int


ListenerMessage = DeltaMessage | CatchupMessage | EndMessage
GenerationMessage = SyncMessage | StopMessage | ClosedMessage


def group_name(reply_id: int) -> str:
    return f"reply-{reply_id}"


def end_message(seq: int, payload: EndPayload) -> EndMessage:
    return {"type": "reply.end", "seq": seq, **payload}


def end_payload(message: EndMessage) -> EndPayload:
    """The `end` event's data: the message without its routing fields."""
    return {k: v for k, v in message.items() if k not in ("type", "seq")}  # type: ignore[return-value]


def layer_is_shared() -> bool:
    """Whether other processes can listen on this process's channel layer (Redis): only then
    do generations publish their text to it (listeners in this process read the feed)."""
    return not isinstance(get_channel_layer(), InMemoryChannelLayer)


async def new_worker_channel() -> str:
    channel: str = await get_channel_layer().new_channel(LOCAL_CHANNEL_PREFIX)
    return channel


async def survive(call: Awaitable[object]) -> bool:
    """Await a channel-layer call; a failure counts as a lost message (logged), which the
    callers make good: sequence numbers show a gap, a request is asked again, and the end of a
    reply is also in the database (chat/replies/endwatch.py)."""
    try:
        await call
    except ChannelFull:
        return False
    except Exception:
        log.warning("channel layer call failed", exc_info=True)
        return False
    return True


async def announce_end(reply_id: int, end: EndMessage) -> None:
    """Send a reply's `reply.end` to its listeners in every process."""
    await survive(get_channel_layer().group_send(group_name(reply_id), end))
