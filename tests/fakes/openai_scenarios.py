"""OpenAI Chat Completions transcripts (PROTOCOLS.md section 1), keyed by model name."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.fakes.upstream import Recorded, Scenario, openai_chunk, sse
from tests.fakes.wire import (
    CHINESE,
    CODE,
    PLAIN,
    Expected,
    SSEEvent,
    failed,
    frame,
    framed_variants,
    json_body,
    pieces,
    raw,
)

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


def _text_stream(
    pieces: list[str], finish: str = "stop", usage: tuple[int, int] = (9, 7), delay: float = 0.05
) -> Scenario:
    """Paced so that a client connecting right after the POST sees every chunk as a delta."""
    first = openai_chunk(None, None).replace(
        '"delta":{}', '"delta":{"role":"assistant","content":""}'
    )
    events = [
        first,
        *(openai_chunk(p) for p in pieces),
        openai_chunk(None, finish),
        _usage_chunk(*usage),
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
    messages = getattr(rec, "json")["messages"]  # noqa: B009 (rec is a Recorded request)
    return _paced(echo_pieces(str(messages[-1]["content"])), delay=0.1, first_delay=0.1)


SCENARIOS.update(
    {
        # 60 chunks at 50 ms: long enough to join, drop and come back at random moments.
        "oa-paced": _text_stream(PACED_PIECES, delay=0.05),
        # About 1.5 s: ends within a short shutdown grace period.
        "oa-brief": _text_stream(BRIEF_PIECES, delay=0.1),
        # Idle 0.8 s between chunks (under CHAT_IDLE_TIMEOUT): room for keep-alive pings.
        "oa-idle": _text_stream(IDLE_PIECES, delay=0.8),
        # 400 chunks as fast as the socket takes them: floods the channel layer.
        "oa-burst": _paced(BURST_PIECES, delay=0.0, first_delay=0.0),
        # Echoes the user's message, for many concurrent replies.
        "oa-echo": _echo,
    }
)


# --- Transcripts the provider tests relay, each with the reply it must become ---------------

_ID = "chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF"


def oa(
    delta: dict[str, object] | None = None,
    finish: str | None = None,
    *,
    usage: dict[str, int] | None = None,
    choices: bool = True,
    **extra: object,
) -> dict[str, object]:
    """One chat.completion.chunk, in the field order OpenAI sends."""
    chunk: dict[str, object] = {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": 1727346169,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_5050236cbd",
        "choices": (
            [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}]
            if choices
            else []
        ),
    }
    if usage is not None:
        chunk["usage"] = usage
    chunk.update(extra)
    return chunk


def counts(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def text_events(
    text: str, finish: str = "stop", usage: tuple[int, int] = (12, 9)
) -> list[SSEEvent]:
    return [
        (None, oa({"role": "assistant", "content": "", "refusal": None})),
        *((None, oa({"content": p})) for p in pieces(text)),
        (None, oa({}, finish)),
        (None, oa(choices=False, usage=counts(*usage))),
        (None, "[DONE]"),
    ]


def _echo_key(rec: Recorded) -> Scenario:
    """A server that quotes the refused key back in full, as some proxies do."""
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    return _error_body(401, f"Invalid API key: {key}", "invalid_request_error", "invalid_api_key")


_RECORDED = (
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd",'
    '"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
    '"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Xy"}\n\n'
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd",'
    '"choices":[{"index":0,"delta":{"content":"{\\""},"logprobs":null,"finish_reason":null}],'
    '"usage":null,"obfuscation":"kQ3"}\n\n'
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd",'
    '"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n'
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd",'
    '"choices":[],"usage":{"prompt_tokens":79,"completion_tokens":14,"total_tokens":93,'
    '"completion_tokens_details":{"reasoning_tokens":0}}}\n\n'
    "data: [DONE]\n\n"
)

_DEEPSEEK_USAGE = {
    **counts(16, 24),
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 18},
    "prompt_cache_hit_tokens": 0,
    "prompt_cache_miss_tokens": 16,
}

_LLAMA_USAGE = {"completion_tokens": 3, "prompt_tokens": 8, "total_tokens": 11}
_LLAMA_TIMINGS = {"prompt_n": 8, "prompt_ms": 21.3, "predicted_n": 3, "predicted_ms": 40.2}


def _llama(done_tail: str) -> Scenario:
    head = [
        (None, oa({"role": "assistant", "content": None})),
        (None, oa({"content": "Hi there"})),
        (None, oa({}, "stop", usage=_LLAMA_USAGE, timings=_LLAMA_TIMINGS)),
    ]
    return Scenario(body=[*frame(head), done_tail.encode()])


def _spark_http() -> Scenario:
    """Spark's OpenAI-style HTTP API: `data:` without a space, no finish_reason at all."""

    def chunk(content: str, usage: dict[str, int] | None = None) -> dict[str, object]:
        obj: dict[str, object] = {
            "code": 0,
            "message": "Success",
            "sid": "cha000b0bf9@dx193c8c6b4bcb8f2532",
            "id": "cha000b0bf9@dx193c8c6b4bcb8f2532",
            "created": 1734054045,
            "choices": [{"delta": {"role": "assistant", "content": content}, "index": 0}],
        }
        if usage:
            obj["usage"] = usage
        return obj

    events: list[SSEEvent] = [(None, chunk("你好")), (None, chunk("！", counts(1, 2)))]
    return Scenario(body=[*frame(events, space=False), b"data:[DONE]\n\n"])


TRANSCRIPTS: dict[str, tuple[Scenario | Callable[[Recorded], Scenario], Expected]] = {
    **framed_variants(
        "oa-t-plain", text_events(PLAIN), Expected(PLAIN, usage=(12, 9), raw_finish="stop")
    ),
    "oa-t-chinese": (
        Scenario(body=frame(text_events(CHINESE, usage=(10, 30)))),
        Expected(CHINESE, usage=(10, 30), raw_finish="stop"),
    ),
    "oa-t-code": (
        Scenario(body=frame(text_events(CODE, usage=(7, 40)))),
        Expected(CODE, usage=(7, 40), raw_finish="stop"),
    ),
    "oa-t-length": (
        Scenario(body=frame(text_events("The answer is cut", "length", (5, 4)))),
        Expected("The answer is cut", usage=(5, 4), finish="length", raw_finish="length"),
    ),
    "oa-t-recorded": (raw(_RECORDED), Expected('{"', usage=(79, 14), raw_finish="stop")),
    "oa-t-deepseek-reasoning": (
        Scenario(
            body=[
                b": keep-alive\n\n",
                *frame(
                    [
                        (None, oa({"role": "assistant", "content": None, "reasoning_content": ""})),
                        (None, oa({"content": None, "reasoning_content": "Two plus two"})),
                        (None, oa({"content": None, "reasoning_content": " is four."})),
                        (None, oa({"content": "The answer", "reasoning_content": None})),
                        (None, oa({"content": " is 4.", "reasoning_content": None})),
                        (
                            None,
                            oa(
                                {"content": "", "reasoning_content": None},
                                "stop",
                                usage=_DEEPSEEK_USAGE,
                            ),
                        ),
                        (None, "[DONE]"),
                    ]
                ),
            ]
        ),
        Expected(
            "The answer is 4.", usage=(16, 24), raw_finish="stop", reasoning="Two plus two is four."
        ),
    ),
    "oa-t-ollama-reasoning": (
        Scenario(
            body=frame(
                [
                    (
                        None,
                        oa(
                            {"role": "assistant", "content": "", "reasoning": "Hmm, a greeting."},
                            system_fingerprint="fp_ollama",
                        ),
                    ),
                    (
                        None,
                        oa(
                            {"content": "", "reasoning": " Reply kindly."},
                            system_fingerprint="fp_ollama",
                        ),
                    ),
                    (None, oa({"content": "Hello!"}, system_fingerprint="fp_ollama")),
                    (None, oa({}, "stop", system_fingerprint="fp_ollama")),
                    (None, oa(choices=False, usage=counts(11, 6), system_fingerprint="fp_ollama")),
                    (None, "[DONE]"),
                ]
            )
        ),
        Expected(
            "Hello!", usage=(11, 6), raw_finish="stop", reasoning="Hmm, a greeting. Reply kindly."
        ),
    ),
    "oa-t-refusal": (
        Scenario(
            body=frame(
                [
                    (None, oa({"role": "assistant", "content": None, "refusal": ""})),
                    (None, oa({"content": None, "refusal": "I'm sorry, I can't"})),
                    (None, oa({"content": None, "refusal": " help with that."})),
                    (None, oa({}, "stop")),
                    (None, "[DONE]"),
                ]
            )
        ),
        Expected("I'm sorry, I can't help with that.", raw_finish="stop"),
    ),
    "oa-t-azure": (
        Scenario(
            body=frame(
                [
                    (
                        None,
                        {
                            "choices": [],
                            "created": 0,
                            "id": "",
                            "model": "",
                            "object": "",
                            "prompt_filter_results": [
                                {"prompt_index": 0, "content_filter_results": {}}
                            ],
                        },
                    ),
                    (None, oa({"content": "Filtered"}, content_filter_results={})),
                    (None, oa({}, "content_filter")),
                    (None, "[DONE]"),
                ]
            )
        ),
        Expected("Filtered", finish="content_filter", raw_finish="content_filter"),
    ),
    "oa-t-llamacpp-done-lf": (
        _llama("data: [DONE]\n"),
        Expected("Hi there", usage=(8, 3), raw_finish="stop"),
    ),
    "oa-t-llamacpp-done-bare": (
        _llama("data: [DONE]"),
        Expected("Hi there", usage=(8, 3), raw_finish="stop"),
    ),
    "oa-t-eof-after-finish": (
        Scenario(
            body=frame(
                [(None, oa({"content": "Done"})), (None, oa({}, "stop", usage=counts(3, 1)))]
            )
        ),
        Expected("Done", usage=(3, 1), raw_finish="stop"),
    ),
    "oa-t-spark-http": (_spark_http(), Expected("你好！", usage=(1, 2))),
    "oa-t-done-only": (raw("data: [DONE]\n\n"), failed("ended the reply without sending anything")),
    "oa-t-midstream": (
        Scenario(
            body=frame(
                [
                    (None, oa({"content": "Partial"})),
                    (None, oa({"content": " answer"})),
                    (
                        None,
                        {
                            "error": {
                                "message": "The server had an error processing your request.",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        },
                    ),
                    (None, "[DONE]"),
                ]
            )
        ),
        failed(
            "reported an error mid-reply",
            "The server had an error processing your request.",
            text="Partial answer",
        ),
    ),
    "oa-t-vllm-midstream": (
        Scenario(
            body=[
                *frame(
                    [
                        (None, oa({"role": "assistant", "content": ""})),
                        (None, oa({"content": "Par"})),
                    ]
                ),
                b'data: {"error": {"object": "error", "message": "This model\'s maximum context '
                b'length is 4096 tokens.", "type": "BadRequestError", "param": null, "code": 400}}'
                b"\n\n",
                b"data: [DONE]\n\n",
            ]
        ),
        failed("maximum context length is 4096 tokens", text="Par"),
    ),
    "oa-t-llamacpp-error-field": (
        Scenario(
            body=[
                *frame([(None, oa({"role": "assistant", "content": None}))]),
                b'error: {"code":400,"message":"the request exceeds the available context size",'
                b'"type":"invalid_request_error"}\n\n',
                b"data: [DONE]\n\n",
            ]
        ),
        failed("the request exceeds the available context size"),
    ),
    "oa-t-insufficient-resource": (
        Scenario(
            body=frame(
                [
                    (None, oa({"content": "Half"})),
                    (None, oa({}, "insufficient_system_resource")),
                    (None, "[DONE]"),
                ]
            )
        ),
        failed(
            "stopped the reply before it was complete",
            text="Half",
            raw_finish="insufficient_system_resource",
        ),
    ),
    "oa-t-truncated": (
        Scenario(body=frame([(None, oa({"content": "Cut"})), (None, oa({"content": " off"}))])),
        failed("closed the connection before the reply was finished", text="Cut off"),
    ),
    "oa-t-abort": (
        Scenario(
            body=frame([(None, oa({"content": "Cut"})), (None, oa({"content": " off"}))]),
            abort=True,
        ),
        failed("broke before the reply was finished", text="Cut off"),
    ),
    "oa-t-unterminated": (
        Scenario(
            body=[
                *frame([(None, oa({"content": "Almost"}))]),
                b'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
            ]
        ),
        failed("closed the connection before the reply was finished", text="Almost"),
    ),
    "oa-t-vllm-old-400": (
        json_body(
            400,
            {
                "object": "error",
                "message": "The model `llama-9` does not exist.",
                "type": "NotFoundError",
                "param": None,
                "code": 404,
            },
            indent=None,
        ),
        failed("rejected the request (HTTP 400)", "The model `llama-9` does not exist."),
    ),
    "oa-t-vllm-new-400": (
        json_body(
            400,
            {
                "error": {
                    "message": "max_tokens must be at least 1, got -1.",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                }
            },
            indent=None,
        ),
        failed("rejected the request (HTTP 400)", "max_tokens must be at least 1, got -1."),
    ),
    "oa-t-llamacpp-400": (
        json_body(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 5000,
                    "n_ctx": 4096,
                }
            },
            indent=None,
        ),
        failed("rejected the request (HTTP 400)", "the request exceeds the available context size"),
    ),
    "oa-t-ollama-404": (
        json_body(
            404,
            {
                "error": {
                    "message": 'model "llama9" not found, try pulling it first',
                    "type": "not_found_error",
                    "param": None,
                    "code": None,
                }
            },
            indent=None,
        ),
        failed("rejected the request (HTTP 404)", 'model "llama9" not found, try pulling it first'),
    ),
    "oa-t-deepseek-402": (
        json_body(
            402,
            {
                "error": {
                    "message": "Insufficient Balance",
                    "type": "unknown_error",
                    "param": None,
                    "code": "invalid_request_error",
                }
            },
            indent=None,
        ),
        failed("quota is exhausted; retrying will not help (HTTP 402)", "Insufficient Balance"),
    ),
    "oa-t-plain-text-502": (
        raw("<html><body>Bad gateway</body></html>", status=502),
        failed("failed (HTTP 502)", "Bad gateway"),
    ),
    "oa-t-key-echo": (
        _echo_key,
        failed("refused the credentials (HTTP 401)", "Invalid API key: [redacted]"),
    ),
    "oa-401": (
        SCENARIOS["oa-401"],
        failed("refused the credentials (HTTP 401)", "Incorrect API key provided"),
    ),
    "oa-403": (
        SCENARIOS["oa-403"],
        failed("refused the credentials (HTTP 403)", "Country, region, or territory not supported"),
    ),
    "oa-429": (
        SCENARIOS["oa-429"],
        failed(
            "rate limiting requests; try again in a moment (HTTP 429)",
            "Rate limit reached for gpt-4o-mini",
        ),
    ),
    "oa-quota": (
        SCENARIOS["oa-quota"],
        failed(
            "quota is exhausted; retrying will not help (HTTP 429)",
            "You exceeded your current quota",
        ),
    ),
    "oa-500": (
        SCENARIOS["oa-500"],
        failed("failed (HTTP 500)", "The server had an error while processing your request."),
    ),
    "oa-malformed": (
        SCENARIOS["oa-malformed"],
        failed("sent a malformed chunk", text="Fine so far"),
    ),
}
SCENARIOS.update({name: scenario for name, (scenario, _) in TRANSCRIPTS.items()})  # type: ignore[misc]


# --- Streams for the streaming tests (test_streaming.py, test_streaming_failures.py) ---------

SLOW_TEXT = "".join(f"word{i} " for i in range(40))  # what oa-slow sends
STOPPABLE_TEXT = "".join(f"part{i} " for i in range(80))
SEPARATORS_PIECES = ["Line one\r\n", "line two\u2028same line", "\rcr ", "中文\n\n- item"]
SEPARATORS_TEXT = "".join(SEPARATORS_PIECES)
ECHOED_KEY_PREFIX = "Incorrect API key provided: "


def _key_in_error(rec: Recorded) -> Scenario:
    """A server that quotes the refused key back in full, as some proxies do."""
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    return _error_body(401, ECHOED_KEY_PREFIX + key, "invalid_request_error", "invalid_api_key")


def _key_in_midstream_error(rec: Recorded) -> Scenario:
    key = rec.headers.get("authorization", "").removeprefix("Bearer ")
    error = {"error": {"message": f"Key {key} was revoked", "type": "auth", "code": None}}
    return Scenario(body=sse(openai_chunk("Some text"), "data: " + json.dumps(error)))


SCENARIOS.update(
    {
        # 80 chunks at 100 ms, only for the stop test: its request is the last of its model.
        "oa-stoppable": _text_stream([f"part{i} " for i in range(80)], delay=0.1),
        "oa-separators": _text_stream(SEPARATORS_PIECES),
        "oa-history": _text_stream(["Noted."]),
        "oa-key-in-error": _key_in_error,
        "oa-key-in-midstream-error": _key_in_midstream_error,
    }
)
