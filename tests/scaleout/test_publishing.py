"""A generation publishes its text to the channel layer (Redis) only once a listener in another
process has asked it for a catch-up (`reply.sync`): a reply followed only in its own process
sends nothing per piece through Redis, and one followed elsewhere still reaches that listener
whole. The test process plays the other process, on the same Redis layer as the daphnes."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer

from chat.models import Message
from chat.replies.messages import LOCAL_CHANNEL_PREFIX, group_name
from chat.replies.sequence import Position
from tests.support.clients import SiteClient
from tests.support.fakes.openai_scenarios import PACED_TEXT

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]


async def follow(reply_id: int, worker: str | None, limit: float = 30.0) -> list[dict]:  # type: ignore[type-arg]
    """Join the reply's group as another process's listener would, ask the generation for a
    catch-up if `worker` is given, and return every message until `reply.end`."""
    layer = get_channel_layer()
    channel = await layer.new_channel(LOCAL_CHANNEL_PREFIX)
    await layer.group_add(group_name(reply_id), channel)
    if worker is not None:
        await layer.send(worker, {"type": "reply.sync", "reply_to": channel, "after": None})
    received = []
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            message = await asyncio.wait_for(layer.receive(channel), deadline - time.monotonic())
            received.append(message)
            if message["type"] == "reply.end":
                return received
        raise AssertionError(f"no reply.end in {limit} s: {received[-3:]}")
    finally:
        await layer.group_discard(group_name(reply_id), channel)


def started(site: SiteClient) -> Message:
    reply, _url = site.ask("openai:oa-paced")  # 60 pieces, 50 ms apart
    return Message.objects.get(pk=reply["id"])


def test_a_reply_followed_only_in_its_own_process_sends_no_piece_through_the_layer(
    clients: list[SiteClient],
) -> None:
    reply = started(clients[0])
    received = asyncio.run(follow(reply.pk, worker=None))

    assert [m["type"] for m in received] == ["reply.end"]  # the end still goes to every process
    assert received[0]["content"] == PACED_TEXT


def test_a_listener_elsewhere_gets_the_whole_text_once_it_asks(clients: list[SiteClient]) -> None:
    reply = started(clients[0])
    time.sleep(1.0)  # part of the text is out before anyone elsewhere follows
    received = asyncio.run(follow(reply.pk, worker=reply.worker_channel))

    kinds = [m["type"] for m in received]
    assert kinds[-1] == "reply.end" and "reply.catchup" in kinds
    assert kinds.count("reply.delta") > 0  # published once asked for
    position, shown = Position(None), ""
    for message in received[:-1]:
        sends = (
            position.catchup(message)
            if message["type"] == "reply.catchup"
            else [s for s in [position.delta(message)] if s is not None]
        )
        for send in sends:
            shown = send.text if send.event == "snapshot" else shown + send.text
    assert position.synced and shown == PACED_TEXT == received[-1]["content"]
