"""One transaction saves the progress of all of a process's running replies (chat/replies/store.py,
save_progress, called by chat/replies/checkpoints.py): text for those that grew, a heartbeat for the
quiet ones, and the ids of those already ended, whose generations must stop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Message
from chat.replies import store
from tests.support.rows import streaming_reply

pytestmark = pytest.mark.django_db


def test_grown_replies_get_their_text_quiet_ones_a_heartbeat(conversation: Conversation) -> None:
    long_ago = timezone.now() - timedelta(minutes=5)
    grown, quiet, stopped = (streaming_reply(conversation, long_ago) for _ in range(3))
    store.end_unfinished(store.unfinished_reply(stopped.pk), Message.Status.STOPPED, "")
    before = timezone.now()

    ended = store.save_progress(
        [store.Progress(grown.pk, "Hello 你好", "thinking", 4)], [quiet.pk, stopped.pk]
    )

    assert ended == {stopped.pk}
    grown.refresh_from_db()
    quiet.refresh_from_db()
    assert (grown.content, grown.reasoning, grown.seq) == ("Hello 你好", "thinking", 4)
    assert grown.heartbeat_at >= before and quiet.heartbeat_at >= before
    assert quiet.content == "" and quiet.status == Message.Status.STREAMING


def test_a_grown_reply_that_was_ended_meanwhile_keeps_its_end(conversation: Conversation) -> None:
    reply = streaming_reply(conversation, timezone.now() - timedelta(minutes=5))
    store.end_unfinished(store.unfinished_reply(reply.pk), Message.Status.INTERRUPTED, "swept")

    assert store.save_progress([store.Progress(reply.pk, "late text", "", 9)], []) == {reply.pk}
    reply.refresh_from_db()
    assert (reply.status, reply.content) == (Message.Status.INTERRUPTED, "")
