"""The daily token quota: a send past it is refused with when it resets; a running reply
finishes; the admin's per-user override."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from chat.models import Conversation, UserLimits
from tests.support.clients import JsonApi, SiteClient
from tests.support.rows import ledger_row
from tests.support.waiting import wait_finished

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def messages_url(conv: Conversation) -> str:
    return f"/api/conversations/{conv.pk}/messages"


def test_a_send_past_the_quota_is_a_429_saying_when_it_resets(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 500  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 200, 300)
    r = api.post(messages_url(conversation), {"content": "More?"})
    assert r.status_code == 429
    assert r.json() == {
        "error": "You have used your 500 tokens for today. The allowance resets at 00:00 (UTC)."
    }
    assert conversation.messages.count() == 0


def test_the_refusal_is_translated(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 500  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 200, 300)
    api.client.cookies["django_language"] = "zh-hans"
    r = api.client.post(
        messages_url(conversation),
        '{"content": "More?"}',
        content_type="application/json",
        headers={"X-CSRFToken": "c" * 32, "Accept-Language": "zh-hans"},
    )
    assert r.status_code == 429
    assert "额度将于 00:00（UTC）重置" in r.json()["error"]


def test_yesterdays_tokens_do_not_count(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 500  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 5000, 5000, at=timezone.now() - timedelta(days=1))
    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202


def test_below_the_quota_a_send_goes_through(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 500  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 200, 299)
    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202


def test_an_override_raises_or_lifts_the_quota(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 500  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 600, 0)
    limits = UserLimits.objects.create(user=user, daily_tokens=10_000)
    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202
    Conversation.objects.filter(pk=conversation.pk).first().messages.all().delete()  # type: ignore[union-attr]
    limits.daily_tokens = 100
    limits.save()
    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 429
    limits.daily_tokens = 0  # no limit for this user
    limits.save()
    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202


def test_a_new_conversation_past_the_quota_stores_nothing(
    api: JsonApi, user: User, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 10  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 10, 0)
    r = api.post("/api/conversations", {"content": "Hi", "model": "demo"})
    assert r.status_code == 429
    assert not Conversation.objects.exists()


def test_a_reply_running_when_the_quota_is_reached_finishes(
    site: SiteClient, live_user: User
) -> None:
    UserLimits.objects.create(user=live_user, daily_tokens=5)
    reply, _url = site.ask("demo", "Tell me something long")
    saved = wait_finished(reply["id"])
    assert saved.status == "complete"
    assert (saved.input_tokens or 0) + (saved.output_tokens or 0) > 5
    conv = site.conversation_of(reply["id"])
    r = site.http.post(f"/api/conversations/{conv}/messages", json={"content": "More"})
    assert r.status_code == 429
    assert "resets at 00:00" in r.json()["error"]
    usage = site.http.get("/api/usage").json()
    assert usage["quota"]["remaining"] == 0
