"""Stopping a reply, wherever its generation runs.

In this process the reply's feed carries the request (chat/replies/feed.py); in another, a
`reply.stop` goes to the generation's channel (chat/replies/messages.py). A generation that
does not answer (its process died, or the message was lost) leaves the reply to be ended here,
from its last checkpoint.
"""

from __future__ import annotations

import asyncio
import time

from channels.layers import get_channel_layer
from django.utils import timezone

from chat.models import Message
from chat.replies import checkpoints, store
from chat.replies.feed import Feed, local_feed
from chat.replies.messages import survive
from chat.replies.sweeper import end_from_checkpoint
from chat.server.process import in_request_thread


async def _ask_to_stop(reply_id: int, channel: str) -> Feed | None:
    """Ask the reply's generation to stop: through its feed if it runs in this process (the
    feed is returned), else with a `reply.stop` to its channel (refused or lost: the caller
    copes)."""
    if (feed := local_feed(reply_id)) is not None:
        feed.request_stop()
    elif channel:
        await survive(get_channel_layer().send(channel, {"type": "reply.stop"}))
    return feed


async def stop_deleted(replies: list[tuple[int, str]]) -> None:
    """Stop the generations of replies just deleted (with their conversation), given as (id,
    generation's channel), without waiting for them: each ends as deleted once it finds its
    reply gone, and its listeners with it."""
    for reply_id, channel in replies:
        await _ask_to_stop(reply_id, channel)


async def request_stop(reply: Message, wait: float = 10.0) -> Message:
    """Ask the reply's generation to stop, wherever it runs, and wait for the reply to end.
    If no generation answers (its process died: its heartbeat is late, or no answer comes
    within `wait`), end the reply here from its checkpoint."""
    if reply.is_finished:
        return reply
    deadline = time.monotonic() + wait
    if (feed := await _ask_to_stop(reply.pk, reply.worker_channel)) is not None:
        await feed.wait_closed(wait)  # its generation runs here
        current = await in_request_thread(store.load_reply)(reply.pk)
        if current is None or current.is_finished:
            return current or reply
    # In another process (or none): its end is awaited below, or made from its checkpoint.
    while time.monotonic() < deadline:
        current = await in_request_thread(store.load_reply)(reply.pk)
        if current is None or current.is_finished:
            return current or reply
        if checkpoints.seems_dead(current, timezone.now()):
            break
        await asyncio.sleep(0.05)
    ended = await end_from_checkpoint(reply.pk, Message.Status.STOPPED, in_thread=in_request_thread)
    if ended is not None:
        return ended
    current = await in_request_thread(store.load_reply)(reply.pk)
    return current or reply
