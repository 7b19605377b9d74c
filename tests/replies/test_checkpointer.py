"""The checkpointer (chat/replies/checkpoints.py): each tick saves the text of the feeds that
grew and the heartbeat of quiet ones, in one call, and stops the generation of a reply that
was ended meanwhile, through its feed."""

from __future__ import annotations

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from chat.models import Message
from chat.replies import checkpoints, store
from chat.replies.feed import Feed
from chat.server.process import state

pytestmark = pytest.mark.django_db(transaction=True)


def watch(feeds: list[Feed]) -> None:
    for feed in feeds:
        state.checkpoints[feed.reply_id] = checkpoints.Watched(feed, 0, 0.0)


async def test_a_tick_saves_grown_text_and_quiet_heartbeats(feeds: list[Feed]) -> None:
    grown, quiet, _unchanged = feeds
    watch(feeds)
    grown.append("Hello")
    grown.append(" 你好", "thinking")
    before = timezone.now()

    await checkpoints.save_once()

    saved = {m.pk: m for m in Message.objects.filter(pk__in=[f.reply_id for f in feeds])}
    assert (saved[grown.reply_id].content, saved[grown.reply_id].seq) == ("Hello 你好", 2)
    assert saved[grown.reply_id].reasoning == "thinking"
    assert saved[quiet.reply_id].content == ""
    assert all(m.heartbeat_at is not None and m.heartbeat_at >= before for m in saved.values())
    assert state.checkpoints[grown.reply_id].saved_seq == 2


async def test_a_quiet_reply_gets_no_write_until_its_heartbeat_is_due(
    feeds: list[Feed], settings: Settings
) -> None:
    settings.CHAT_STALE_AFTER = 300  # a heartbeat every 100 s
    watch(feeds)
    await checkpoints.save_once()  # due at once: never saved
    first = Message.objects.get(pk=feeds[0].reply_id).heartbeat_at

    await checkpoints.save_once()

    assert Message.objects.get(pk=feeds[0].reply_id).heartbeat_at == first


async def test_a_reply_ended_elsewhere_has_its_generation_stopped(feeds: list[Feed]) -> None:
    ended, running, _ = feeds
    stopped: list[int] = []
    for feed in feeds:
        feed.on_stop = lambda feed=feed: stopped.append(feed.reply_id)
    watch(feeds)
    ended.append("text")
    store.end_unfinished(
        store.unfinished_reply(running.reply_id), Message.Status.STOPPED, ""
    )  # quiet, but ended
    store.end_unfinished(
        store.unfinished_reply(ended.reply_id), Message.Status.INTERRUPTED, "swept"
    )

    await checkpoints.save_once()

    assert sorted(stopped) == sorted([ended.reply_id, running.reply_id])
    assert Message.objects.get(pk=ended.reply_id).content == ""  # the end is kept


async def test_a_reply_finished_during_the_save_is_left_alone(feeds: list[Feed]) -> None:
    watch(feeds[:1])
    feeds[0].append("x")
    saving = checkpoints.save_once()
    checkpoints.forget(feeds[0].reply_id)  # its generation finished meanwhile
    await saving
    assert feeds[0].reply_id not in state.checkpoints
