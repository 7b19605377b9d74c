"""Where a client is in a reply (chat/replies/sequence.py): catch-ups, deltas that overlap
them, deltas that come early, duplicates, gaps, and the id of `end`."""

from __future__ import annotations

from chat.replies.messages import CatchupMessage, DeltaMessage
from chat.replies.sequence import Position, Send, end_id


def catchup(seq: int, start: int | None, text: str, reasoning: str = "") -> CatchupMessage:
    return {
        "type": "reply.catchup",
        "seq": seq,
        "from": start,
        "text": text,
        "reasoning": reasoning,
    }


def delta(start: int, *parts: str, reasoning: list[str] | None = None) -> DeltaMessage:
    message: DeltaMessage = {"type": "reply.delta", "from": start, "parts": list(parts)}
    if reasoning is not None:
        message["reasoning"] = reasoning
    return message


def synced_at(last: int) -> Position:
    position = Position(last)
    assert position.catchup(catchup(last, last, "")) == []
    return position


def test_a_client_with_nothing_yet_gets_a_snapshot() -> None:
    position = Position(None)
    assert position.catchup(catchup(5, None, "abcde")) == [Send("snapshot", 5, "abcde")]
    assert (position.last, position.synced) == (5, True)


def test_a_client_with_nothing_yet_gets_nothing_before_the_first_piece() -> None:
    position = Position(None)
    assert position.catchup(catchup(0, None, "")) == []
    assert position.last == 0


def test_a_client_that_resumes_gets_a_delta_of_what_follows() -> None:
    position = Position(3)
    assert position.catchup(catchup(7, 3, "defg")) == [Send("delta", 7, "defg")]
    assert position.last == 7


def test_a_client_from_elsewhere_gets_a_snapshot_even_of_nothing() -> None:
    # Its Last-Event-ID is not a number this reply reached: the catch-up is from the start.
    position = Position(40)
    assert position.catchup(catchup(0, None, "")) == [Send("snapshot", 0, "")]


def test_an_answer_to_an_older_request_is_ignored() -> None:
    position = synced_at(5)
    assert position.catchup(catchup(4, None, "abcd")) == []
    assert position.catchup(catchup(9, 2, "cdefghi")) == []  # from where it no longer is
    assert position.last == 5


def test_a_delta_overlapping_the_catch_up_adds_only_what_is_new() -> None:
    position = Position(None)
    position.catchup(catchup(5, None, "abcde"))
    # Published before the catch-up was answered: pieces 4..7, of which 4 and 5 were in it.
    assert position.delta(delta(3, "d", "e", "f", "g")) == Send("delta", 7, "fg")
    assert position.delta(delta(5, "f", "g")) is None  # all of it already sent
    assert position.delta(delta(7, "中文")) == Send("delta", 8, "中文")


def test_deltas_before_the_first_catch_up_wait_for_it() -> None:
    position = Position(None)
    assert position.delta(delta(2, "c", "d")) is None
    assert position.delta(delta(4, "e")) is None
    assert position.catchup(catchup(3, None, "abc")) == [
        Send("snapshot", 3, "abc"),
        Send("delta", 4, "d"),
        Send("delta", 5, "e"),
    ]


def test_a_delta_starting_past_the_last_piece_is_a_gap() -> None:
    position = synced_at(3)
    assert position.delta(delta(5, "x")) is None
    assert not position.synced and position.last == 3  # a catch-up is needed; nothing shown
    position.resync()
    assert position.delta(delta(6, "g")) is None  # piece 7 waits for the catch-up
    assert position.catchup(catchup(6, 3, "def")) == [
        Send("delta", 6, "def"),
        Send("delta", 7, "g"),
    ]
    assert position.synced and position.last == 7


def test_reasoning_pieces_are_cut_at_the_same_place() -> None:
    position = synced_at(2)
    sent = position.delta(delta(1, "b", "c", reasoning=["thinking b", "thinking c"]))
    assert sent == Send("delta", 3, "c", "thinking c")


def test_end_comes_after_the_last_event_sent() -> None:
    assert end_id(8, None) == 8
    assert end_id(8, 5) == 8
    assert end_id(3, 5) == 6  # ended from an older checkpoint: still last on the stream
