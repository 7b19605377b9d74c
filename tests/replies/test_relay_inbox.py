"""A cross-process listener's inbox (chat/replies/relay.py): published deltas are dropped once
it holds `capacity` messages (the listener catches the gap up), catch-ups and ends never."""

from __future__ import annotations

import asyncio

from chat.replies.messages import CatchupMessage, DeltaMessage
from chat.replies.relay import Inbox


def delta(start: int) -> DeltaMessage:
    return {"type": "reply.delta", "from": start, "parts": ["x"]}


CATCHUP: CatchupMessage = {
    "type": "reply.catchup",
    "seq": 1,
    "from": None,
    "text": "x",
    "reasoning": "",
}


async def test_deltas_past_the_capacity_are_dropped_and_the_rest_kept_in_order() -> None:
    inbox = Inbox(capacity=3)
    for n in range(5):
        inbox.put(delta(n), droppable=True)
    inbox.put(CATCHUP)  # a catch-up (or an end) is kept even when the inbox is full

    taken = [await inbox.get(1.0) for _ in range(4)]

    assert taken == [delta(0), delta(1), delta(2), CATCHUP]
    assert await inbox.get(0.01) is None


async def test_a_waiting_get_returns_the_message_put_meanwhile_or_none_when_woken() -> None:
    inbox = Inbox(capacity=3)
    waiting = asyncio.ensure_future(inbox.get(10.0))
    await asyncio.sleep(0)
    inbox.put(delta(0), droppable=True)
    assert await asyncio.wait_for(waiting, 1.0) == delta(0)

    waiting = asyncio.ensure_future(inbox.get(10.0))
    await asyncio.sleep(0)
    inbox.wake()  # the reply ended in the database, say: the listener looks
    assert await asyncio.wait_for(waiting, 1.0) is None
