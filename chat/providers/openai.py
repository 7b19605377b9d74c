"""OpenAI Chat Completions and every OpenAI-compatible server (PROTOCOLS.md sections 1 and 3).

Generic rules that cover OpenAI, Ollama, vLLM, llama.cpp, DeepSeek, OpenRouter, Azure and
Spark's HTTP API: unknown fields are ignored, `choices` may be empty or absent, content may be
null, usage is the last non-null one, an `error` object (or `"object": "error"`) anywhere is an
error, and a stream that ends without finish_reason or [DONE] was interrupted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from chat.providers import errors
from chat.providers.base import (
    ChatRequest,
    Event,
    Finish,
    ReasoningDelta,
    TextDelta,
    Timeouts,
    Usage,
    closing_events,
    normalise_finish,
)
from chat.providers.errors import UpstreamError
from chat.providers.http import ErrorBody, open_stream
from chat.providers.sse import SSEParser


def parse_openai_error(body: object) -> ErrorBody:
    """Error bodies: OpenAI, Ollama, llama.cpp and new vLLM `{"error": {...}}`, old vLLM's
    top-level `{"object": "error", "message": ...}`, and `{"error": "text"}`."""
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return ErrorBody()
    err = body.get("error", body)
    if isinstance(err, str):
        return ErrorBody(err)
    if not isinstance(err, dict):
        return ErrorBody()
    message = str(err.get("message") or "")
    code = err.get("code") or err.get("type") or ""
    return ErrorBody(message, str(code))


def stream_error(provider: str, obj: dict[str, object]) -> UpstreamError:
    body = parse_openai_error(obj)
    # vLLM puts an HTTP status in `code`: a 4xx will fail again the same way.
    rejected = body.code.isdigit() and 400 <= int(body.code) < 500
    return errors.mid_reply(
        provider,
        body.message or "unknown error",
        "rejected" if rejected else "error",
    )


def chat_messages(request: ChatRequest) -> list[dict[str, str]]:
    messages = (
        [{"role": "system", "content": request.system_prompt}] if request.system_prompt else []
    )
    messages.extend({"role": t.role, "content": t.content} for t in request.messages)
    return messages


@dataclass
class _State:
    finished: bool = False
    done: bool = False
    saw_chunk: bool = False
    usage: Usage | None = None
    finish: Finish | None = None


def chunk_events(provider: str, obj: object, state: _State) -> list[Event]:
    """Turn one decoded chunk (chat or legacy completions) into normalised events."""
    if not isinstance(obj, dict):
        raise errors.malformed(provider, "chunk")
    if obj.get("error") or obj.get("object") == "error":
        raise stream_error(provider, obj)
    state.saw_chunk = True
    out: list[Event] = []
    usage = obj.get("usage")
    if isinstance(usage, dict):
        state.usage = Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))
    for choice in obj.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue  # n > 1 is never requested; only the first choice is the reply
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                out.append(ReasoningDelta(reasoning))
            for key in ("content", "refusal"):
                text = delta.get(key)
                if isinstance(text, str) and text:
                    out.append(TextDelta(text))
        else:
            text = choice.get("text")  # legacy completions
            if isinstance(text, str) and text:
                out.append(TextDelta(text))
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            state.finished = True
            state.finish = normalise_finish(reason)
    return out


async def parse_openai_body(
    provider: str, chunks: AsyncIterator[bytes], state: _State
) -> AsyncIterator[Event]:
    parser = SSEParser()
    async for chunk in chunks:
        for sse in parser.feed(chunk):
            data = sse.data.strip()
            if data.startswith("[DONE]"):
                state.done = True
                break
            if not data:
                continue
            # No local keeps the decoded chunk while the stream waits for the next one.
            for event in chunk_events(provider, _decoded(provider, data), state):
                yield event
        for name, value in parser.unknown_fields:
            if name == "error":  # llama.cpp builds through 2025: a non-standard `error:` field
                try:
                    obj = json.loads(value)
                except ValueError:
                    obj = {"error": {"message": value}}
                raise stream_error(provider, obj if isinstance(obj, dict) else {})
        parser.unknown_fields.clear()
        if state.done:
            break  # nothing follows [DONE]; a proxy may hold the connection open after it
    # [DONE] may come without its blank line (llama.cpp): the parser then never dispatches it.
    if not state.done:
        state.done = parser.pending_data().strip().startswith("[DONE]")
    if not state.saw_chunk:
        raise UpstreamError(
            f"{provider} ended the reply without sending anything.",
            kind="interrupted",
        )
    for event in closing_events(provider, state.finished or state.done, state.usage, state.finish):
        yield event


def _decoded(provider: str, data: str) -> object:
    try:
        return json.loads(data)
    except ValueError:
        raise errors.malformed(provider, "chunk") from None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class OpenAIProvider:
    """Chat Completions at base_url; `completions=True` speaks the legacy /completions API."""

    label: str
    base_url: str
    api_key: str
    completions: bool = False

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _path(self) -> str:
        return "/completions" if self.completions else "/chat/completions"

    def _payload(self, request: ChatRequest) -> dict[str, object]:
        payload: dict[str, object] = {
            "model": request.model,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.completions:
            # The legacy API stops after 16 tokens unless told otherwise.
            payload["max_tokens"] = request.max_output_tokens
            payload["prompt"] = flatten_prompt(request)
            return payload
        # No max_tokens for chat: OpenAI's reasoning models refuse it (they want
        # max_completion_tokens, which older compatible servers refuse), and every server
        # has a sensible default limit.
        payload["messages"] = chat_messages(request)
        return payload

    async def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        async with open_stream(
            self.label,
            self.base_url.rstrip("/") + self._path(),
            headers=self._headers(),
            payload=self._payload(request),
            timeouts=timeouts,
            parse_error=parse_openai_error,
            secrets=(self.api_key,),
        ) as chunks:
            del request  # sent: the history is not held while the reply streams (open_stream)
            async for event in parse_openai_body(self.label, chunks, _State()):
                yield event


def flatten_prompt(request: ChatRequest) -> str:
    """The conversation as one prompt for the legacy Completions API."""
    parts = [request.system_prompt.strip()] if request.system_prompt.strip() else []
    for turn in request.messages:
        speaker = "User" if turn.role == "user" else "Assistant"
        parts.append(f"{speaker}: {turn.content}")
    parts.append("Assistant:")
    return "\n\n".join(parts)
