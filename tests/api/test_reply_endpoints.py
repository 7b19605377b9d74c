"""The JSON API's reply endpoints: stop, regenerate, and the event stream's refusals.

These views are async and start or stop a generation on the event loop, which the test client
cannot follow past the response; these tests check status codes and stored rows, and the
streaming tests (through daphne) the rest.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message, UserLimits
from tests.support.clients import JsonApi
from tests.support.rows import finished_exchange, streaming_reply

# The async views reach the database from worker threads: rows must be committed.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


# --- stop ------------------------------------------------------------------------------------


def test_stopping_a_finished_reply_answers_it_unchanged(api: JsonApi, reply: Message) -> None:
    response = api.post(f"/api/replies/{reply.pk}/stop")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["content"]) == (reply.pk, "complete", "Hello")


def test_stopping_another_users_reply_is_not_found(api: JsonApi, other_reply: Message) -> None:
    assert api.post(f"/api/replies/{other_reply.pk}/stop").status_code == 404


def test_stopping_a_user_message_is_not_found(api: JsonApi, conversation: Conversation) -> None:
    question, _reply = finished_exchange(conversation)

    assert api.post(f"/api/replies/{question.pk}/stop").status_code == 404


def test_stop_refuses_get_anonymous_users_and_missing_csrf(
    api: JsonApi, anonymous_api: JsonApi, reply: Message
) -> None:
    url = f"/api/replies/{reply.pk}/stop"

    assert api.get(url).status_code == 405
    assert anonymous_api.post(url).status_code == 401
    assert api.post(url, csrf=False).status_code == 403


# --- regenerate ------------------------------------------------------------------------------


def test_regenerating_a_reply_adds_a_sibling_that_becomes_current(
    api: JsonApi, conversation: Conversation, reply: Message
) -> None:
    response = api.post(f"/api/replies/{reply.pk}/regenerate")

    assert response.status_code == 202
    body = response.json()
    new = Message.objects.get(pk=body["reply"]["id"])
    assert new.pk != reply.pk
    assert (new.role, new.conversation_id, new.parent_id) == (
        "assistant",
        conversation.pk,
        reply.parent_id,
    )
    assert body["reply"]["siblings"] == [reply.pk, new.pk]
    assert body["stream_url"] == f"/api/replies/{new.pk}/events"
    shown = api.get(f"/api/conversations/{conversation.pk}").json()["messages"]
    assert [m["id"] for m in shown] == [reply.parent_id, new.pk]
    assert Message.objects.filter(pk=reply.pk).exists()


def test_an_earlier_complete_reply_can_be_regenerated(
    api: JsonApi, conversation: Conversation
) -> None:
    question, first = finished_exchange(conversation, "one")
    finished_exchange(conversation, "two")

    response = api.post(f"/api/replies/{first.pk}/regenerate")

    assert response.status_code == 202
    new_id = response.json()["reply"]["id"]
    shown = api.get(f"/api/conversations/{conversation.pk}").json()["messages"]
    assert [m["id"] for m in shown] == [question.pk, new_id]
    assert Message.objects.count() == 5


def test_a_reply_still_being_written_cannot_be_regenerated(
    api: JsonApi, conversation: Conversation
) -> None:
    reply = streaming_reply(conversation)

    response = api.post(f"/api/replies/{reply.pk}/regenerate")

    assert response.status_code == 409
    assert Message.objects.count() == 2


def test_regenerating_is_held_to_the_per_minute_limit(
    api: JsonApi, user: User, reply: Message
) -> None:
    UserLimits.objects.create(user=user, messages_per_minute=1)

    assert api.post(f"/api/replies/{reply.pk}/regenerate").status_code == 429
    assert Message.objects.count() == 2


def test_regenerating_another_users_reply_or_a_user_message_is_not_found(
    api: JsonApi, other_reply: Message, conversation: Conversation
) -> None:
    question, _reply = finished_exchange(conversation)

    assert api.post(f"/api/replies/{other_reply.pk}/regenerate").status_code == 404
    assert api.post(f"/api/replies/{question.pk}/regenerate").status_code == 404
    assert Message.objects.count() == 4


def test_regenerate_refuses_get_anonymous_users_and_missing_csrf(
    api: JsonApi, anonymous_api: JsonApi, reply: Message
) -> None:
    url = f"/api/replies/{reply.pk}/regenerate"

    assert api.get(url).status_code == 405
    assert anonymous_api.post(url).status_code == 401
    assert api.post(url, csrf=False).status_code == 403
    assert Message.objects.count() == 2


# --- the event stream's refusals (its events are tested through daphne) ------------------


def test_the_event_stream_needs_an_event_stream_accept_header(api: JsonApi, reply: Message) -> None:
    response = api.client.get(f"/api/replies/{reply.pk}/events", headers={"Accept": "*/*"})

    assert response.status_code == 406
    assert response.json() == {"error": "This endpoint serves text/event-stream only."}


def test_another_users_event_stream_is_not_found(api: JsonApi, other_reply: Message) -> None:
    response = api.client.get(
        f"/api/replies/{other_reply.pk}/events", headers={"Accept": "text/event-stream"}
    )

    assert response.status_code == 404


def test_the_event_stream_refuses_anonymous_users_and_post(
    api: JsonApi, anonymous_api: JsonApi, reply: Message
) -> None:
    url = f"/api/replies/{reply.pk}/events"

    assert anonymous_api.client.get(url, headers={"Accept": "text/event-stream"}).status_code == (
        401
    )
    assert api.post(url).status_code == 405
