"""OpenAI-compatible servers' quirks (PROTOCOLS.md section 3): DeepSeek, Ollama, vLLM,
llama.cpp, Azure and Spark's HTTP API, each transcript with the reply it must become."""

from __future__ import annotations

from tests.support.events import Event
from tests.support.fakes.openai_transcripts import counts, oa
from tests.support.fakes.upstream import Scenario
from tests.support.fakes.wire import Expected, data_only, failed, frame, json_body

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
        data_only(oa({"role": "assistant", "content": None})),
        data_only(oa({"content": "Hi there"})),
        data_only(oa({}, "stop", usage=_LLAMA_USAGE, timings=_LLAMA_TIMINGS)),
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

    events: list[Event] = [data_only(chunk("你好")), data_only(chunk("！", counts(1, 2)))]
    return Scenario(body=[*frame(events, space=False), b"data:[DONE]\n\n"])


TRANSCRIPTS: dict[str, tuple[Scenario, Expected]] = {
    "oa-t-deepseek-reasoning": (
        Scenario(
            body=[
                b": keep-alive\n\n",
                *frame(
                    [
                        data_only(
                            oa({"role": "assistant", "content": None, "reasoning_content": ""})
                        ),
                        data_only(oa({"content": None, "reasoning_content": "Two plus two"})),
                        data_only(oa({"content": None, "reasoning_content": " is four."})),
                        data_only(oa({"content": "The answer", "reasoning_content": None})),
                        data_only(oa({"content": " is 4.", "reasoning_content": None})),
                        data_only(
                            oa(
                                {"content": "", "reasoning_content": None},
                                "stop",
                                usage=_DEEPSEEK_USAGE,
                            ),
                        ),
                        data_only("[DONE]"),
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
                    data_only(
                        oa(
                            {"role": "assistant", "content": "", "reasoning": "Hmm, a greeting."},
                            system_fingerprint="fp_ollama",
                        ),
                    ),
                    data_only(
                        oa(
                            {"content": "", "reasoning": " Reply kindly."},
                            system_fingerprint="fp_ollama",
                        ),
                    ),
                    data_only(oa({"content": "Hello!"}, system_fingerprint="fp_ollama")),
                    data_only(oa({}, "stop", system_fingerprint="fp_ollama")),
                    data_only(
                        oa(choices=False, usage=counts(11, 6), system_fingerprint="fp_ollama")
                    ),
                    data_only("[DONE]"),
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
                    data_only(oa({"role": "assistant", "content": None, "refusal": ""})),
                    data_only(oa({"content": None, "refusal": "I'm sorry, I can't"})),
                    data_only(oa({"content": None, "refusal": " help with that."})),
                    data_only(oa({}, "stop")),
                    data_only("[DONE]"),
                ]
            )
        ),
        Expected("I'm sorry, I can't help with that.", raw_finish="stop"),
    ),
    "oa-t-azure": (
        Scenario(
            body=frame(
                [
                    data_only(
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
                    data_only(oa({"content": "Filtered"}, content_filter_results={})),
                    data_only(oa({}, "content_filter")),
                    data_only("[DONE]"),
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
                [data_only(oa({"content": "Done"})), data_only(oa({}, "stop", usage=counts(3, 1)))]
            )
        ),
        Expected("Done", usage=(3, 1), raw_finish="stop"),
    ),
    "oa-t-spark-http": (_spark_http(), Expected("你好！", usage=(1, 2))),
    "oa-t-vllm-midstream": (
        Scenario(
            body=[
                *frame(
                    [
                        data_only(oa({"role": "assistant", "content": ""})),
                        data_only(oa({"content": "Par"})),
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
                *frame([data_only(oa({"role": "assistant", "content": None}))]),
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
                    data_only(oa({"content": "Half"})),
                    data_only(oa({}, "insufficient_system_resource")),
                    data_only("[DONE]"),
                ]
            )
        ),
        failed(
            "stopped the reply before it was complete",
            text="Half",
            raw_finish="insufficient_system_resource",
        ),
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
        failed(
            "longer than the model's context; start a new conversation (HTTP 400)",
            "the request exceeds the available context size",
        ),
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
}
