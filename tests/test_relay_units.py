"""The listener's bookkeeping of sequence numbers on the channel-layer path (listeners in
another process than the generation): catch-ups, overlapping messages, gaps, duplicates."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from chat.flow import Flow
from chat.relay import Listener


def listener(last: int | None = None) -> Listener:
    reply: Any = SimpleNamespace(pk=1, worker_channel="", is_finished=False)
    return Listener(reply, last, Flow({}))


def delta(start: int, *parts: str) -> dict[str, object]:
    return {"type": "reply.delta", "from": start, "parts": list(parts)}


def shown(frame: bytes | None) -> tuple[str, str] | None:
    if frame is None:
        return None
    fields = dict(line.split(": ", 1) for line in frame.decode().strip().split("\n"))
    return fields["id"], json.loads(fields["data"])["text"]


def test_a_message_overlapping_the_catch_up_adds_only_what_is_new() -> None:
    lis = listener()
    frames = lis._apply_catchup(
        {"type": "reply.catchup", "seq": 5, "from": None, "text": "abcde", "reasoning": ""}
    )
    assert frames and lis.synced and lis.last == 5
    # Published before the catch-up was answered: pieces 4..7, of which 4 and 5 were in it.
    assert shown(lis._apply_delta(delta(3, "d", "e", "f", "g"))) == ("7", "fg")
    assert lis._apply_delta(delta(5, "f", "g")) is None  # all of it already sent
    assert shown(lis._apply_delta(delta(7, "中文"))) == ("8", "中文")


def test_a_message_starting_past_the_last_piece_is_a_gap() -> None:
    lis = listener(last=3)
    lis.synced = True
    assert lis._apply_delta(delta(5, "x")) is None
    assert not lis.synced and lis.last == 3  # a catch-up is asked for; nothing was shown


def test_reasoning_pieces_are_cut_at_the_same_place() -> None:
    lis = listener(last=2)
    lis.synced = True
    message = {**delta(1, "b", "c"), "reasoning": ["thinking b", "thinking c"]}
    frame = lis._apply_delta(message)
    assert frame is not None
    data = json.loads(frame.decode().split("data: ", 1)[1])
    assert data == {"text": "c", "reasoning": "thinking c"}
