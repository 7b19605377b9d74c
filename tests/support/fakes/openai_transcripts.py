"""OpenAI Chat Completions transcripts (PROTOCOLS.md section 1) with the reply each must
become: the framings, Chinese, a code fence, length, the recorded shape, and the failures."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.events import Event
from tests.support.fakes.openai_scenarios import SCENARIOS as BASE
from tests.support.fakes.openai_scenarios import _error_body
from tests.support.fakes.upstream import Recorded, Scenario
from tests.support.fakes.wire import (
    CHINESE,
    CODE,
    PLAIN,
    Expected,
    data_only,
    failed,
    frame,
    framed_variants,
    pieces,
    raw,
)

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


def text_events(text: str, finish: str = "stop", usage: tuple[int, int] = (12, 9)) -> list[Event]:
    return [
        data_only(oa({"role": "assistant", "content": "", "refusal": None})),
        *(data_only(oa({"content": p})) for p in pieces(text)),
        data_only(oa({}, finish)),
        data_only(oa(choices=False, usage=counts(*usage))),
        data_only("[DONE]"),
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
    "oa-t-done-only": (raw("data: [DONE]\n\n"), failed("ended the reply without sending anything")),
    "oa-t-midstream": (
        Scenario(
            body=frame(
                [
                    data_only(oa({"content": "Partial"})),
                    data_only(oa({"content": " answer"})),
                    data_only(
                        {
                            "error": {
                                "message": "The server had an error processing your request.",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        },
                    ),
                    data_only("[DONE]"),
                ]
            )
        ),
        failed(
            "reported an error mid-reply",
            "The server had an error processing your request.",
            text="Partial answer",
        ),
    ),
    "oa-t-done-held-open": (
        Scenario(body=frame(text_events("Done.", usage=(2, 2))), hang=True),
        Expected("Done.", usage=(2, 2), raw_finish="stop"),
    ),
    "oa-t-truncated": (
        Scenario(
            body=frame([data_only(oa({"content": "Cut"})), data_only(oa({"content": " off"}))])
        ),
        failed("closed the connection before the reply was finished", text="Cut off"),
    ),
    "oa-t-abort": (
        Scenario(
            body=frame([data_only(oa({"content": "Cut"})), data_only(oa({"content": " off"}))]),
            abort=True,
        ),
        failed("broke before the reply was finished", text="Cut off"),
    ),
    "oa-t-unterminated": (
        Scenario(
            body=[
                *frame([data_only(oa({"content": "Almost"}))]),
                b'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
            ]
        ),
        failed("closed the connection before the reply was finished", text="Almost"),
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
        BASE["oa-401"],
        failed("refused the credentials (HTTP 401)", "Incorrect API key provided"),
    ),
    "oa-403": (
        BASE["oa-403"],
        failed("refused the credentials (HTTP 403)", "Country, region, or territory not supported"),
    ),
    "oa-429": (
        BASE["oa-429"],
        failed(
            "rate limiting requests; try again in a moment (HTTP 429)",
            "Rate limit reached for gpt-4o-mini",
        ),
    ),
    "oa-quota": (
        BASE["oa-quota"],
        failed(
            "quota is exhausted; retrying will not help (HTTP 429)",
            "You exceeded your current quota",
        ),
    ),
    "oa-500": (
        BASE["oa-500"],
        failed("failed (HTTP 500)", "The server had an error while processing your request."),
    ),
    "oa-malformed": (
        BASE["oa-malformed"],
        failed("sent a malformed chunk", text="Fine so far"),
    ),
}
