"""How a generation's end is decided (chat/replies/outcome.py), rule by rule, in order."""

from __future__ import annotations

import logging

import pytest

from chat.models import Message
from chat.providers.base import Finish
from chat.providers.errors import UpstreamError
from chat.replies import outcome

STOP = Finish("stop", "stop")
FILTERED = Finish("content_filter", "SAFETY")


def decide(**overrides: object) -> outcome.Verdict:
    facts: dict[str, object] = {
        "shut_down": False,
        "stopped": False,
        "failure": None,
        "finish": STOP,
        "has_text": True,
    }
    return outcome.decide(**{**facts, **overrides})  # type: ignore[arg-type]


def test_a_normal_end_is_complete_with_the_upstreams_finish() -> None:
    assert decide() == outcome.Verdict(Message.Status.COMPLETE, STOP)


def test_a_shutdown_interrupts_whatever_else_happened() -> None:
    verdict = decide(shut_down=True, stopped=True, failure=UpstreamError("x"))
    assert verdict == outcome.Verdict(
        Message.Status.INTERRUPTED, Finish("", "stop"), outcome.SERVER_RESTARTED, "server_restarted"
    )


def test_a_stop_wins_over_a_failure_and_keeps_no_finish_reason() -> None:
    verdict = decide(stopped=True, failure=UpstreamError("x"))
    assert verdict == outcome.Verdict(Message.Status.STOPPED, Finish("", "stop"))


def test_an_upstream_failure_keeps_its_message_and_kind() -> None:
    verdict = decide(failure=UpstreamError("OpenAI refused the credentials (HTTP 401).", "auth"))
    assert verdict == outcome.Verdict(
        Message.Status.ERROR,
        Finish("error", "stop"),
        "OpenAI refused the credentials (HTTP 401).",
        "auth",
    )


def test_a_bug_is_logged_and_shown_in_plain_words(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="chat.replies.outcome"):
        verdict = decide(failure=KeyError("internal detail"))
    assert (verdict.status, verdict.error, verdict.error_kind) == (
        Message.Status.ERROR,
        outcome.SERVER_FAILED,
        "server_failed",
    )
    assert "internal detail" not in verdict.error
    assert "generation failed" in caplog.text


def test_a_content_filter_without_a_word_is_an_error() -> None:
    verdict = decide(finish=FILTERED, has_text=False)
    assert verdict == outcome.Verdict(
        Message.Status.ERROR,
        Finish("error", "SAFETY"),
        "The provider withheld this reply (content filter: SAFETY).",
        "blocked",
    )


def test_a_content_filter_after_some_text_completes() -> None:
    assert decide(finish=FILTERED, has_text=True).status == Message.Status.COMPLETE
