"""Writing transcripts: SSE framing in every legal shape, and what each reply should become.

A transcript's events (tests/support/events.py) are framed by `frame` with LF, CRLF or lone-CR
line ends, keep-alive comments, `data:` without its space, or the data spread over several
`data:` lines (pretty-printed JSON: its line breaks fall between tokens, and the parser joins
the lines with LF, which JSON reads as white space).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any, TypeVar

from tests.support.events import Event
from tests.support.fakes.upstream import Scenario

SSEData = dict[str, object] | str


@dataclass(frozen=True)
class Expected:
    """What the saved reply must hold once the transcript went through the site."""

    text: str = ""
    _: KW_ONLY
    status: str = "complete"
    usage: tuple[int | None, int | None] = (None, None)
    finish: str = "stop"  # normalised; "error" for every failed reply
    raw_finish: str = ""  # the provider's own value
    error: tuple[str, ...] = ()  # parts the error message must contain
    reasoning: str = ""


T = TypeVar("T")


def scenarios_of(transcripts: Mapping[str, tuple[T, Expected]], paced: str) -> dict[str, T]:
    """A transcript table's scenarios by name, plus `<paced>-paced`: that reply written in
    steps, so that a browser opening the stream after the POST sees the text arrive."""
    scenarios = {name: scenario for name, (scenario, _) in transcripts.items()}
    scenarios[f"{paced}-paced"] = replace(  # type: ignore[type-var]
        scenarios[paced], delay=0.05, first_delay=0.5
    )
    return scenarios


def failed(*error: str, text: str = "", raw_finish: str = "") -> Expected:
    return Expected(text=text, status="error", finish="error", raw_finish=raw_finish, error=error)


def _data(data: SSEData, *, multiline: bool, spacing: tuple[str, str]) -> list[str]:
    if isinstance(data, str):
        return [data]
    if multiline:
        return json.dumps(data, ensure_ascii=False, indent=1).split("\n")
    return [json.dumps(data, ensure_ascii=False, separators=spacing)]


def data_only(data: SSEData) -> Event:
    """An event written without an `event:` line (a `message`, as the reader sees it)."""
    return Event("message", data)


def frame(
    events: list[Event],
    *,
    eol: str = "\n",
    space: bool = True,
    comments: bool = False,
    multiline: bool = False,
    spacing: tuple[str, str] = (",", ":"),
) -> list[bytes]:
    """Each event as one write, framed as asked."""
    prefix = "data: " if space else "data:"
    writes = []
    for i, event in enumerate(events):
        lines = []
        if comments:
            # A comment-only block, then a comment glued to the event (OpenRouter's habit).
            writes.append(f": keep-alive {i}{eol}{eol}".encode())
            lines.append(": OPENROUTER PROCESSING")
        if event.event != "message":
            lines.append(f"event: {event.event}" if space else f"event:{event.event}")
        if event.id:
            lines.append(f"id: {event.id}" if space else f"id:{event.id}")
        lines += [prefix + line for line in _data(event.data, multiline=multiline, spacing=spacing)]
        writes.append((eol.join(lines) + eol + eol).encode())
    return writes


# The framing variants every SSE provider is put through, with the plain transcript.
FRAMINGS: dict[str, dict[str, Any]] = {
    "crlf": {"eol": "\r\n"},
    "cr": {"eol": "\r"},
    "comments": {"comments": True},
    "nospace": {"space": False},
    "multiline": {"multiline": True},
}


def framed_variants(
    name: str, events: list[Event], expected: Expected, **base: Any
) -> dict[str, tuple[Scenario, Expected]]:
    """`name` framed as given, and `name-<framing>` for every framing in FRAMINGS."""
    out = {name: (Scenario(body=frame(events, **base)), expected)}
    for suffix, options in FRAMINGS.items():
        merged = {**base, **options}
        out[f"{name}-{suffix}"] = (Scenario(body=frame(events, **merged)), expected)
    return out


def raw(body: str | bytes, status: int = 200, **options: object) -> Scenario:
    """A byte-exact transcript written in one piece (split by @bytes and @utf8)."""
    data = body.encode() if isinstance(body, str) else body
    content_type = "text/event-stream; charset=utf-8" if status == 200 else "application/json"
    return Scenario(status=status, body=[data], content_type=content_type, **options)


def json_body(status: int, body: object, indent: int | None = 2, **headers: str) -> Scenario:
    text = json.dumps(body, indent=indent, ensure_ascii=False)
    return Scenario(
        status=status, body=[text.encode()], content_type="application/json", headers=headers
    )


# Reply texts the transcripts of every provider carry.
PLAIN = "Hello! How can I help you today?"
CHINESE = "你好，世界！🌏✨ 这是一个测试：表情 👩‍💻 和汉字混排，标点「」也在。"
CODE = (
    "Here is the code:\n\n```python\ndef greet(name: str) -> str:\n"
    '    return f"Hello, {name}!"\n```\n\nDone.'
)


def pieces(text: str, size: int = 5) -> list[str]:
    """The text in the small pieces an upstream streams."""
    return [text[i : i + size] for i in range(0, len(text), size)]
