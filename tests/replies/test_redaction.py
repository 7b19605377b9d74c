"""Keys in a reply's text, redacted as the text streams (chat/replies/redaction.py), wherever
the pieces split them."""

from __future__ import annotations

import random

import pytest

from chat.replies.redaction import REDACTED, Redactor

KEY = "sk-test-0penai-secret-9f8e7d"
SECRET = "c3BhcmstdGVzdC1zZWNyZXQ"


def run(redactor: Redactor, pieces: list[str]) -> str:
    return "".join(redactor.feed(p) for p in pieces) + redactor.flush()


@pytest.mark.parametrize("cut", range(1, len(KEY)))
def test_a_key_split_anywhere_between_two_pieces_is_redacted(cut: int) -> None:
    text = f"header: Bearer {KEY} end"
    at = text.index(KEY) + cut
    assert run(Redactor((KEY,)), [text[:at], text[at:]]) == f"header: Bearer {REDACTED} end"


@pytest.mark.parametrize("seed", range(30))
def test_any_split_of_a_text_with_keys_gives_the_redacted_text(seed: int) -> None:
    rng = random.Random(seed)
    words = ["sk-", "sk", "s", "c3B", KEY, SECRET, "中文", " ", "sk-test", KEY[:-1], "\n"]
    text = "".join(rng.choice(words) for _ in range(40))
    cuts = sorted(rng.sample(range(1, len(text)), min(10, len(text) - 1)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]

    expected = text.replace(KEY, REDACTED).replace(SECRET, REDACTED)
    assert run(Redactor((KEY, SECRET)), pieces) == expected


def test_text_that_cannot_start_a_key_is_never_held_back() -> None:
    redactor = Redactor((KEY,))
    assert redactor.feed("Hello, 世界") == "Hello, 世界"
    assert redactor.feed(" and sk") == " and "  # could be the start of the key
    assert redactor.feed("y is blue") == "sky is blue"


def test_the_end_of_a_reply_lets_go_of_what_was_held() -> None:
    redactor = Redactor((KEY,))
    assert redactor.feed("cut at sk-te") == "cut at "
    assert redactor.flush() == "sk-te"


def test_short_or_empty_secrets_are_not_secrets() -> None:
    redactor = Redactor(("", "abc", "sk-1"))
    assert redactor.feed("abc sk-1 ok") == "abc sk-1 ok"
