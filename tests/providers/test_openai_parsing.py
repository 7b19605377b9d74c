"""The OpenAI-compatible stream parser (chat/providers/openai.py) on recorded-shape chunks
(PROTOCOLS.md sections 1 to 3), fed as an async byte stream, whole and split at every byte."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from chat.providers.base import Event, Finish, ReasoningDelta, TextDelta, Usage
from chat.providers.errors import UpstreamError
from chat.providers.openai import _State, parse_openai_body
from tests.support.fakes.upstream import openai_chunk, split_bytes

PROVIDER = "OpenAI"

ROLE_CHUNK = (
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd",'
    '"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
    '"logprobs":null,"finish_reason":null}]}\n\n'
)
USAGE_CHUNK = (
    'data: {"id":"chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF","object":"chat.completion.chunk",'
    '"created":1727346169,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":79,'
    '"completion_tokens":14,"total_tokens":93,"completion_tokens_details":'
    '{"reasoning_tokens":0}}}\n\n'
)
DONE = "data: [DONE]\n\n"


def chunk(content: str | None = None, finish: str | None = None, **extra: object) -> str:
    return openai_chunk(content, finish, **extra) + "\n\n"


def delta_chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> str:
    obj: dict[str, object] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"


async def byte_stream(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def parse(body: str | bytes, *, split: bool = False) -> list[Event]:
    raw = body.encode() if isinstance(body, str) else body
    parts = split_bytes(raw) if split else [raw]
    return [e async for e in parse_openai_body(PROVIDER, byte_stream(parts), _State())]


async def parse_failing(body: str, *, split: bool = False) -> tuple[list[Event], UpstreamError]:
    """Events before the failure, and the failure."""
    raw = body.encode()
    parts = split_bytes(raw) if split else [raw]
    events: list[Event] = []
    with pytest.raises(UpstreamError) as info:
        async for event in parse_openai_body(PROVIDER, byte_stream(parts), _State()):
            events.append(event)
    return events, info.value


RECORDED = (
    ROLE_CHUNK
    + chunk("Hello")
    + chunk(" 你好")
    + chunk("，世界 🌏")
    + chunk(None, "stop")
    + USAGE_CHUNK
    + DONE
)
RECORDED_EVENTS = [
    TextDelta("Hello"),
    TextDelta(" 你好"),
    TextDelta("，世界 🌏"),
    Usage(79, 14),
    Finish("stop", "stop"),
]


@pytest.mark.parametrize("split", [False, True], ids=["whole", "byte-by-byte"])
async def test_recorded_stream_gives_text_then_usage_then_finish(split: bool) -> None:
    assert await parse(RECORDED, split=split) == RECORDED_EVENTS


async def test_crlf_framing_and_keepalive_comments_change_nothing() -> None:
    body = ": keep-alive\r\n\r\n" + RECORDED.replace("\n", "\r\n")

    assert await parse(body, split=True) == RECORDED_EVENTS


async def test_a_leading_byte_order_mark_is_ignored() -> None:
    assert await parse(b"\xef\xbb\xbf" + RECORDED.encode()) == RECORDED_EVENTS


async def test_comment_glued_to_the_next_event_is_skipped() -> None:
    body = ": OPENROUTER PROCESSING\n" + chunk("Hi") + chunk(None, "stop") + DONE

    assert await parse(body) == [TextDelta("Hi"), Finish("stop", "stop")]


async def test_null_and_empty_content_is_skipped_but_whitespace_is_kept() -> None:
    body = (
        delta_chunk({"role": "assistant", "content": None})
        + chunk("a")
        + chunk(" ")
        + chunk("\n")
        + chunk("")
        + chunk(None, "stop")
        + DONE
    )

    assert await parse(body) == [
        TextDelta("a"),
        TextDelta(" "),
        TextDelta("\n"),
        Finish("stop", "stop"),
    ]


async def test_refusal_is_shown_as_text() -> None:
    body = delta_chunk({"content": None, "refusal": "I can't help with that."}) + chunk(
        None, "stop"
    )

    assert await parse(body + DONE) == [
        TextDelta("I can't help with that."),
        Finish("stop", "stop"),
    ]


async def test_deepseek_reasoning_comes_apart_from_the_answer_with_usage_on_finish() -> None:
    body = (
        delta_chunk({"role": "assistant", "content": None, "reasoning_content": ""})
        + delta_chunk({"content": None, "reasoning_content": "Think"})
        + delta_chunk({"content": None, "reasoning_content": "ing."})
        + delta_chunk({"content": "Answer", "reasoning_content": None})
        + delta_chunk(
            {"content": ""},
            "stop",
            usage={
                "prompt_tokens": 10,
                "completion_tokens": 20,
                "total_tokens": 30,
                "prompt_cache_hit_tokens": 0,
                "prompt_cache_miss_tokens": 10,
            },
        )
        + DONE
    )

    assert await parse(body) == [
        ReasoningDelta("Think"),
        ReasoningDelta("ing."),
        TextDelta("Answer"),
        Usage(10, 20),
        Finish("stop", "stop"),
    ]


async def test_ollama_reasoning_field_is_reasoning() -> None:
    body = (
        delta_chunk({"role": "assistant", "content": "", "reasoning": "hmm"})
        + delta_chunk({"role": "assistant", "content": "ok"})
        + delta_chunk({}, "stop", system_fingerprint="fp_ollama")
        + DONE
    )

    assert await parse(body) == [ReasoningDelta("hmm"), TextDelta("ok"), Finish("stop", "stop")]


async def test_usage_is_the_last_non_null_one() -> None:
    body = (
        chunk("a", usage=None)
        + chunk(None, "length", usage=None)
        + USAGE_CHUNK
        + 'data: {"choices":[],"usage":null}\n\n'
        + DONE
    )

    assert await parse(body) == [TextDelta("a"), Usage(79, 14), Finish("length", "length")]


async def test_only_the_first_choice_is_the_reply() -> None:
    body = (
        'data: {"choices":[{"index":1,"delta":{"content":"other"}},'
        '{"index":0,"delta":{"content":"mine"}}]}\n\n' + chunk(None, "stop") + DONE
    )

    assert await parse(body) == [TextDelta("mine"), Finish("stop", "stop")]


async def test_azure_first_chunk_with_empty_choices_is_ignored() -> None:
    body = (
        'data: {"choices":[],"created":0,"id":"","model":"","object":"",'
        '"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}\n\n'
        + chunk("ok")
        + chunk(None, "content_filter")
        + DONE
    )

    assert await parse(body) == [TextDelta("ok"), Finish("content_filter", "content_filter")]


async def test_spark_http_stream_without_spaces_or_finish_reason_ends_at_done() -> None:
    body = (
        'data:{"code":0,"message":"Success","sid":"cha000b0bf9@dx193","choices":'
        '[{"delta":{"role":"assistant","content":"你好"},"index":0}]}\n\n'
        'data:{"code":0,"message":"Success","sid":"cha000b0bf9@dx193","choices":'
        '[{"delta":{"role":"assistant","content":"！"},"index":0}],'
        '"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'
        "data:[DONE]\n\n"
    )

    assert await parse(body, split=True) == [
        TextDelta("你好"),
        TextDelta("！"),
        Usage(1, 2),
        Finish("stop", ""),
    ]


async def test_legacy_completions_text_with_finish_on_the_same_chunk() -> None:
    body = (
        'data: {"id":"cmpl-7","object":"text_completion","created":1690759702,"choices":'
        '[{"text":"This","index":0,"logprobs":null,"finish_reason":null}],'
        '"model":"gpt-3.5-turbo-instruct"}\n\n'
        'data: {"id":"cmpl-7","object":"text_completion","choices":'
        '[{"text":" is","index":0,"logprobs":null,"finish_reason":"length"}]}\n\n' + DONE
    )

    assert await parse(body) == [TextDelta("This"), TextDelta(" is"), Finish("length", "length")]


async def test_finish_then_end_of_stream_without_done_is_a_finished_reply() -> None:
    assert await parse(chunk("Hi") + chunk(None, "stop")) == [
        TextDelta("Hi"),
        Finish("stop", "stop"),
    ]


async def test_done_without_its_blank_line_at_the_end_still_ends_the_reply() -> None:
    assert await parse(chunk("Hi") + "data: [DONE]") == [TextDelta("Hi"), Finish("stop", "")]


async def test_truncated_stream_is_an_interrupted_reply_after_its_text() -> None:
    events, error = await parse_failing(chunk("Cut") + chunk(" off"))

    assert events == [TextDelta("Cut"), TextDelta(" off")]
    assert error.kind == "interrupted"
    assert error.message == "OpenAI closed the connection before the reply was finished."


async def test_an_unterminated_last_event_is_not_used() -> None:
    events, error = await parse_failing(chunk("Cut") + chunk(None, "stop")[:-2])

    assert events == [TextDelta("Cut")]
    assert error.kind == "interrupted"


@pytest.mark.parametrize("body", ["", DONE, ": keep-alive\n\n" + DONE])
async def test_a_stream_without_any_chunk_is_an_error(body: str) -> None:
    events, error = await parse_failing(body)

    assert events == []
    assert error.message == "OpenAI ended the reply without sending anything."


async def test_error_mid_stream_is_an_error_even_with_done_after_it() -> None:
    body = (
        chunk("Partial")
        + 'data: {"error":{"message":"The server had an error processing your request.",'
        '"type":"server_error","param":null,"code":null}}\n\n' + DONE
    )

    events, error = await parse_failing(body, split=True)

    assert events == [TextDelta("Partial")]
    assert error.message == (
        "OpenAI reported an error mid-reply: The server had an error processing your request."
    )
    assert error.kind == "error"  # a server error: retrying may help


async def test_vllm_error_object_mid_stream_with_a_4xx_code_is_a_rejection() -> None:
    body = (
        chunk("a") + 'data: {"error": {"object": "error", "message": "max_tokens is too large", '
        '"type": "BadRequestError", "param": null, "code": 400}}\n\n' + DONE
    )

    _events, error = await parse_failing(body)

    assert error.message == "OpenAI reported an error mid-reply: max_tokens is too large"
    assert (error.kind, error.retryable) == ("rejected", False)


async def test_top_level_object_error_is_an_error() -> None:
    body = 'data: {"object":"error","message":"model overloaded","type":"x","code":503}\n\n'

    _events, error = await parse_failing(body)

    assert error.message == "OpenAI reported an error mid-reply: model overloaded"


async def test_llama_cpp_error_field_is_an_error() -> None:
    body = (
        chunk("a") + 'error: {"code":400,"message":"the request exceeds the context size",'
        '"type":"invalid_request_error"}\n\n' + DONE
    )

    events, error = await parse_failing(body)

    assert events == [TextDelta("a")]
    assert (
        error.message == "OpenAI reported an error mid-reply: the request exceeds the context size"
    )


@pytest.mark.parametrize(
    "line", ["data: {not json", 'data: ["a list"]', "data: 42", 'data: "text"'], ids=repr
)
async def test_a_chunk_that_is_not_a_json_object_is_a_malformed_stream(line: str) -> None:
    events, error = await parse_failing(chunk("Fine so far") + line + "\n\n" + DONE)

    assert events == [TextDelta("Fine so far")]
    assert error.kind == "malformed"
    assert error.message == "OpenAI sent a malformed chunk."
