"""Anthropic Messages transcripts (PROTOCOLS.md section 4), keyed by model name."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.events import Event
from tests.support.fakes.upstream import Recorded, Scenario
from tests.support.fakes.wire import (
    CHINESE,
    CODE,
    PLAIN,
    Expected,
    failed,
    frame,
    framed_variants,
    json_body,
    pieces,
    raw,
    scenarios_of,
)

MODEL = "claude-sonnet-4-5-20250929"


def start(input_tokens: int, **cache: int) -> Event:
    usage = {"input_tokens": input_tokens, **cache, "output_tokens": 1}
    message = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return Event("message_start", {"type": "message_start", "message": message})


def block(index: int, kind: str = "text") -> list[Event]:
    body: dict[str, object] = {"type": kind, kind if kind != "tool_use" else "input": ""}
    if kind == "thinking":
        body["signature"] = ""
    return [
        Event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": body},
        )
    ]


def delta(index: int, kind: str, key: str, value: str) -> Event:
    return Event(
        "content_block_delta",
        {"type": "content_block_delta", "index": index, "delta": {"type": kind, key: value}},
    )


def stop_block(index: int) -> Event:
    return Event("content_block_stop", {"type": "content_block_stop", "index": index})


def end(stop_reason: str, output_tokens: int, **usage: int) -> list[Event]:
    return [
        Event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {**usage, "output_tokens": output_tokens},
            },
        ),
        Event("message_stop", {"type": "message_stop"}),
    ]


PING = Event("ping", {"type": "ping"})


def text_events(
    text: str, stop: str = "end_turn", usage: tuple[int, int] = (25, 15)
) -> list[Event]:
    return [
        start(usage[0]),
        *block(0),
        PING,
        *(delta(0, "text_delta", "text", p) for p in pieces(text)),
        stop_block(0),
        *end(stop, usage[1]),
    ]


def _error(status: int, type_: str, message: str, **headers: str) -> Scenario:
    body = {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_011"}
    return json_body(status, body, None, **headers)


def _echo_key(rec: Recorded) -> Scenario:
    return _error(401, "authentication_error", f"invalid x-api-key: {rec.headers['x-api-key']}")


# The docs' example as written there (": " spacing), ping included.
_DOCS = """event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-20250514", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

"""  # noqa: E501

# Live payloads pad JSON with runs of spaces before closing braces.
_PADDED = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":'
    '"message","role":"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,'
    '"stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":1}    }      }\n\n'
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    '"content_block":{"type":"text","text":""}          }\n\n'
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    '{"type":"text_delta","text":"Padded"}               }\n\n'
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0   }\n\n'
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    '"stop_sequence":null},"usage":{"output_tokens":2}         }\n\n'
    'event: message_stop\ndata: {"type":"message_stop"           }\n\n'
)

_THINKING = [
    start(30),
    *block(0, "thinking"),
    delta(0, "thinking_delta", "thinking", "The user greets me."),
    delta(0, "thinking_delta", "thinking", " 回应友好。"),
    delta(0, "signature_delta", "signature", "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pk"),
    stop_block(0),
    *block(1),
    delta(1, "text_delta", "text", "Hi! 👋"),
    stop_block(1),
    *end("end_turn", 40),
]

_TOOL = [
    start(50),
    *block(0),
    delta(0, "text_delta", "text", "Let me check."),
    stop_block(0),
    Event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {}},
        },
    ),
    delta(1, "input_json_delta", "partial_json", '{"city": "Paris"}'),
    stop_block(1),
    *end("tool_use", 20),
]

_CACHE = [
    start(3, cache_creation_input_tokens=100, cache_read_input_tokens=2000),
    *block(0),
    delta(0, "text_delta", "text", "Cached."),
    stop_block(0),
    *end(
        "end_turn",
        9,
        input_tokens=3,
        cache_creation_input_tokens=100,
        cache_read_input_tokens=2000,
    ),
]

_OVERLOADED = [
    start(12),
    *block(0),
    delta(0, "text_delta", "text", "Partial"),
    Event(
        "error",
        {
            "type": "error",
            "error": {"details": None, "type": "overloaded_error", "message": "Overloaded"},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        },
    ),
]

TRANSCRIPTS: dict[str, tuple[Scenario | Callable[[Recorded], Scenario], Expected]] = {
    **framed_variants(
        "an-t-plain", text_events(PLAIN), Expected(PLAIN, usage=(25, 15), raw_finish="end_turn")
    ),
    "an-t-docs": (raw(_DOCS), Expected("Hello!", usage=(25, 15), raw_finish="end_turn")),
    "an-t-padded": (raw(_PADDED), Expected("Padded", usage=(8, 2), raw_finish="end_turn")),
    "an-t-chinese": (
        Scenario(body=frame(text_events(CHINESE, usage=(11, 33)))),
        Expected(CHINESE, usage=(11, 33), raw_finish="end_turn"),
    ),
    "an-t-code": (
        Scenario(body=frame(text_events(CODE, usage=(11, 44)))),
        Expected(CODE, usage=(11, 44), raw_finish="end_turn"),
    ),
    "an-t-length": (
        Scenario(body=frame(text_events("Cut at the", "max_tokens", (9, 4)))),
        Expected("Cut at the", usage=(9, 4), finish="length", raw_finish="max_tokens"),
    ),
    "an-t-thinking": (
        Scenario(body=frame(_THINKING)),
        Expected(
            "Hi! 👋",
            usage=(30, 40),
            raw_finish="end_turn",
            reasoning="The user greets me. 回应友好。",
        ),
    ),
    "an-t-tool-use": (
        Scenario(body=frame(_TOOL)),
        Expected("Let me check.", usage=(50, 20), finish="tool_calls", raw_finish="tool_use"),
    ),
    "an-t-cache": (
        Scenario(body=frame(_CACHE)),
        Expected("Cached.", usage=(2103, 9), raw_finish="end_turn"),
    ),
    "an-t-refusal": (
        Scenario(body=frame([start(14), *end("refusal", 1)])),
        # No words at all: shown to the user as an error naming the refusal.
        Expected(
            "",
            status="error",
            usage=(14, 1),
            finish="error",
            raw_finish="refusal",
            error=("withheld this reply", "refusal"),
        ),
    ),
    "an-t-unknown-event": (
        Scenario(
            body=frame(
                [
                    start(5),
                    Event("future_event", {"type": "future_event", "whatever": [1, 2]}),
                    *block(0),
                    delta(0, "citations_delta", "citation", "ignored"),
                    delta(0, "text_delta", "text", "Still fine."),
                    stop_block(0),
                    *end("stop_sequence", 3),
                ]
            )
        ),
        Expected("Still fine.", usage=(5, 3), raw_finish="stop_sequence"),
    ),
    "an-t-overloaded": (
        Scenario(body=frame(_OVERLOADED)),
        failed("reported an error mid-reply: Overloaded", text="Partial"),
    ),
    "an-t-truncated": (
        Scenario(body=frame(text_events("Never ends")[:-2])),
        failed("closed the connection before the reply was finished", text="Never ends"),
    ),
    "an-t-abort": (
        Scenario(body=frame(text_events("Never ends")[:-3]), abort=True),
        failed("broke before the reply was finished", text="Never ends"),
    ),
    "an-t-401": (
        _error(401, "authentication_error", "invalid x-api-key"),
        failed("refused the credentials (HTTP 401)", "invalid x-api-key"),
    ),
    "an-t-key-echo": (_echo_key, failed("(HTTP 401)", "invalid x-api-key: [redacted]")),
    "an-t-403": (
        _error(403, "permission_error", "Your API key does not have permission to use this model."),
        failed("refused the credentials (HTTP 403)", "does not have permission"),
    ),
    "an-t-404": (
        _error(404, "not_found_error", "model: claude-9"),
        failed("rejected the request (HTTP 404)", "model: claude-9"),
    ),
    "an-t-429": (
        _error(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50,000 input "
            "tokens per minute.",
            **{"retry-after": "12"},
        ),
        failed("rate limiting requests; try again in a moment (HTTP 429)", "exceed the rate limit"),
    ),
    "an-t-credit": (
        _error(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
            "Billing to upgrade or purchase credits.",
        ),
        failed(
            "quota is exhausted; retrying will not help (HTTP 400)", "credit balance is too low"
        ),
    ),
    "an-t-500": (
        _error(500, "api_error", "Internal server error"),
        failed("failed (HTTP 500)", "Internal server error"),
    ),
    "an-t-529": (
        _error(529, "overloaded_error", "Overloaded"),
        failed("overloaded; try again in a moment (HTTP 529)", "Overloaded"),
    ),
}
SCENARIOS = scenarios_of(TRANSCRIPTS, paced="an-t-code")
# For the timeout tests: nothing after the headers; one text delta, then nothing.
SCENARIOS["an-first-byte-timeout"] = Scenario(body=[], hang=True)
SCENARIOS["an-idle-timeout"] = Scenario(
    body=frame([start(3), *block(0), delta(0, "text_delta", "text", "Then")]), hang=True
)
