"""A listener in the generation's process that has sent everything is written to directly:
each piece the feed gets goes to its connection at once (Flow.write, daphne's request), and
whatever the connection cannot take goes the usual way, through the listener's own stream.

The connection here is a stand-in for daphne's Twisted request with the calls Flow makes of
it; the real one is exercised by every streaming test against a live daphne."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from chat.models import Message
from chat.replies.feed import Feed
from chat.replies.listener import Listener
from chat.server.flow import SCOPE_KEY, Flow


class Connection:
    """What Flow uses of twisted.web.http.Request."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.producer: object = None
        self.finished = False
        self.channel: object = object()
        self.refuse = False

    def registerProducer(self, producer: object, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def write(self, data: bytes) -> None:
        if self.refuse:
            raise RuntimeError("Request.write called on a request after Request.finish")
        self.written.append(data)


def deltas(frames: list[bytes]) -> list[str]:
    texts = []
    for frame in frames:
        event = dict(line.split(": ", 1) for line in frame.decode().splitlines() if ": " in line)
        if event.get("event") == "delta":
            texts.append(json.loads(event["data"])["text"])
    return texts


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def started(feed: Feed, connection: Connection) -> tuple[Listener, AsyncIterator[bytes]]:
    reply = Message(pk=feed.reply_id, role=Message.Role.ASSISTANT, status=Message.Status.STREAMING)
    listener = Listener(reply, None, Flow({SCOPE_KEY: connection}))
    events = listener.events()
    assert await anext(events) == b"retry: 1000\n\n"
    return listener, events


async def test_pieces_go_straight_to_a_listener_that_has_sent_everything(feed: Feed) -> None:
    connection = Connection()
    listener, events = await started(feed, connection)
    waiting = asyncio.ensure_future(anext(events))  # the stream's own next event
    await settle()
    assert feed.readers == [listener]
    feed.append("你")
    feed.append("好")
    assert deltas(connection.written) == ["你", "好"]  # written at once, in order
    assert listener.position.last == 2
    assert not waiting.done()  # the listener's task was not needed
    waiting.cancel()  # the client went away
    await settle()
    assert feed.readers == []


async def test_a_paused_connection_gets_what_it_missed_as_one_event_once_resumed(
    feed: Feed,
) -> None:
    connection = Connection()
    listener, events = await started(feed, connection)
    waiting = asyncio.ensure_future(anext(events))
    await settle()
    feed.append("a")
    listener.flow.pauseProducing()  # Twisted: the connection's buffer is full
    feed.append("b")
    feed.append("c")
    assert deltas(connection.written) == ["a"]
    listener.flow.resumeProducing()
    frame = await asyncio.wait_for(waiting, 2)
    assert deltas([frame]) == ["bc"]  # through the stream, the usual way
    assert listener.position.last == 3
    await events.aclose()


async def test_a_write_the_connection_refuses_goes_the_usual_way(feed: Feed) -> None:
    connection = Connection()
    _listener, events = await started(feed, connection)
    waiting = asyncio.ensure_future(anext(events))
    await settle()
    connection.refuse = True
    feed.append("x")  # must not raise into the generation
    frame = await asyncio.wait_for(waiting, 2)
    assert deltas([frame]) == ["x"] and connection.written == []
    await events.aclose()
