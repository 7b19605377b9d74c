"""Callables for CHAT_MODERATION's dotted-path mode, as a deployer would write them."""

from __future__ import annotations


def refuse_shouting(text: str, kind: str) -> str | None:
    """A sync check: refuses text in capitals."""
    letters = [c for c in text if c.isalpha()]
    return "shouting" if letters and all(c.isupper() for c in letters) else None


async def always_fails(text: str, kind: str) -> str | None:
    """An async check whose service is down."""
    raise ConnectionError("moderation backend unreachable")


def fails_on_replies(text: str, kind: str) -> str | None:
    """Passes every message; its service fails on every reply."""
    if kind == "reply":
        raise TimeoutError("moderation backend timed out")
    return None
