"""Server-Sent Events framing for the browser leg: one function frames every event."""

from __future__ import annotations

import json
from collections.abc import Mapping

PING = b": ping\n\n"


def frame(event: str, data: Mapping[str, object], event_id: int | None = None) -> bytes:
    """One SSE event. JSON keeps the data on one line whatever the text holds (newlines,
    CR, U+2028), and ensure_ascii=False keeps Chinese text compact on the wire."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {payload}\n\n".encode()


def retry(ms: int) -> bytes:
    return f"retry: {ms}\n\n".encode()
