"""The reply relay on the real Redis (chat/replies/relay.py): what a generation publishes
reaches every inbox following that reply in a process, and nothing else; a process stays
subscribed to a reply only while one of its listeners follows it."""

from __future__ import annotations

import asyncio

import pytest

from chat.replies.messages import DeltaMessage
from chat.replies.relay import Inbox, relay

pytestmark = [pytest.mark.scaleout, pytest.mark.usefixtures("postgres_and_redis")]


def delta(start: int, *parts: str) -> DeltaMessage:
    return {"type": "reply.delta", "from": start, "parts": list(parts)}


async def subscribers(reply_id: int, settled: int | None = None) -> int:
    """Redis's count of the reply's subscribers; with `settled`, once it is that (an
    UNSUBSCRIBE is sent without waiting for Redis to act on it), or after 2 s."""
    for _ in range(200):
        [(_name, count)] = await relay().redis.pubsub_numsub(relay().channel(reply_id))
        if settled is None or count == settled:
            break
        await asyncio.sleep(0.01)
    return int(count)


async def test_a_published_delta_reaches_each_inbox_of_its_reply_only() -> None:
    published = relay()
    first, second, elsewhere = Inbox(10), Inbox(10), Inbox(10)
    await published.follow(9001, first)
    await published.follow(9001, second)
    await published.follow(9002, elsewhere)

    await published.publish(9001, delta(0, "你好", "，世界"))

    for inbox in (first, second):
        assert await inbox.get(5.0) == delta(0, "你好", "，世界")
    assert await elsewhere.get(0.3) is None
    for reply_id, inbox in ((9001, first), (9001, second), (9002, elsewhere)):
        await published.unfollow(reply_id, inbox)


async def test_the_subscription_lasts_while_a_listener_of_the_process_follows() -> None:
    published = relay()
    first, second = Inbox(10), Inbox(10)
    await published.follow(9003, first)
    await published.follow(9003, second)
    assert await subscribers(9003) == 1  # one subscription for the process, not per listener

    await published.unfollow(9003, first)
    assert await subscribers(9003) == 1
    await published.unfollow(9003, second)
    assert await subscribers(9003, settled=0) == 0
    assert published.inboxes == {}


async def test_listeners_that_follow_at_the_same_moment_all_get_their_text() -> None:
    """Twenty listeners subscribing at once share the process's one subscriber connection
    (two first subscriptions at once each took a connection, and one of them was never read)."""
    published = relay()
    inboxes = {9100 + n: Inbox(10) for n in range(20)}
    await asyncio.gather(*(published.follow(r, inbox) for r, inbox in inboxes.items()))

    for reply_id in inboxes:
        await published.publish(reply_id, delta(0, f"reply {reply_id}"))

    for reply_id, inbox in inboxes.items():
        assert await inbox.get(5.0) == delta(0, f"reply {reply_id}")
    await asyncio.gather(*(published.unfollow(r, inbox) for r, inbox in inboxes.items()))


async def test_a_message_that_is_not_the_sites_is_skipped_and_the_next_one_delivered() -> None:
    published, inbox = relay(), Inbox(10)
    await published.follow(9200, inbox)

    for junk in (b"not json", b"[1, 2]", b'{"type": "reply.end"}'):
        await published.redis.publish(published.channel(9200), junk)
    await published.publish(9200, delta(0, "after"))

    assert await inbox.get(1.0) == delta(0, "after")  # at once: the reader did not pause
    assert await inbox.get(0.2) is None
    await published.unfollow(9200, inbox)
