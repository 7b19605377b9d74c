"""A reply's feed (chat/replies/feed.py), alone: numbering, catch-ups, waiting, sealing,
closing and the stop it passes on."""

from __future__ import annotations

import asyncio

from chat.replies.feed import Feed, local_feed
from chat.replies.messages import end_message
from chat.replies.store import DELETED_END


def test_each_piece_is_numbered_and_empty_ones_are_not(feed: Feed) -> None:
    feed.append("Hello")
    feed.append("")
    feed.append("", "thinking")
    feed.append(" 你好")
    assert feed.seq == 3
    assert (feed.text(), feed.reasoning_text()) == ("Hello 你好", "thinking")
    assert feed.since(1) == (" 你好", "thinking")
    assert feed.has_text()


def test_an_open_feed_is_found_by_its_reply_until_it_closes(feed: Feed) -> None:
    assert local_feed(4242) is feed
    feed.close(None)
    assert local_feed(4242) is None and feed.closed and feed.sealed


def test_a_catch_up_resumes_from_a_number_the_reply_reached(feed: Feed) -> None:
    for piece in ("a", "b", "c"):
        feed.append(piece)
    assert feed.catchup(1) == {
        "type": "reply.catchup",
        "seq": 3,
        "from": 1,
        "text": "bc",
        "reasoning": "",
    }
    # Nothing yet, a number past the end, or not a number at all: everything.
    for after in (None, 4, -1, "2"):
        assert (feed.catchup(after)["from"], feed.catchup(after)["text"]) == (None, "abc")


async def test_a_waiter_wakes_when_text_arrives(feed: Feed) -> None:
    waiter = asyncio.create_task(feed.wait(0, 5))
    await asyncio.sleep(0)
    assert not waiter.done()
    feed.append("x")
    await asyncio.wait_for(waiter, 1)


async def test_a_waiter_returns_at_once_when_it_is_behind(feed: Feed) -> None:
    feed.append("x")
    await asyncio.wait_for(feed.wait(0, None), 0.1)


async def test_a_waiter_gives_up_after_its_time(feed: Feed) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await feed.wait(0, 0.05)
    assert loop.time() - started >= 0.04
    assert feed._waiters == []  # a timed-out waiter leaves nothing behind


async def test_a_sealed_feed_holds_listeners_until_it_closes(feed: Feed) -> None:
    publisher = asyncio.create_task(feed.wait(0, 5, until_sealed=True))
    await asyncio.sleep(0)
    feed.seal()
    await asyncio.wait_for(publisher, 1)
    await asyncio.wait_for(feed.wait(0, 5, until_sealed=True), 0.1)  # sealed: at once
    listener = asyncio.create_task(feed.wait(0, 5))  # the end is not saved yet
    await asyncio.sleep(0.01)
    assert not listener.done()
    feed.close(end_message(1, DELETED_END))
    await asyncio.wait_for(listener, 1)
    assert feed.end is not None and feed.end["seq"] == 1


async def test_wait_closed_returns_at_the_close_or_the_deadline(feed: Feed) -> None:
    await feed.wait_closed(0.05)
    assert not feed.closed
    asyncio.get_running_loop().call_later(0.02, feed.close, None)
    await asyncio.wait_for(feed.wait_closed(5), 1)
    assert feed.closed


def test_abandoning_closes_a_feed_its_generation_never_closed(feed: Feed) -> None:
    feed.abandon()
    assert feed.closed and feed.end is None
    feed.close(end_message(2, DELETED_END))  # a later close by the generation still counts
    assert feed.end is not None


def test_a_stop_request_reaches_the_generation(feed: Feed) -> None:
    stops: list[bool] = []
    feed.request_stop()  # nobody listening yet: nothing happens
    feed.on_stop = lambda: stops.append(True)
    feed.request_stop()
    assert stops == [True]
