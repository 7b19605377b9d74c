"""Google Gemini `streamGenerateContent?alt=sse` (PROTOCOLS.md section 5).

Each unnamed event is a whole GenerateContentResponse. Text is the candidate's parts (parts
marked `thought` are reasoning); usageMetadata is cumulative (the last one wins); there is no
terminator: the reply is complete when the stream ends after a finishReason (legacy models
send one on every chunk, so it never ends the reading). A prompt blocked by safety comes as
HTTP 200 with promptFeedback.blockReason and no candidates, and is an error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from chat.providers import errors
from chat.providers.base import (
    ChatRequest,
    Event,
    ReasoningDelta,
    TextDelta,
    Timeouts,
    Usage,
    closing_events,
    merged_turns,
    normalise_finish,
)
from chat.providers.errors import ErrorKind, UpstreamError
from chat.providers.http import ErrorBody, open_stream
from chat.providers.sse import SSEParser

_KINDS: dict[str, ErrorKind] = {"UNAUTHENTICATED": "auth", "PERMISSION_DENIED": "auth"}
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_EXPIRED"})
_RETRYABLE = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})


def parse_gemini_error(body: object) -> ErrorBody:
    """`{"error": {"code", "message", "status", "details": [...]}}`, maybe inside a list.

    A bad key is HTTP 400 with reason API_KEY_INVALID, so the details decide it is auth.
    RESOURCE_EXHAUSTED is a per-minute limit unless a violated quota is a daily one.
    """
    if isinstance(body, list) and body:
        body = body[0]
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return ErrorBody()
    status = str(err.get("status") or "")
    kind: ErrorKind | Literal[""] = _KINDS.get(status, "")
    details = err.get("details") if isinstance(err.get("details"), list) else []
    for detail in details:  # type: ignore[union-attr]
        if not isinstance(detail, dict):
            continue
        if detail.get("reason") in _AUTH_REASONS:
            kind = "auth"
        if status == "RESOURCE_EXHAUSTED":
            kind = kind or "rate_limit"
            for violation in detail.get("violations") or ():
                if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId", "")):
                    kind = "quota"
    return ErrorBody(str(err.get("message") or ""), status, kind)


def gemini_payload(request: ChatRequest) -> dict[str, object]:
    payload: dict[str, object] = {
        "contents": [
            {"role": "model" if t.role == "assistant" else "user", "parts": [{"text": t.content}]}
            for t in merged_turns(request)
        ],
        "generationConfig": {"maxOutputTokens": request.max_output_tokens},
    }
    if request.system_prompt:
        payload["systemInstruction"] = {"parts": [{"text": request.system_prompt}]}
    return payload


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(meta: dict[str, object]) -> Usage:
    """Output counts the thinking tokens too: they are billed as output."""
    out = [_int(meta.get("candidatesTokenCount")), _int(meta.get("thoughtsTokenCount"))]
    counted = [n for n in out if n is not None]
    return Usage(_int(meta.get("promptTokenCount")), sum(counted) if counted else None)


def _blocked(provider: str, feedback: dict[str, object]) -> UpstreamError:
    reason = str(feedback.get("blockReason"))
    detail = feedback.get("blockReasonMessage")
    text = f"{provider} blocked the prompt (reason: {reason})"
    text += f": {detail}" if isinstance(detail, str) and detail else "."
    return UpstreamError(text, "blocked")


def _stream_error(provider: str, obj: dict[str, object]) -> UpstreamError:
    body = parse_gemini_error(obj)
    return errors.mid_reply(
        provider,
        body.message or body.code or "unknown",
        body.kind or ("error" if body.code in _RETRYABLE else "rejected"),
    )


def chunk_events(provider: str, obj: object) -> tuple[list[Event], str | None, Usage | None]:
    """One response into (events, finishReason or None, usage or None)."""
    if not isinstance(obj, dict):
        raise errors.malformed(provider, "event")
    if "error" in obj:
        raise _stream_error(provider, obj)
    meta = obj.get("usageMetadata")
    usage = _usage(meta) if isinstance(meta, dict) else None
    candidates = obj.get("candidates")
    feedback = obj.get("promptFeedback")
    if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
        raise _blocked(provider, feedback)
    out: list[Event] = []
    reason = None
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    if isinstance(first, dict):
        content = first.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and text:
                out.append(ReasoningDelta(text) if part.get("thought") else TextDelta(text))
        if isinstance(first.get("finishReason"), str):
            reason = first["finishReason"]
    return out, reason, usage


async def parse_gemini_body(provider: str, chunks: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    parser = SSEParser()
    reason: str | None = None
    usage: Usage | None = None
    async for chunk in chunks:
        for sse in parser.feed(chunk):
            try:
                obj = json.loads(sse.data)
            except ValueError:
                raise errors.malformed(provider, "event") from None
            events, chunk_reason, chunk_usage = chunk_events(provider, obj)
            reason = chunk_reason or reason
            usage = chunk_usage or usage
            for event in events:
                yield event
    finish = normalise_finish(reason) if reason is not None else None
    for event in closing_events(provider, reason is not None, usage, finish):
        yield event


@dataclass(frozen=True)
class GeminiProvider:
    label: str
    base_url: str
    api_key: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)

    def url(self, model: str) -> str:
        # A bare id is under models/; a full resource name (tunedModels/x) is used as it is.
        # Always alt=sse: without it the endpoint streams one pretty-printed JSON array.
        name = quote(model if "/" in model else f"models/{model}", safe="/@")
        return f"{self.base_url.rstrip('/')}/{name}:streamGenerateContent?alt=sse"

    async def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        # The key goes in a header, never in the query string, where it would reach logs.
        headers = {"x-goog-api-key": self.api_key, "Accept": "text/event-stream"}
        async with open_stream(
            self.label,
            self.url(request.model),
            headers=headers,
            payload=gemini_payload(request),
            timeouts=timeouts,
            parse_error=parse_gemini_error,
            secrets=(self.api_key,),
        ) as chunks:
            del request  # sent: the history is not held while the reply streams (open_stream)
            async for event in parse_gemini_body(self.label, chunks):
                yield event
