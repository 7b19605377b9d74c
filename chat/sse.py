"""Server-Sent Events framing for the browser leg: one function frames every event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) quotes with

PING = b": ping\n\n"


def frame(event: str, data: Mapping[str, object], event_id: int | None = None) -> bytes:
    """One SSE event. JSON keeps the data on one line whatever the text holds (newlines,
    CR, U+2028), and ensure_ascii=False keeps Chinese text compact on the wire."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {payload}\n\n".encode()


def text_frame(event: str, text: str, reasoning: str, event_id: int) -> bytes:
    """The same bytes as `frame(event, {"text": text, "reasoning": reasoning}, event_id)`,
    without "reasoning" when it is empty: a reply's pieces, framed with no dict and no
    encoder object per piece."""
    data = f'{{"text":{encode_basestring(text)}'
    if reasoning:
        data += f',"reasoning":{encode_basestring(reasoning)}'
    return f"id: {event_id}\nevent: {event}\ndata: {data}}}\n\n".encode()


def retry(ms: int) -> bytes:
    return f"retry: {ms}\n\n".encode()
