"""Legacy OpenAI Completions transcripts (PROTOCOLS.md section 2), keyed by model name."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.events import Event
from tests.support.fakes.openai_transcripts import counts
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
    json_body,
    pieces,
    scenarios_of,
)


def cmp(text: str | None, finish: str | None = None, **extra: object) -> dict[str, object]:
    """One text_completion chunk: no delta, the text is choices[0].text."""
    chunk: dict[str, object] = {
        "id": "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe",
        "object": "text_completion",
        "created": 1690759702,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        "model": "gpt-3.5-turbo-instruct",
        "system_fingerprint": "fp_44709d6fcb",
    }
    chunk.update(extra)
    return chunk


def _usage(prompt: int, completion: int) -> dict[str, object]:
    return {
        "id": "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe",
        "object": "text_completion",
        "created": 1690759702,
        "choices": [],
        "model": "gpt-3.5-turbo-instruct",
        "usage": counts(prompt, completion),
    }


def text_events(text: str, finish: str = "stop", usage: tuple[int, int] = (14, 8)) -> list[Event]:
    *head, last = pieces(text)
    # The finish reason rides on the chunk with the last text.
    return [
        *(data_only(cmp(p)) for p in head),
        data_only(cmp(last, finish)),
        data_only(_usage(*usage)),
        data_only("[DONE]"),
    ]


def _vllm() -> Scenario:
    """vLLM: stop_reason and usage null on every chunk; usage chunk and [DONE] in one write."""
    chunks = [cmp(p, None, stop_reason=None, usage=None) for p in ("Once", " upon", " a time")] + [
        cmp("", "length", stop_reason=None, usage=None)
    ]
    tail = frame([data_only(_usage(6, 4)), data_only("[DONE]")])
    return Scenario(body=[*frame([data_only(c) for c in chunks]), b"".join(tail)])


def _error(status: int, message: str, type_: str, code: str | None) -> Scenario:
    return json_body(
        status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, 4
    )


TRANSCRIPTS: dict[str, tuple[Scenario | Callable[[Recorded], Scenario], Expected]] = {
    **framed_variants(
        "cmp-t-plain", text_events(PLAIN), Expected(PLAIN, usage=(14, 8), raw_finish="stop")
    ),
    "cmp-t-chinese": (
        Scenario(body=frame(text_events(CHINESE, usage=(9, 31)))),
        Expected(CHINESE, usage=(9, 31), raw_finish="stop"),
    ),
    "cmp-t-code": (
        Scenario(body=frame(text_events(CODE, usage=(9, 40)))),
        Expected(CODE, usage=(9, 40), raw_finish="stop"),
    ),
    "cmp-t-length": (
        Scenario(body=frame(text_events("This is", "length", (7, 7)))),
        Expected("This is", usage=(7, 7), finish="length", raw_finish="length"),
    ),
    "cmp-t-vllm": (
        _vllm(),
        Expected("Once upon a time", usage=(6, 4), finish="length", raw_finish="length"),
    ),
    "cmp-t-midstream": (
        Scenario(
            body=frame(
                [
                    data_only(cmp("Some")),
                    data_only({"error": {"message": "Internal error", "type": "server_error"}}),
                    data_only("[DONE]"),
                ]
            )
        ),
        failed("reported an error mid-reply: Internal error", text="Some"),
    ),
    "cmp-t-truncated": (
        Scenario(body=frame([data_only(cmp("Some")), data_only(cmp(" more"))])),
        failed("closed the connection before the reply was finished", text="Some more"),
    ),
    "cmp-t-400": (
        _error(
            400,
            "This model's maximum context length is 4097 tokens, however you requested 5000 "
            "tokens. Please reduce your prompt; or completion length.",
            "invalid_request_error",
            None,
        ),
        failed(
            "longer than the model's context; start a new conversation (HTTP 400)",
            "maximum context length is 4097 tokens",
        ),
    ),
    "cmp-t-401": (
        _error(401, "Incorrect API key provided: sk-te****.", "invalid_request_error", None),
        failed("refused the credentials (HTTP 401)", "Incorrect API key provided"),
    ),
    "cmp-t-404": (
        _error(
            404,
            "This is a chat model and not supported in the v1/completions endpoint. "
            "Did you mean to use v1/chat/completions?",
            "invalid_request_error",
            None,
        ),
        failed("rejected the request (HTTP 404)", "This is a chat model and not supported"),
    ),
    "cmp-t-429": (
        _error(
            429,
            "Rate limit reached for gpt-3.5-turbo-instruct in organization org-x on "
            "tokens per min (TPM): Limit 90000, Used 90000, Requested 10.",
            "tokens",
            "rate_limit_exceeded",
        ),
        failed("rate limiting requests; try again in a moment (HTTP 429)", "tokens per min"),
    ),
    "cmp-t-500": (
        _error(500, "The server had an error while processing your request.", "server_error", None),
        failed("failed (HTTP 500)", "The server had an error while processing your request."),
    ),
}
SCENARIOS = scenarios_of(TRANSCRIPTS, paced="cmp-t-code")
# For the timeout tests: no status line at all; one chunk, then nothing.
SCENARIOS["cmp-header-timeout"] = Scenario(header_delay=30)
SCENARIOS["cmp-idle-timeout"] = Scenario(body=frame([data_only(cmp("Then"))]), hang=True)
