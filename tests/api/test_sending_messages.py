"""The JSON API's sending of a message, and the per-user limits on replies.

The view is async and starts a generation on the event loop; the test client cannot run that
generation past the response, so these tests check status codes and stored rows. The
generation itself is tested through daphne (tests/streaming/).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import sending
from chat.models import Conversation, Message, UsageRecord, UserLimits
from tests.support.clients import JsonApi
from tests.support.rows import finished_exchange, streaming_reply

# The async views reach the database from worker threads: rows must be committed.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def messages_url(conv: Conversation) -> str:
    return f"/api/conversations/{conv.pk}/messages"


# --- sending a message ---------------------------------------------------------------------


def test_sending_a_message_stores_it_and_a_streaming_reply(
    api: JsonApi, conversation: Conversation
) -> None:
    response = api.post(messages_url(conversation), {"content": "What is 2+2? <b>"})

    assert response.status_code == 202
    body = response.json()
    question = Message.objects.get(pk=body["message"]["id"])
    reply = Message.objects.get(pk=body["reply"]["id"])
    assert (question.role, question.content, question.html, question.status) == (
        "user",
        "What is 2+2? <b>",
        "What is 2+2? &lt;b&gt;",
        "complete",
    )
    assert (reply.role, reply.model, reply.conversation_id) == (
        "assistant",
        "demo",
        conversation.pk,
    )
    assert body["reply"]["status"] == "streaming"
    assert body["stream_url"] == f"/api/replies/{reply.pk}/events"


def test_the_first_message_names_an_untitled_conversation(api: JsonApi, user: User) -> None:
    conv = Conversation.objects.create(owner=user, model="demo")

    api.post(messages_url(conv), {"content": "  Plan a\n trip   to Kyoto  "})

    conv.refresh_from_db()
    assert conv.title == "Plan a trip to Kyoto"


@pytest.mark.parametrize("content", ["", "   \n\t "])
def test_an_empty_message_is_refused_and_nothing_is_stored(
    api: JsonApi, conversation: Conversation, content: str
) -> None:
    response = api.post(messages_url(conversation), {"content": content})

    assert response.status_code == 400
    assert response.json() == {"error": "The message must not be empty."}
    assert not Message.objects.exists()


def test_a_message_with_a_null_character_is_refused_and_nothing_is_stored(
    api: JsonApi, conversation: Conversation
) -> None:
    response = api.post(messages_url(conversation), {"content": "before\u0000after"})

    assert response.status_code == 400
    assert response.json() == {"error": "The message must not contain null characters."}
    assert not Message.objects.exists()


def test_a_message_without_content_is_refused(api: JsonApi, conversation: Conversation) -> None:
    assert api.post(messages_url(conversation), {}).status_code == 400
    assert api.post(messages_url(conversation), {"content": ["Hi"]}).status_code == 400
    assert not Message.objects.exists()


def test_a_message_over_the_limit_is_refused_and_nothing_is_stored(
    api: JsonApi, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_MESSAGE_CHARS = 10  # type: ignore[attr-defined]

    response = api.post(messages_url(conversation), {"content": "你" * 11})

    assert response.status_code == 400
    assert response.json() == {"error": "The message is too long: 11 characters, the limit is 10."}
    assert not Message.objects.exists()


def test_a_message_at_the_limit_is_accepted(
    api: JsonApi, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_MESSAGE_CHARS = 10  # type: ignore[attr-defined]

    assert api.post(messages_url(conversation), {"content": "你" * 10}).status_code == 202


@pytest.mark.parametrize("raw", ["{not json", "[]", '"Hi"', "12"])
def test_a_message_with_a_bad_body_is_refused(
    api: JsonApi, conversation: Conversation, raw: str
) -> None:
    assert api.post(messages_url(conversation), raw=raw).status_code == 400
    assert not Message.objects.exists()


def test_a_message_to_a_model_that_is_gone_is_refused(api: JsonApi, user: User) -> None:
    conv = Conversation.objects.create(owner=user, model="openai:retired-model")

    response = api.post(messages_url(conv), {"content": "Hi"})

    assert response.status_code == 400
    assert response.json() == {
        "error": "The model “openai:retired-model” is not available; pick another one."
    }
    assert not Message.objects.exists()


def test_a_message_while_a_reply_streams_is_refused(
    api: JsonApi, conversation: Conversation
) -> None:
    streaming_reply(conversation)

    response = api.post(messages_url(conversation), {"content": "And another thing"})

    assert response.status_code == 409
    assert response.json() == {"error": "A reply is still being written in this conversation."}
    assert Message.objects.count() == 2


def test_a_message_to_another_users_conversation_is_not_found(
    api: JsonApi, other_conversation: Conversation
) -> None:
    response = api.post(messages_url(other_conversation), {"content": "Hi"})

    assert response.status_code == 404
    assert not Message.objects.exists()


def test_sending_refuses_put(api: JsonApi, conversation: Conversation) -> None:
    response = api.call("PUT", messages_url(conversation), {"content": "Hi"})

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


def test_sending_refuses_anonymous_users(
    anonymous_api: JsonApi, conversation: Conversation
) -> None:
    assert anonymous_api.post(messages_url(conversation), {"content": "Hi"}).status_code == 401
    assert not Message.objects.exists()


def test_sending_without_a_csrf_token_is_refused(api: JsonApi, conversation: Conversation) -> None:
    response = api.post(messages_url(conversation), {"content": "Hi"}, csrf=False)

    assert response.status_code == 403
    assert response.json() == {"error": "CSRF check failed; reload the page and try again."}
    assert not Message.objects.exists()


# --- per-user limits -------------------------------------------------------------------------


def test_too_many_replies_at_once_are_refused(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_CONCURRENT_REPLIES = 1  # type: ignore[attr-defined]
    streaming_reply(Conversation.objects.create(owner=user, model="demo"))

    response = api.post(messages_url(conversation), {"content": "Hi"})

    assert response.status_code == 429
    assert response.json() == {
        "error": "You already have 1 replies being written; wait for one to finish."
    }
    assert not conversation.messages.exists()


def test_another_users_replies_do_not_count_against_my_limit(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_CONCURRENT_REPLIES = 1  # type: ignore[attr-defined]
    streaming_reply(other_conversation)

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202


def test_too_many_messages_in_a_minute_are_refused(
    api: JsonApi, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE = 2  # type: ignore[attr-defined]
    finished_exchange(conversation)
    finished_exchange(conversation)

    response = api.post(messages_url(conversation), {"content": "Hi"})

    assert response.status_code == 429
    assert response.json() == {
        "error": "You have sent 2 messages in the last minute; wait a moment."
    }
    assert conversation.messages.count() == 4


def test_sends_older_than_a_minute_do_not_count_against_the_per_minute_limit(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE = 2  # type: ignore[attr-defined]
    now = timezone.now()
    for age in (61, 90, 3600, 25 * 3600):
        UsageRecord.objects.create(user=user, model="demo", created_at=now - timedelta(seconds=age))
    UsageRecord.objects.create(user=user, model="demo", created_at=now - timedelta(seconds=50))

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202
    # Its reply ends; the ledger now holds two sends of the last minute.
    Message.objects.filter(status=Message.Status.STREAMING).update(status=Message.Status.COMPLETE)

    response = api.post(messages_url(conversation), {"content": "Again"})

    assert response.status_code == 429
    assert "2 messages in the last minute" in response.json()["error"]


def test_a_running_reply_elsewhere_counts_but_does_not_block_this_conversation(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_CONCURRENT_REPLIES = 2  # type: ignore[attr-defined]
    streaming_reply(Conversation.objects.create(owner=user, model="demo"))

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202
    conversation.messages.update(status=Message.Status.COMPLETE)
    streaming_reply(Conversation.objects.create(owner=user, model="demo"))
    response = api.post(messages_url(conversation), {"content": "Again"})

    assert response.status_code == 429
    assert "2 replies being written" in response.json()["error"]


def test_deleting_conversations_does_not_reset_the_per_minute_limit(
    api: JsonApi, user: User, settings: object
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE = 3  # type: ignore[attr-defined]
    settings.CHAT_MAX_CONCURRENT_REPLIES = 10  # type: ignore[attr-defined]
    for _ in range(3):
        conv = Conversation.objects.create(owner=user, model="demo")
        assert api.post(messages_url(conv), {"content": "Hi"}).status_code == 202
        assert api.delete(f"/api/conversations/{conv.pk}").status_code == 204
    fresh = Conversation.objects.create(owner=user, model="demo")

    response = api.post(messages_url(fresh), {"content": "Hi"})

    assert response.status_code == 429
    assert "3 messages in the last minute" in response.json()["error"]
    assert not Message.objects.exists()
    # The ledger kept the three sends, and that their replies ended.
    rows = UsageRecord.objects.filter(user=user)
    assert [(r.reply_id, r.conversation_id) for r in rows] == [(None, None)] * 3
    assert all(r.outcome in ("stopped", "interrupted") for r in rows)


def test_each_send_writes_its_row_in_the_usage_ledger(
    api: JsonApi, user: User, conversation: Conversation
) -> None:
    body = api.post(messages_url(conversation), {"content": "Hi"}).json()

    row = UsageRecord.objects.get(reply_id=body["reply"]["id"])
    assert (row.user, row.conversation, row.model, row.provider) == (
        user,
        conversation,
        "demo",
        "Demo",
    )
    # The test client ends the request's event loop, and with it the generation: the row
    # says how the reply ended, as the reply does.
    assert row.outcome == Message.objects.get(pk=body["reply"]["id"]).status


def test_a_per_user_override_raises_the_limit(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE = 1  # type: ignore[attr-defined]
    UserLimits.objects.create(user=user, messages_per_minute=5)
    finished_exchange(conversation)

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 202


def test_a_per_user_override_lowers_the_limit(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MAX_CONCURRENT_REPLIES = 10  # type: ignore[attr-defined]
    UserLimits.objects.create(user=user, max_concurrent_replies=1)
    streaming_reply(Conversation.objects.create(owner=user, model="demo"))

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 429


def test_a_per_user_override_of_zero_blocks_new_messages(
    api: JsonApi, user: User, conversation: Conversation
) -> None:
    UserLimits.objects.create(user=user, messages_per_minute=0)

    response = api.post(messages_url(conversation), {"content": "Hi"})

    assert response.status_code == 429
    assert response.json() == {
        "error": "Your account may not start replies at the moment; ask an administrator."
    }
    assert not Message.objects.exists()


def test_an_empty_per_user_override_keeps_the_default(
    api: JsonApi, user: User, conversation: Conversation, settings: object
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE = 1  # type: ignore[attr-defined]
    UserLimits.objects.create(user=user, messages_per_minute=None)
    finished_exchange(conversation)

    assert api.post(messages_url(conversation), {"content": "Hi"}).status_code == 429


# --- what a reply's start reads ------------------------------------------------------------


def test_the_first_exchange_reads_no_message_back_and_checks_the_limits_once(
    user: User, conversation: Conversation
) -> None:
    """Starting a reply checks the conversation is idle and the user's limits (running
    replies, sends in the last minute, their overrides) in one statement, and builds the
    upstream request from the question it has just saved; the history of a later exchange is
    read from the database, and sent whole."""
    with CaptureQueriesContext(connection) as first:
        *_, prepared = sending.start_exchange(user, conversation.pk, {"content": "Hi"}, "c.1")
    Message.objects.filter(role=Message.Role.ASSISTANT).update(
        status=Message.Status.COMPLETE, content="Hello"
    )
    with CaptureQueriesContext(connection) as second:
        *_, later = sending.start_exchange(user, conversation.pk, {"content": "More"}, "c.2")

    def reads(queries: CaptureQueriesContext, pattern: str) -> int:
        return sum(1 for q in queries.captured_queries if re.search(pattern, q["sql"]))

    unfinished = r"m\.status IN"
    message_rows = r'^SELECT "chat_message"."id", "chat_message"."conversation_id"'
    assert (reads(first, unfinished), reads(first, message_rows)) == (1, 0)
    assert (reads(second, unfinished), reads(second, message_rows)) == (1, 1)
    for limit_table in ("chat_usagerecord", "chat_userlimits"):
        assert reads(first, rf'^SELECT .*"{limit_table}"') == 0
    assert prepared is not None and later is not None
    assert [t.content for t in prepared[1].messages] == ["Hi"]
    assert [t.content for t in later[1].messages] == ["Hi", "Hello", "More"]
