"""The one small interface every upstream protocol implements.

A provider turns a ChatRequest into an async iterator of normalised events (`events`). Each
protocol's module has a parser (`parse_<protocol>_body`) that reads the upstream's body and a
per-chunk step (`chunk_events`) that turns one decoded chunk into events. Generations never
see a provider's raw format; they see only the types defined here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import Protocol

from chat.providers import errors
from chat.providers.errors import UpstreamError


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
    # "reply", or "title" for a conversation's title (chat/replies/titles.py): the offline
    # demo answers that one with a fixed title of its own; real upstreams need no hint.
    purpose: str = "reply"


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


class Provider(Protocol):
    """One configured upstream: knows its protocol, base URL and credentials."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Its credentials: never shown, whatever the upstream sends back."""
        ...

    def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        """Yield the reply's events until it ends; raise UpstreamError on any failure.

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
    "LANGUAGE": "content_filter",
    "UNEXPECTED_TOOL_CALL": "tool_calls",
    "TOO_MANY_TOOL_CALLS": "tool_calls",
    "MALFORMED_FUNCTION_CALL": "error",
    "insufficient_system_resource": "error",  # DeepSeek: the reply was cut off under load
}


def normalise_finish(raw: str) -> Finish:
    """Map a provider's own finish value; an unknown one ended the reply normally (stop)."""
    return Finish(reason=FINISH_MAP.get(raw, "stop"), raw=raw)


def merged_turns(request: ChatRequest) -> list[Turn]:
    """The history with consecutive turns of one role joined.

    History can hold two user turns in a row (a failed reply between them is left out), which
    Anthropic, Gemini and Spark refuse or mishandle; joining them keeps every word in order.
    """
    merged: list[Turn] = []
    for turn in request.messages:
        if merged and merged[-1].role == turn.role:
            merged[-1] = Turn(turn.role, f"{merged[-1].content}\n\n{turn.content}")
        else:
            merged.append(turn)
    return merged


def failed_finish(provider: str, finish: Finish) -> UpstreamError | None:
    """A finish value that means the upstream gave up (not a normal end) becomes an error."""
    if finish.reason != "error":
        return None
    return errors.gave_up(provider, finish.raw)


def closing_events(
    provider: str, completed: bool, usage: Usage | None, finish: Finish | None
) -> Iterator[Event]:
    """How every stream ends, whatever its protocol: an error if the completion signal never
    came, else the usage and the finish (even a failed one: the generation keeps the
    provider's own value), then the error such a finish means."""
    if not completed:
        raise errors.closed_early(provider)
    if usage is not None:
        yield usage
    finish = finish or Finish("stop", "")
    yield finish
    if (failure := failed_finish(provider, finish)) is not None:
        raise failure


_SURROGATE = re.compile("[\ud800-\udfff]")


class SurrogateJoiner:
    """Text whose JSON split a UTF-16 surrogate pair between two chunks (an emoji sent as
    "\\ud83c" then "\\udf0f") decodes to lone surrogates, which cannot be encoded or saved.
    A trailing high surrogate waits for the next piece; pairs are joined; a lone one becomes
    U+FFFD. Text without surrogates (nearly all) passes through after one regex scan."""

    def __init__(self) -> None:
        self.carry = ""

    def feed(self, text: str) -> str:
        if self.carry:
            text, self.carry = self.carry + text, ""
        if not _SURROGATE.search(text):
            return text
        if "\ud800" <= text[-1] <= "\udbff":
            text, self.carry = text[:-1], text[-1]
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    def flush(self) -> str:
        carry, self.carry = self.carry, ""
        return "\ufffd" if carry else ""
