"""What fits in a model's context (chat/context.py): the estimate, which turns are left out,
and where each model's context size comes from."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat.context import PER_MESSAGE, estimate_tokens, fit, part
from chat.models import Endpoint
from chat.providers import context_tokens
from chat.providers.base import Turn
from chatsite.env import env_sizes


def test_the_estimate_counts_chinese_by_character_and_other_text_by_four() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("你好，世界") == 5
    assert estimate_tokens("Hello 你好") == 2 + 2


def history(n: int, size: int = 400) -> list[Any]:
    roles = ["user", "assistant"]
    return [part(i + 1, Turn(roles[i % 2], f"{i} ".ljust(size, "x"))) for i in range(n)]


def test_everything_is_sent_when_it_fits() -> None:
    parts = history(5)

    fitted = fit(parts, "Be brief.", 100_000, 4096)

    assert [t.content for t in fitted.turns] == [p.turn.content for p in parts]
    assert fitted.context_from is None
    assert fitted.tokens == (estimate_tokens("Be brief.") + PER_MESSAGE) + 5 * (100 + PER_MESSAGE)


def test_the_oldest_turns_are_left_out_and_the_history_starts_with_a_question() -> None:
    parts = history(12)  # questions 1, 3, ..., 11, replies 2, 4, ..., 12; each counts 104

    fitted = fit(parts, "", 1000, 4096)  # room for the reply 250, so 750 for the history

    # The newest 7 parts (728) fit; the oldest of them is a reply, so it is left out too.
    assert fitted.turns == [p.turn for p in parts[6:]]
    assert fitted.turns[0].role == "user"
    assert fitted.context_from == 7
    assert fitted.tokens == 6 * 104


def test_the_system_prompt_and_the_latest_question_are_always_sent() -> None:
    parts = history(3, size=8000)

    fitted = fit(parts, "A long system prompt. " * 50, 1000, 4096)

    assert fitted.turns == [parts[-1].turn]
    assert fitted.context_from == 3


def test_a_reply_counts_what_its_upstream_reported() -> None:
    assert part(1, Turn("assistant", "x" * 4000), reported_tokens=12).tokens == 12 + PER_MESSAGE
    assert part(1, Turn("assistant", "x" * 4000)).tokens == 1000 + PER_MESSAGE


@pytest.mark.django_db
def test_context_sizes_come_from_settings_the_endpoint_and_the_protocol(settings: Any) -> None:
    endpoint = Endpoint.objects.create(
        label="Local", protocol="openai", base_url="http://127.0.0.1:1/v1", model_names="a,b"
    )
    sized = Endpoint.objects.create(
        label="Sized",
        protocol="anthropic",
        base_url="http://127.0.0.1:1",
        model_names="c",
        context_tokens=32_000,
    )
    settings.CHAT_CONTEXT_TOKENS = {f"ep{endpoint.pk}:b": 2048}

    assert context_tokens("demo") == 8192
    assert context_tokens(f"ep{endpoint.pk}:a") == 128_000  # the protocol's default
    assert context_tokens(f"ep{endpoint.pk}:b") == 2048  # named in the environment
    assert context_tokens(f"ep{sized.pk}:c") == 32_000  # the endpoint's own field
    assert context_tokens("anthropic:an-t-docs") == 200_000

    settings.CHAT_CONTEXT_TOKENS = {"*": 16_000}
    assert context_tokens(f"ep{endpoint.pk}:a") == 16_000
    assert context_tokens(f"ep{sized.pk}:c") == 32_000


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("", {}),
        ("demo=4096", {"demo": 4096}),
        ("ollama:qwen2.5:7b=32768, *=8000", {"ollama:qwen2.5:7b": 32768, "*": 8000}),
    ],
)
def test_context_sizes_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, parsed: dict[str, int]
) -> None:
    monkeypatch.setitem(os.environ, "CHAT_CONTEXT_TOKENS", raw)
    assert env_sizes("CHAT_CONTEXT_TOKENS") == parsed


@pytest.mark.parametrize("raw", ["demo", "demo=", "=100", "demo=0", "demo=lots"])
def test_a_bad_context_size_names_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setitem(os.environ, "CHAT_CONTEXT_TOKENS", raw)
    with pytest.raises(ImproperlyConfigured, match="CHAT_CONTEXT_TOKENS must be model=tokens"):
        env_sizes("CHAT_CONTEXT_TOKENS")
