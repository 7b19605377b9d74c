"""Anthropic Messages streaming (PROTOCOLS.md section 4).

Every event is named: message_start carries the input usage, content_block_* carry the text
(thinking blocks are reasoning, kept apart), message_delta the stop_reason and the cumulative
output usage, message_stop ends the reply. `ping` and unknown events are ignored; an `error`
event is an error even after text. EOF before message_stop means the reply was interrupted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

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
    merged_turns,
    normalise_finish,
)
from chat.providers.errors import ErrorKind
from chat.providers.http import ErrorBody, open_stream
from chat.providers.sse import SSEParser

API_VERSION = "2023-06-01"
# Error types that a later attempt can get past (docs.claude.com/en/api/errors).
RETRYABLE_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
_KINDS: dict[str, ErrorKind] = {
    "authentication_error": "auth",
    "permission_error": "auth",
    "rate_limit_error": "rate_limit",
    "billing_error": "quota",
}


def parse_anthropic_error(body: object) -> ErrorBody:
    """`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}`."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return ErrorBody()
    code = str(err.get("type") or "")
    return ErrorBody(str(err.get("message") or ""), code, _KINDS.get(code, ""))


def anthropic_payload(request: ChatRequest) -> dict[str, object]:
    payload: dict[str, object] = {
        "model": request.model,
        "max_tokens": request.max_output_tokens,
        "messages": [{"role": t.role, "content": t.content} for t in merged_turns(request)],
        "stream": True,
    }
    if request.system_prompt:
        payload["system"] = request.system_prompt
    return payload


@dataclass
class _State:
    blocks: dict[int, str] = field(default_factory=dict)  # index -> content block type
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish: Finish | None = None
    stopped: bool = False


def _tokens(usage: dict[str, object]) -> int | None:
    """Input tokens: the uncached ones plus those written to and read from the cache."""
    parts = [
        usage.get(k)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    ]
    counts = [p for p in parts if isinstance(p, int) and not isinstance(p, bool)]
    return sum(counts) if counts else None


def chunk_events(provider: str, name: str, obj: dict[str, object], state: _State) -> list[Event]:
    """One decoded event into normalised events; the `type` field names it when `event:` is
    missing."""
    kind = name if name != "message" else str(obj.get("type", ""))
    if kind == "error":
        body = parse_anthropic_error(obj)
        raise errors.mid_reply(
            provider,
            body.message or body.code or "unknown",
            body.kind or ("error" if body.code in RETRYABLE_TYPES else "rejected"),
        )
    if kind == "message_start":
        message = obj.get("message")
        usage = message.get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            state.input_tokens = _tokens(usage)
            if isinstance(usage.get("output_tokens"), int):
                state.output_tokens = usage["output_tokens"]
    elif kind == "content_block_start":
        block = obj.get("content_block")
        if isinstance(block, dict):
            state.blocks[_index(obj)] = str(block.get("type", ""))
            return _block_text(str(block.get("type", "")), block)
    elif kind == "content_block_delta":
        delta = obj.get("delta")
        if isinstance(delta, dict):
            return _delta_text(delta)
    elif kind == "message_delta":
        delta, usage = obj.get("delta"), obj.get("usage")
        if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
            state.finish = normalise_finish(delta["stop_reason"])
        if isinstance(usage, dict):
            if isinstance(usage.get("output_tokens"), int):
                state.output_tokens = usage["output_tokens"]
            if (tokens := _tokens(usage)) is not None:
                state.input_tokens = tokens
    elif kind == "message_stop":
        state.stopped = True
    return []  # ping, content_block_stop and unknown events carry nothing to show


def _index(obj: dict[str, object]) -> int:
    index = obj.get("index", 0)
    return index if isinstance(index, int) else 0


def _block_text(block_type: str, block: dict[str, object]) -> list[Event]:
    text = block.get("text") if block_type == "text" else block.get("thinking")
    if not isinstance(text, str) or not text:
        return []
    return [TextDelta(text)] if block_type == "text" else [ReasoningDelta(text)]


def _delta_text(delta: dict[str, object]) -> list[Event]:
    text, thinking = delta.get("text"), delta.get("thinking")
    if delta.get("type") == "text_delta" and isinstance(text, str):
        return [TextDelta(text)] if text else []
    if delta.get("type") == "thinking_delta" and isinstance(thinking, str):
        return [ReasoningDelta(thinking)] if thinking else []
    return []  # tool input, signatures and citations are not shown


async def parse_anthropic_body(provider: str, chunks: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    parser, state = SSEParser(), _State()
    async for chunk in chunks:
        for sse in parser.feed(chunk):
            try:
                obj = json.loads(sse.data)
            except ValueError:
                raise errors.malformed(provider, "event") from None
            if not isinstance(obj, dict):
                raise errors.malformed(provider, "event")
            for event in chunk_events(provider, sse.event, obj, state):
                yield event
            if state.stopped:
                break
        if state.stopped:
            break
    has_usage = state.input_tokens is not None or state.output_tokens is not None
    usage = Usage(state.input_tokens, state.output_tokens) if has_usage else None
    for event in closing_events(provider, state.stopped, usage, state.finish):
        yield event


@dataclass(frozen=True)
class AnthropicProvider:
    label: str
    base_url: str
    api_key: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)

    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    async def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        headers = {
            "x-api-key": self.api_key,
            "anthropic-version": API_VERSION,
            "Accept": "text/event-stream",
        }
        async with open_stream(
            self.label,
            self.url(),
            headers=headers,
            payload=anthropic_payload(request),
            timeouts=timeouts,
            parse_error=parse_anthropic_error,
            secrets=(self.api_key,),
        ) as chunks:
            del request  # sent: the history is not held while the reply streams (open_stream)
            async for event in parse_anthropic_body(self.label, chunks):
                yield event
