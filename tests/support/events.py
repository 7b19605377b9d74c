"""The Server-Sent Event of the tests: what the site sends, as the tests' clients read it, and
what a fake upstream writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chat.providers.sse import SSEEvent


@dataclass(frozen=True)
class Event:
    """One event. Its `data` is JSON: read from the site, the decoded object every event of
    the site carries; written by a fake upstream, an object to encode or text written as it
    is (`[DONE]`, a broken line). An event without an `event:` line is a `message`."""

    event: str
    data: Any
    id: str = ""

    @classmethod
    def read(cls, sse: SSEEvent) -> Event:
        """An event the site sent, as the parser gave it."""
        return cls(sse.event, json.loads(sse.data), sse.id)
