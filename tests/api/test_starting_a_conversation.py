"""A conversation and its first message are made together (POST /api/conversations with
`content`), or, refused, not at all; and new conversations are capped per minute."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from chat.models import Conversation, Message, UsageRecord, UserLimits
from tests.support.clients import JsonApi

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def test_a_first_message_starts_its_conversation_and_reply(api: JsonApi, user: User) -> None:
    response = api.post(
        "/api/conversations",
        {"content": "Hello 你好", "system_prompt": "Be brief.", "model": "demo"},
    )

    assert response.status_code == 202
    body = response.json()
    conv = Conversation.objects.get(pk=body["conversation"]["id"], owner=user)
    assert (conv.title, conv.system_prompt, conv.model) == ("Hello 你好", "Be brief.", "demo")
    assert body["message"]["content"] == "Hello 你好"
    assert body["reply"]["role"] == "assistant"
    assert body["stream_url"] == f"/api/replies/{body['reply']['id']}/events"
    assert UsageRecord.objects.filter(reply_id=body["reply"]["id"], user=user).exists()


@pytest.mark.parametrize(
    ("setup", "payload", "status"),
    [
        ("blocked", {"content": "Hi"}, 429),
        (None, {"content": "   "}, 400),
        (None, {"content": "Hi", "model": "openai:no-such-model"}, 400),
        (None, {"content": "x" * 40_000}, 400),
        (None, {"content": "Hi", "title": 7}, 400),
    ],
    ids=["over-a-limit", "empty", "unknown-model", "too-long", "bad-title"],
)
def test_a_refused_first_message_leaves_no_conversation(
    api: JsonApi, user: User, setup: str | None, payload: dict[str, object], status: int
) -> None:
    if setup == "blocked":
        UserLimits.objects.create(user=user, messages_per_minute=0)

    response = api.post("/api/conversations", payload)

    assert response.status_code == status
    assert "error" in response.json()
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not UsageRecord.objects.exists()


def test_new_conversations_are_capped_per_minute(
    api: JsonApi, user: User, settings: Settings
) -> None:
    settings.CHAT_CONVERSATIONS_PER_MINUTE = 3
    for _ in range(3):
        assert api.post("/api/conversations", {}).status_code == 201

    refused = api.post("/api/conversations", {})
    refused_with_message = api.post("/api/conversations", {"content": "Hi"})

    for response in (refused, refused_with_message):
        assert response.status_code == 429
        assert response.json() == {
            "error": "You have started 3 conversations in the last minute; wait a moment."
        }
    assert Conversation.objects.filter(owner=user).count() == 3


def test_another_users_conversations_do_not_count_against_my_cap(
    api: JsonApi, other_user: User, settings: Settings
) -> None:
    settings.CHAT_CONVERSATIONS_PER_MINUTE = 1
    Conversation.objects.create(owner=other_user, model="demo")

    assert api.post("/api/conversations", {}).status_code == 201
