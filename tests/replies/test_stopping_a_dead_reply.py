"""Stop on a reply whose generation is gone (its process was killed) ends it from its last
checkpoint at once, instead of waiting for an answer that will never come; a reply whose
heartbeat is fresh still gets the time to answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from chat.models import Conversation, Message
from chat.replies import checkpoints
from chat.replies.messages import new_worker_channel
from chat.replies.stopping import request_stop
from tests.support.rows import streaming_reply

pytestmark = pytest.mark.django_db(transaction=True)


async def dead_reply(conversation: Conversation, heartbeat_age: float) -> Message:
    channel = await new_worker_channel()  # a channel nobody listens on any more
    beat = timezone.now() - timedelta(seconds=heartbeat_age)
    reply = await asyncio.to_thread(streaming_reply, conversation, beat)
    await Message.objects.filter(pk=reply.pk).aupdate(
        worker_channel=channel, content="Half a rep", seq=3
    )
    return await Message.objects.select_related("conversation").aget(pk=reply.pk)


async def test_a_reply_with_late_heartbeats_is_stopped_without_waiting(
    conversation: Conversation,
) -> None:
    # Late enough to seem dead, yet short of CHAT_STALE_AFTER: the sweeper of a daphne serving
    # this test database would otherwise end it as interrupted first.
    dead_after = checkpoints.heartbeat_interval() + settings.CHAT_CHECKPOINT_INTERVAL
    reply = await dead_reply(conversation, (dead_after + settings.CHAT_STALE_AFTER) / 2)

    # Waiting for an answer would take the whole `wait`: it must not be needed.
    stopped = await asyncio.wait_for(request_stop(reply, wait=3600), timeout=60)

    assert (stopped.status, stopped.content, stopped.seq) == ("stopped", "Half a rep", 4)


async def test_a_reply_with_a_fresh_heartbeat_gets_its_time_to_answer(
    conversation: Conversation,
) -> None:
    reply = await dead_reply(conversation, heartbeat_age=0)

    waiting = asyncio.create_task(request_stop(reply, wait=3600))
    await asyncio.sleep(1)
    assert not waiting.done()  # no answer yet, and no reason to think it dead
    waiting.cancel()
    assert (await Message.objects.aget(pk=reply.pk)).status == "streaming"


@pytest.mark.parametrize(("age", "dead"), [(1.0, False), (2.9, False), (3.1, True), (30.0, True)])
def test_a_reply_seems_dead_once_it_missed_a_heartbeat_by_more_than_a_checkpoint(
    settings: Any, age: float, dead: bool
) -> None:
    """With the defaults (heartbeat every 2 s, checkpoints every 1 s): over 3 s."""
    settings.CHAT_STALE_AFTER, settings.CHAT_CHECKPOINT_INTERVAL = 6.0, 1.0
    now = timezone.now()
    reply = Message(heartbeat_at=now - timedelta(seconds=age), updated_at=now)
    assert checkpoints.seems_dead(reply, now) is dead
