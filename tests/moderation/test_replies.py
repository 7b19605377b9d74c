"""A streamed reply goes through the moderation hook in batches, through a real daphne: a hit
stops the upstream and ends the reply as moderated, its text kept for administrators only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from chat.models import Message, ModerationFlag
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.moderation_scenarios import CLEAN_TEXT
from tests.support.fakes.upstream import FakeUpstream
from tests.support.waiting import wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
MODERATED = "This reply was stopped by the site's moderation."


def check_moderated(site: SiteClient, model: str, fake_upstream: FakeUpstream) -> Message:
    reply, url = site.ask(f"openai:{model}", "Go on")
    _shown, events = site.stream_text(url)
    end = events[-1]
    assert end.event == "end"
    assert end.data["status"] == "error"
    assert end.data["error"] == MODERATED
    assert end.data["error_kind"] == "moderated"
    assert (end.data["content"], end.data["html"], end.data["retryable"]) == ("", "", False)
    saved = wait_finished(reply["id"])
    assert (saved.status, saved.content, saved.html, saved.error_kind) == (
        "error",
        "",
        "",
        "moderated",
    )
    # The user reads only that it was moderated; the API has no trace of the text either.
    api_reply = site.reply(reply["id"])
    assert api_reply["content"] == "" and "orbidden" not in str(api_reply)
    return saved


def test_a_hit_mid_reply_stops_the_upstream_and_keeps_the_text_for_administrators(
    words_site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    saved = check_moderated(words_site, "mod-reply-bad", fake_upstream)
    request = fake_upstream.wait_closed("mod-reply-bad")
    assert request.finished_writing is None  # closed before the upstream was done
    flag = ModerationFlag.objects.get(message=saved)
    assert flag.kind == "reply"
    assert flag.reason == "word “forbidden”"
    assert "Now a Forbidden thing." in flag.text
    assert "more text 99" not in flag.text
    assert flag.user_id == saved.conversation.owner_id


def test_a_hit_in_the_last_words_is_caught_before_the_reply_is_saved(
    words_site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    saved = check_moderated(words_site, "mod-reply-tail", fake_upstream)
    assert ModerationFlag.objects.get(message=saved).text.endswith("which is forbidden")


def test_a_clean_reply_completes(words_site: SiteClient) -> None:
    reply, url = words_site.ask("openai:mod-reply-clean")
    shown, _events = words_site.stream_text(url)
    saved = wait_finished(reply["id"])
    assert (saved.status, saved.content, shown) == ("complete", CLEAN_TEXT, CLEAN_TEXT)
    assert not ModerationFlag.objects.exists()


def test_the_openai_endpoint_checks_the_reply_in_batches(
    openai_site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    checks_before = len(fake_upstream.requests_for("mod-test"))
    saved = check_moderated(openai_site, "mod-reply-bad", fake_upstream)
    checks = fake_upstream.requests_for("mod-test")[checks_before:]
    # The message, then the reply in sentence-sized batches: far fewer checks than deltas.
    assert checks[0].json == {"model": "mod-test", "input": "Go on"}
    assert 2 <= len(checks) <= 8
    assert ModerationFlag.objects.get(message=saved).reason == "OpenAI moderation: violence"


@pytest.mark.parametrize(
    ("fail", "status", "error_kind"),
    [("closed", "error", "moderation_failed"), ("open", "complete", "")],
)
def test_a_failing_service_ends_the_reply_or_lets_it_through_as_set(
    start_site: Callable[..., Daphne],
    live_user: User,
    fail: str,
    status: str,
    error_kind: str,
) -> None:
    d = start_site(
        CHAT_MODERATION="tests.support.moderation_hooks.fails_on_replies",
        CHAT_MODERATION_FAIL=fail,
        PYTHONPATH=str(ROOT),
    )
    site = SiteClient(d.url, login_session(live_user))
    try:
        reply, url = site.ask("openai:mod-reply-clean")
        site.stream_text(url)
        saved = wait_finished(reply["id"])
    finally:
        site.close()
    assert (saved.status, saved.error_kind) == (status, error_kind)
    if fail == "closed":
        assert saved.content == ""
        assert saved.retryable
        flag = ModerationFlag.objects.get(message=saved)
        # Stopped at the first batch that could not be checked, or at the end.
        assert flag.service_failed and flag.text and CLEAN_TEXT.startswith(flag.text)
    else:
        assert saved.content == CLEAN_TEXT
        assert not ModerationFlag.objects.exists()
    assert f"moderation of a reply failed (moderation backend timed out); failing {fail}" in (
        d.logs()
    )
