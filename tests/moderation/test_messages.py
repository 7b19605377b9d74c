"""A user's message goes through the moderation hook before anything is stored or sent
upstream: a hit is a 422 with a message, kept for administrators; a failing service follows
CHAT_MODERATION_FAIL, logged either way."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message, ModerationFlag
from tests.support.clients import JsonApi
from tests.support.fakes.upstream import FakeUpstream

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]

REFUSED = "This message was not sent: it does not pass this site's content rules."


def send(api: JsonApi, conv: Conversation, text: str) -> Any:
    return api.post(f"/api/conversations/{conv.pk}/messages", {"content": text})


@pytest.mark.usefixtures("words_moderation")
def test_a_listed_word_refuses_the_message_and_nothing_is_stored_or_sent(
    api: JsonApi, user: User, conversation: Conversation, fake_upstream: FakeUpstream
) -> None:
    conversation.model = "openai:oa-plain"
    conversation.save()
    before = len(fake_upstream.requests_for("oa-plain"))
    r = send(api, conversation, "Tell me the FORBIDDEN recipe")
    assert r.status_code == 422
    assert r.json() == {"error": REFUSED}
    assert not Message.objects.exists()
    assert len(fake_upstream.requests_for("oa-plain")) == before
    flag = ModerationFlag.objects.get()
    assert (flag.user, flag.conversation, flag.kind, flag.text, flag.reason) == (
        user,
        conversation,
        "message",
        "Tell me the FORBIDDEN recipe",
        "word “forbidden”",
    )


@pytest.mark.usefixtures("words_moderation")
def test_a_chinese_word_refuses_a_first_message_and_no_conversation_is_made(
    api: JsonApi,
) -> None:
    r = api.post("/api/conversations", {"content": "这是暴力内容", "model": "demo"})
    assert r.status_code == 422
    assert not Conversation.objects.exists()
    assert ModerationFlag.objects.get().conversation is None


@pytest.mark.usefixtures("words_moderation")
def test_a_clean_message_is_sent(api: JsonApi, conversation: Conversation) -> None:
    assert send(api, conversation, "A forbiddenly good question").status_code == 202
    assert not ModerationFlag.objects.exists()


@pytest.mark.usefixtures("words_moderation")
def test_the_refusal_is_translated(api: JsonApi, conversation: Conversation) -> None:
    r = api.client.post(
        f"/api/conversations/{conversation.pk}/messages",
        '{"content": "forbidden"}',
        content_type="application/json",
        headers={"X-CSRFToken": "c" * 32, "Accept-Language": "zh-hans"},
    )
    assert r.status_code == 422
    assert "未发送" in r.json()["error"]


@pytest.mark.usefixtures("words_moderation")
def test_another_users_conversation_is_still_a_404_and_not_recorded_as_theirs(
    api: JsonApi, other_conversation: Conversation
) -> None:
    assert send(api, other_conversation, "fine text").status_code == 404
    r = send(api, other_conversation, "forbidden text")
    assert r.status_code in (404, 422)
    assert all(f.conversation is None for f in ModerationFlag.objects.all())


def test_openai_moderation_refuses_a_flagged_message(
    api: JsonApi, conversation: Conversation, openai_moderation: FakeUpstream
) -> None:
    r = send(api, conversation, "Something forbidden")
    assert r.status_code == 422
    request = openai_moderation.requests_for("mod-test")[-1]
    assert (request.method, request.path) == ("POST", "/v1/moderations")
    assert request.json == {"model": "mod-test", "input": "Something forbidden"}
    assert request.headers["authorization"] == "Bearer sk-test-0penai-secret-9f8e7d"
    assert ModerationFlag.objects.get().reason == "OpenAI moderation: violence"
    assert send(api, conversation, "Something nice").status_code == 202


@pytest.mark.parametrize("model", ["mod-broken", "mod-garbled"])
def test_a_failing_service_fails_closed_by_default_and_logs_it(
    api: JsonApi,
    conversation: Conversation,
    openai_moderation: FakeUpstream,
    settings: Any,
    model: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.CHAT_MODERATION_MODEL = model
    with caplog.at_level(logging.WARNING, logger="chat.moderation"):
        r = send(api, conversation, "Anything")
    assert r.status_code == 503
    assert "cannot be checked" in r.json()["error"]
    assert not Message.objects.exists()
    assert ModerationFlag.objects.get().service_failed
    assert "failing closed" in caplog.text
    assert "sk-test" not in caplog.text


def test_a_failing_service_can_fail_open_and_logs_it(
    api: JsonApi,
    conversation: Conversation,
    openai_moderation: FakeUpstream,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.CHAT_MODERATION_MODEL = "mod-broken"
    settings.CHAT_MODERATION_FAIL = "open"
    with caplog.at_level(logging.WARNING, logger="chat.moderation"):
        assert send(api, conversation, "Anything").status_code == 202
    assert "failing open" in caplog.text
    assert not ModerationFlag.objects.exists()


def test_a_dotted_path_names_the_check(
    api: JsonApi, conversation: Conversation, settings: Any
) -> None:
    settings.CHAT_MODERATION = "tests.support.moderation_hooks.refuse_shouting"
    assert send(api, conversation, "STOP SHOUTING").status_code == 422
    assert ModerationFlag.objects.get().reason == "shouting"
    assert send(api, conversation, "Quietly now").status_code == 202


def test_a_dotted_path_that_raises_is_a_failed_service(
    api: JsonApi, conversation: Conversation, settings: Any
) -> None:
    settings.CHAT_MODERATION = "tests.support.moderation_hooks.always_fails"
    assert send(api, conversation, "Hello").status_code == 503
