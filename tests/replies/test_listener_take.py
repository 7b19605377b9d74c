"""A listener following a reply written in another process takes published deltas straight to
its connection while it waits (Listener._take, called by the relay's reader): only a delta
that follows what the client has, and only if the connection takes the write; anything else
is left to the listener's loop with its position untouched."""

from __future__ import annotations

from chat.models import Message
from chat.replies.listener import Listener
from chat.replies.messages import CatchupMessage, DeltaMessage


class FakeFlow:
    """The connection's side of chat/server/flow.py: takes writes until told not to."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.open = True

    def write(self, data: bytes) -> bool:
        if self.open:
            self.written.append(data)
        return self.open


def delta(start: int, *parts: str) -> DeltaMessage:
    return {"type": "reply.delta", "from": start, "parts": list(parts)}


def synced_listener(flow: FakeFlow) -> Listener:
    listener = Listener(Message(pk=7), None, flow)  # type: ignore[arg-type]
    catchup: CatchupMessage = {
        "type": "reply.catchup",
        "seq": 2,
        "from": None,
        "text": "ab",
        "reasoning": "",
    }
    listener.position.catchup(catchup)
    return listener


def test_the_next_delta_is_written_and_one_already_sent_is_dropped() -> None:
    flow = FakeFlow()
    listener = synced_listener(flow)

    assert listener._take(delta(2, "c", "甲"))
    assert listener._take(delta(1, "b", "c"))  # brings nothing new

    assert flow.written == [b'id: 4\nevent: delta\ndata: {"text":"c\xe7\x94\xb2"}\n\n']
    assert (listener.position.last, listener.position.synced) == (4, True)


def test_a_gap_or_a_refused_write_is_left_to_the_loop_with_the_position_as_it_was() -> None:
    flow = FakeFlow()
    listener = synced_listener(flow)

    assert not listener._take(delta(3, "d"))  # piece 3 was lost on the way
    flow.open = False
    assert not listener._take(delta(2, "c"))  # paused, say
    end = {"type": "reply.end", "seq": 3}
    assert not listener._take(end)  # type: ignore[arg-type]

    assert flow.written == []
    assert (listener.position.last, listener.position.synced) == (2, True)
