"""What fits in a model's context: counting what is sent, and leaving out the oldest turns.

Each model has a context window (`chat.providers.context_tokens`). Before a reply is asked
for, its history (the branch from the root to its parent) is counted: a reply counts what its
upstream reported it wrote (`output_tokens`), any other text an estimate. The oldest turns are
left out until the rest, the system prompt and room for the reply fit. The system prompt and
the latest user message are always sent; if they alone are too long, the upstream says so,
and the reply explains it (error kind `context_length`).

The estimate is deliberately on the high side of real tokenizers: one token per CJK
character, one per four other characters, and four per message for the role and separators.
An exact count needs each model's own tokenizer, which most upstreams do not publish (and
tiktoken downloads its tables at run time, which a site without network cannot do).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chat.providers.base import Turn

PER_MESSAGE = 4

# CJK ideographs, kana, hangul and full-width forms: about one token each, or more.
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0003ffff]"
)


def estimate_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


@dataclass(frozen=True, slots=True)
class Part:
    """One turn of the history, the message it comes from, and what it counts."""

    message_id: int
    turn: Turn
    tokens: int


def part(message_id: int, turn: Turn, reported_tokens: int | None = None) -> Part:
    tokens = reported_tokens if reported_tokens else estimate_tokens(turn.content)
    return Part(message_id, turn, tokens + PER_MESSAGE)


@dataclass(frozen=True, slots=True)
class Fitted:
    turns: list[Turn]
    context_from: int | None  # the first message sent, when older ones were left out
    tokens: int  # what is sent, estimated: the system prompt and the turns


def reply_room(context: int, max_output_tokens: int) -> int:
    """Tokens kept free for the reply: the output limit asked for, but at most a quarter of
    a small context, so that a 4k model still gets some history."""
    return min(max_output_tokens, context // 4)


def fit(parts: list[Part], system_prompt: str, context: int, max_output_tokens: int) -> Fitted:
    """The newest turns that fit, oldest first. The last part (the latest user message) is
    always kept; a kept history never starts with a reply (some upstreams refuse that)."""
    system = estimate_tokens(system_prompt) + PER_MESSAGE if system_prompt else 0
    budget = context - reply_room(context, max_output_tokens) - system
    start, used = len(parts), 0
    for index in range(len(parts) - 1, -1, -1):
        if start < len(parts) and used + parts[index].tokens > budget:
            break
        used += parts[index].tokens
        start = index
    while start < len(parts) - 1 and start > 0 and parts[start].turn.role != "user":
        used -= parts[start].tokens
        start += 1
    kept = parts[start:]
    return Fitted(
        turns=[p.turn for p in kept],
        context_from=kept[0].message_id if start > 0 and kept else None,
        tokens=system + used,
    )
