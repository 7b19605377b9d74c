"""OpenAI Chat Completions transcripts (PROTOCOLS.md section 1), keyed by model name."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.support.fakes.upstream import Recorded, Scenario, openai_chunk, sse

PLAIN_TEXT = "Hello! 你好，世界 🌏"


def _usage_chunk(prompt: int, completion: int) -> str:
    return "data: " + json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 1727346169,
            "model": "gpt-4o-mini",
            "choices": [],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        },
        separators=(",", ":"),
    )


def _surrogate_stream() -> Scenario:
    pieces = ["Earth ", "@HIGH@", "@LOW@", "!", " broken @HIGH@"]
    chunks = [
        openai_chunk(p).replace("@HIGH@", "\\ud83c").replace("@LOW@", "\\udf0f") for p in pieces
    ]
    events = [*chunks, openai_chunk(None, "stop"), "data: [DONE]"]
    return Scenario(body=sse(*events), delay=0.02, first_delay=0.3)


def _text_stream(
    pieces: list[str],
    finish: str = "stop",
    usage: tuple[int, int] | None = (9, 7),
    delay: float = 0.05,
) -> Scenario:
    """Paced so that a client connecting right after the POST sees every chunk as a delta.
    Without `usage`, like a compatible server not asked for `stream_options.include_usage`."""
    first = openai_chunk(None, None).replace(
        '"delta":{}', '"delta":{"role":"assistant","content":""}'
    )
    events = [
        first,
        *(openai_chunk(p) for p in pieces),
        openai_chunk(None, finish),
        *([_usage_chunk(*usage)] if usage else []),
        "data: [DONE]",
    ]
    return Scenario(body=sse(*events), delay=delay, first_delay=0.3)


def _error_body(status: int, message: str, type_: str, code: str | None) -> Scenario:
    body = json.dumps(
        {"error": {"message": message, "type": type_, "param": None, "code": code}}, indent=4
    )
    return Scenario(status=status, body=[body.encode()], content_type="application/json")


CODE_REPLY = "Here:\n\n```python\nprint('hi')\n```\n"

SCENARIOS: dict[str, Scenario | Callable[[Recorded], Scenario]] = {
    "oa-plain": _text_stream(["Hello", "!", " 你好", "，世界", " 🌏"]),
    "oa-code": _text_stream(["Here:\n\n```python\n", "print('hi')\n", "```\n"]),
    "oa-length": _text_stream(["Cut", " short"], finish="length"),
    # 40 chunks at 100 ms: long enough to stop, reload or disconnect in the middle.
    "oa-slow": _text_stream([f"word{i} " for i in range(40)], delay=0.1),
    "oa-xss": _text_stream(
        [
            '<img src=x onerror="alert(1)">',
            " [click](javascript:alert(1))",
            " <script>alert(2)</script>",
        ]
    ),
    "oa-401": _error_body(
        401,
        "Incorrect API key provided: sk-te**********. You can find your "
        "API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "oa-403": _error_body(
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "oa-429": _error_body(
        429,
        "Rate limit reached for gpt-4o-mini on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1.",
        "requests",
        "rate_limit_exceeded",
    ),
    "oa-quota": _error_body(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "oa-500": _error_body(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    "oa-midstream-error": Scenario(
        body=sse(
            openai_chunk("Partial"),
            openai_chunk(" answer"),
            'data: {"error":{"message":"The server had an error processing your request.",'
            '"type":"server_error","param":null,"code":null}}',
            "data: [DONE]",
        )
    ),
    "oa-malformed": Scenario(body=sse(openai_chunk("Fine so far"), "data: {not json")),
    "oa-truncated": Scenario(body=sse(openai_chunk("Cut"), openai_chunk(" off"))),
    "oa-first-byte-timeout": Scenario(body=[], hang=True),
    "oa-idle-timeout": Scenario(body=sse(openai_chunk("Then")), hang=True),
}


# --- Streams for the resilience and scale-out tests ------------------------------------------
# Their texts are exported so tests compare what a reader ends with to what was sent.

PACED_PIECES = [f"Line {i}: 第{i}段 ✓\n" if i % 7 == 0 else f"chunk{i} " for i in range(60)]
PACED_TEXT = "".join(PACED_PIECES)
BRIEF_PIECES = [f"brief{i} " for i in range(12)]
BRIEF_TEXT = "".join(BRIEF_PIECES)
IDLE_PIECES = ["Waiting", " between", " chunks", "."]
IDLE_TEXT = "".join(IDLE_PIECES)
BURST_PIECES = [f"b{i}·" for i in range(400)]
BURST_TEXT = "".join(BURST_PIECES)


def echo_pieces(content: str) -> list[str]:
    """A reply that names the message it answers: replies cannot be mixed up unnoticed."""
    return [f"Re: {content}", " — ", *(f"{content}/{i} " for i in range(8)), "完毕 🌏"]


def echo_text(content: str) -> str:
    return "".join(echo_pieces(content))


def _paced(pieces: list[str], delay: float, first_delay: float) -> Scenario:
    stream = _text_stream(pieces, delay=delay)
    stream.first_delay = first_delay
    return stream


def _echo(rec: object) -> Scenario:
    """Holds the first byte for 2 s, so that replies sent around the same time overlap."""
    messages = getattr(rec, "json")["messages"]  # noqa: B009 (rec is a Recorded request)
    return _paced(echo_pieces(str(messages[-1]["content"])), delay=0.05, first_delay=2.0)


SCENARIOS.update(
    {
        # 60 chunks at 50 ms: long enough to join, drop and come back at random moments.
        "oa-paced": _text_stream(PACED_PIECES, delay=0.05),
        # About 1.5 s: ends within a short shutdown grace period.
        "oa-brief": _text_stream(BRIEF_PIECES, delay=0.1),
        # Idle 0.8 s between chunks (under CHAT_IDLE_TIMEOUT): room for keep-alive pings.
        "oa-idle": _text_stream(IDLE_PIECES, delay=0.8),
        # After 1 s (time for listeners to join), 400 chunks 5 ms apart: many of these at
        # once flood the channel layer.
        "oa-burst": _paced(BURST_PIECES, delay=0.005, first_delay=1.0),
        # Echoes the user's message, for many concurrent replies.
        "oa-echo": _echo,
    }
)


# --- Streams for the streaming tests (test_event_stream.py, test_upstream_failures.py) -----

SLOW_TEXT = "".join(f"word{i} " for i in range(40))  # what oa-slow sends
STEADY_PIECES = [f"step{i} " for i in range(40)]
STEADY_TEXT = "".join(STEADY_PIECES)
STOPPABLE_TEXT = "".join(f"part{i} " for i in range(80))
SEPARATORS_PIECES = ["Line one\r\n", "line two\u2028same line", "\rcr ", "中文\n\n- item"]
SEPARATORS_TEXT = "".join(SEPARATORS_PIECES)
ECHOED_KEY_PREFIX = "Incorrect API key provided: "


def _key_in_error(rec: Recorded) -> Scenario:
    """A server that quotes the refused key back in full, as some proxies do."""
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    return _error_body(401, ECHOED_KEY_PREFIX + key, "invalid_request_error", "invalid_api_key")


def _key_in_reply(rec: Recorded) -> Scenario:
    """An upstream that echoes its Authorization header into the reply, the key split over
    three chunks, once more whole, and once in the thinking text."""
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    third = len(key) // 3
    pieces = [
        f"Your header was Bearer {key[:third]}",
        key[third : 2 * third],
        f"{key[2 * third :]}!",
    ]
    pieces.append(f" Again: {key}. ")
    chunks = [openai_chunk(p) for p in pieces]
    thinking = {"choices": [{"index": 0, "delta": {"reasoning_content": f"thinking of {key}"}}]}
    chunks.insert(1, "data: " + json.dumps(thinking))
    chunks.append(openai_chunk("", finish="stop"))
    return Scenario(body=sse(*chunks, "data: [DONE]"))


def _key_in_midstream_error(rec: Recorded) -> Scenario:
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    error = {"error": {"message": f"Key {key} was revoked", "type": "auth", "code": None}}
    return Scenario(body=sse(openai_chunk("Some text"), "data: " + json.dumps(error)))


SCENARIOS.update(
    {
        # oa-plain's pieces, 1 s after the headers and 100 ms apart: a listener that connects
        # after the POST sees every piece as its own delta, even on a busy machine.
        "oa-exact": _paced(["Hello", "!", " 你好", "，世界", " 🌏"], delay=0.1, first_delay=1.0),
        # 40 chunks at 50 ms: time to disconnect, reconnect and join in the middle.
        "oa-steady": _text_stream(STEADY_PIECES),
        # 80 chunks at 100 ms, only for the stop test: its request is the last of its model.
        "oa-stoppable": _text_stream([f"part{i} " for i in range(80)], delay=0.1),
        "oa-separators": _text_stream(SEPARATORS_PIECES),
        "oa-history": _text_stream(["Noted."]),
        # A null character, which PostgreSQL cannot store, in the middle of a reply.
        "oa-nul": _text_stream(["Before", "\u0000", " after"]),
        # An emoji whose UTF-16 surrogate pair is split between two chunks (JSON escapes), and
        # a high surrogate that never gets its pair.
        "oa-split-surrogate": _surrogate_stream(),
        "oa-key-in-error": _key_in_error,
        "oa-key-in-midstream-error": _key_in_midstream_error,
        "oa-key-in-reply": _key_in_reply,
    }
)


PAUSE_BEFORE = "Before the pause."


def _with_pause(before: str, after: str, pause: float) -> Scenario:
    """`before` at once, then silence for `pause` seconds, then the rest of the reply."""
    body = _text_stream([before, after]).body  # the role chunk, before, after, then the end
    return Scenario(body=[b"".join(body[:2]), b"".join(body[2:])], delay=pause, first_delay=0.3)


SCENARIOS.update(
    {
        # Quiet for longer than the channel layer's blocking receive (5 s on channels-redis).
        "oa-pause": _with_pause(PAUSE_BEFORE, " After it.", 6.0),
    }
)


# --- A flood for a reader that stops reading (test_slow_readers.py) -------------------------

# 3,000 chunks 1 ms apart, about 190 bytes of UTF-8 each (570 KB): far more than the socket
# buffers and Twisted's 64 KB write buffer hold.
FLOOD_PIECES = [f"{i:04d}:" + "流水不腐" * 15 + "\n" for i in range(3000)]
FLOOD_TEXT = "".join(FLOOD_PIECES)
SCENARIOS["oa-flood"] = _text_stream(FLOOD_PIECES, delay=0.001)
# The same over about 9 s: still being written well after a reader's stall ends.
SCENARIOS["oa-flood-slow"] = _text_stream(FLOOD_PIECES, delay=0.003)


# --- A model with a small context (tests/replies/test_context_fitting.py) -----------------

SMALL_CONTEXT_CHARS = 3_000  # oa-small-context refuses a request holding more text than this


def _small_context(rec: Recorded) -> Scenario:
    """Refuses, exactly as OpenAI does, a conversation holding more than
    SMALL_CONTEXT_CHARS characters; otherwise answers how many messages it was sent, and
    reports no usage (the site then counts what it sent by its estimate)."""
    messages = getattr(rec, "json")["messages"]  # noqa: B009 (rec is a Recorded request)
    chars = sum(len(str(m["content"])) for m in messages)
    if chars > SMALL_CONTEXT_CHARS:
        return _error_body(
            400,
            "This model's maximum context length is 1000 tokens. However, your messages "
            f"resulted in {chars // 3} tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        )
    return _text_stream([f"Read {len(messages)} messages."], usage=None, delay=0.01)


SCENARIOS["oa-small-context"] = _small_context
