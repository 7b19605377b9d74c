"""The one small interface every upstream protocol implements.

A provider turns a ChatRequest into an async stream of normalised events. The relay and the
pages never see a provider's raw format; they see only the types defined here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str  # the upstream's own model id
    messages: list[Turn]
    system_prompt: str = ""
    max_output_tokens: int = 4096


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    first_byte: float
    idle: float


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    reason: str  # stop | length | content_filter | tool_calls | error
    raw: str = ""  # the provider's own value


Event = TextDelta | ReasoningDelta | Usage | Finish


@dataclass
class UpstreamError(Exception):
    """An upstream failure, with a message fit to show a user (it never contains a key)."""

    message: str
    upstream_message: str = ""
    code: str = ""
    status: int | None = None
    retryable: bool = False
    kind: str = "error"  # error | timeout | unreachable | interrupted | rate_limit | quota | auth
    details: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Provider(Protocol):
    """One configured upstream: knows its protocol, base URL and credentials."""

    def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[Event]:
        """Yield events until the reply ends; raise UpstreamError on any failure.

        The iterator must end only after the provider's completion signal; a stream that stops
        without it raises UpstreamError(kind="interrupted"). Closing the iterator (aclose) must
        close the upstream connection.
        """
        ...


# Finish reasons shared across protocols (PROTOCOLS.md section 7).
FINISH_MAP = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "STOP": "stop",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "model_context_window_exceeded": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def normalise_finish(raw: str) -> Finish:
    return Finish(reason=FINISH_MAP.get(raw, "stop"), raw=raw)
