"""OpenAI Chat Completions transcripts (PROTOCOLS.md section 1), keyed by model name."""

from __future__ import annotations

import json

from tests.fakes.upstream import Scenario, openai_chunk, sse

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

SCENARIOS: dict[str, Scenario] = {
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
