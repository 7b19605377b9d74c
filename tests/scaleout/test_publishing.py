"""A generation publishes its text (Redis pub/sub, chat/replies/relay.py) only once a listener
in another process has asked it for a catch-up (`reply.sync`): a reply followed only in its own
process sends nothing per piece through Redis, and one followed elsewhere still reaches that
listener whole. The test process plays the other process, on the same Redis as the daphnes."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from chat.replies import store
from chat.replies.messages import LOCAL_CHANNEL_PREFIX, announce_end, group_name
from chat.replies.relay import Inbox, relay
from chat.replies.sequence import Position
from tests.support.clients import PageView, SiteClient
from tests.support.fakes.openai_scenarios import PACED_TEXT
from tests.support.rows import streaming_reply

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]


async def follow(reply_id: int, worker: str | None, limit: float = 30.0) -> list[dict]:  # type: ignore[type-arg]
    """Subscribe to the reply's published text and join its group as another process's
    listener does, ask the generation for a catch-up if `worker` is given, and return every
    message until `reply.end`."""
    layer, published, inbox = get_channel_layer(), relay(), Inbox(capacity=10_000)
    channel = await layer.new_channel(LOCAL_CHANNEL_PREFIX)
    await published.follow(reply_id, inbox)
    await layer.group_add(group_name(reply_id), channel)
    receiving = asyncio.ensure_future(receive_into(layer, channel, inbox))
    if worker is not None:
        await layer.send(worker, {"type": "reply.sync", "reply_to": channel, "after": None})
    received = []
    deadline = time.monotonic() + limit
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if (message := await inbox.get(remaining)) is not None:
                received.append(message)
                if message["type"] == "reply.end":
                    return received
        raise AssertionError(f"no reply.end in {limit} s: {received[-3:]}")
    finally:
        receiving.cancel()
        await published.unfollow(reply_id, inbox)
        await layer.group_discard(group_name(reply_id), channel)


async def receive_into(layer: Any, channel: str, inbox: Inbox) -> None:
    while True:
        inbox.put(await layer.receive(channel))


def stream_url(reply_id: int) -> str:
    return f"/api/replies/{reply_id}/events"


def started(site: SiteClient) -> Message:
    reply, _url = site.ask("openai:oa-paced")  # 60 pieces, 50 ms apart
    return Message.objects.get(pk=reply["id"])


def test_a_reply_followed_only_in_its_own_process_publishes_no_piece(
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


def test_a_listener_that_misses_a_published_piece_asks_again_from_its_last(
    clients: list[SiteClient], live_user: User
) -> None:
    """The test process plays the generation: it answers the listener's catch-up requests and
    publishes pieces 3-4, then 6 (5 lost on the way). The listener shows nothing past 4 and
    asks for what follows 4; the page ends with the exact text."""
    conv = Conversation.objects.create(owner=live_user, model="demo")
    reply = streaming_reply(conv)
    view = PageView("abcdefg")
    reader = threading.Thread(target=view.finish, args=(clients[0], stream_url(reply.pk)))
    asked: list[int | None] = []

    async def generate() -> None:
        layer, published = get_channel_layer(), relay()
        worker = await layer.new_channel(LOCAL_CHANNEL_PREFIX)
        await sync_to_async(Message.objects.filter(pk=reply.pk).update)(worker_channel=worker)
        reader.start()

        async def answer(seq: int, text: str) -> None:
            sync = await asyncio.wait_for(layer.receive(worker), 10)
            asked.append(sync["after"])
            catchup = {"type": "reply.catchup", "seq": seq, "reasoning": ""}
            await layer.send(sync["reply_to"], {**catchup, "from": sync["after"], "text": text})

        await answer(2, "ab")
        await published.publish(reply.pk, {"type": "reply.delta", "from": 2, "parts": ["c", "d"]})
        await published.publish(reply.pk, {"type": "reply.delta", "from": 5, "parts": ["f"]})
        await answer(6, "ef")
        await published.publish(reply.pk, {"type": "reply.delta", "from": 6, "parts": ["g"]})
        outcome = store.Outcome(status=Message.Status.COMPLETE, content="abcdefg")
        saved = await sync_to_async(store.finish)(reply.pk, outcome, 8)
        assert saved is not None
        await announce_end(reply.pk, store.end_message(saved))

    asyncio.run(generate())
    reader.join(30)

    assert asked == [None, 4]
    assert view.end is not None and view.text == "abcdefg" == view.live_text
    assert view.kinds == ["snapshot", "delta", "delta", "delta", "end"]
    assert view.ids == [2, 4, 6, 7, 8]
