"""Where one event-stream client is in a reply, by sequence number, and what to send it next.

Pure bookkeeping, with no I/O, for the listener (chat/replies/listener.py). The rules:

- A reply's pieces of text are numbered 1..n. An event's id is the number of its last piece
  (ids skip where pieces went out together); `end` has n + 1.
- A catch-up (`reply.catchup`, or the same built from a local feed) brings the client up to
  its `seq`: a client with nothing yet gets a `snapshot` (the whole text); a client at k gets
  a `delta` of what follows k. A catch-up that answers an older request is ignored.
- Deltas that arrive before the first catch-up wait for it; pieces the catch-up already
  brought are skipped.
- A delta whose first piece lies past the last piece sent means messages were lost on the
  way (a full channel): nothing is shown, and a new catch-up is needed (`synced` is False).
  The client never shows wrong text.
- `end` comes last: a reply ended from its checkpoint (its process died, or a stop went
  unanswered) has the checkpoint's number, which can be below deltas already sent, so `end`
  takes the next number after the last one sent instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chat.replies.messages import CatchupMessage, DeltaMessage


@dataclass(frozen=True, slots=True)
class Send:
    """One event for the client."""

    event: Literal["delta", "snapshot"]
    seq: int
    text: str
    reasoning: str = ""


def end_id(seq: int, last: int | None) -> int:
    return seq if last is None else max(seq, last + 1)


class Position:
    def __init__(self, last: int | None) -> None:
        self.last = last  # the last piece the client has; None: nothing yet
        self.synced = False  # a catch-up came, and no gap since
        self._early: list[DeltaMessage] = []

    def resync(self) -> None:
        """A new catch-up was asked for: deltas wait for it."""
        self.synced = False

    def catchup(self, message: CatchupMessage) -> list[Send]:
        seq, start = message["seq"], message["from"]
        if self.synced and self.last is not None and seq <= self.last:
            return []  # an answer to an older request
        if start is not None and start != self.last:
            return []  # an answer to an older request, from where this client no longer is
        self.synced = True
        sends = []
        if start is None or self.last is None:
            if seq > 0 or self.last is not None:
                sends.append(Send("snapshot", seq, message["text"], message["reasoning"]))
        elif seq > self.last:
            sends.append(Send("delta", seq, message["text"], message["reasoning"]))
        self.last = seq
        early, self._early = self._early, []
        for delta in early:
            if (send := self.delta(delta)) is not None:
                sends.append(send)
        return sends

    def delta(self, message: DeltaMessage) -> Send | None:
        if not self.synced:
            self._early.append(message)
            return None
        start, parts = message["from"], message["parts"]
        seq, last = start + len(parts), self.last or 0
        if seq <= last:
            return None  # already sent (it was part of a catch-up)
        if start > last:
            self.synced = False  # messages were lost on the way
            return None
        self.last = seq
        skip = last - start  # the first pieces came with a catch-up
        reasoning = message.get("reasoning") or []
        return Send("delta", seq, "".join(parts[skip:]), "".join(reasoning[skip:]))
