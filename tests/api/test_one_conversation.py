"""The JSON API's one conversation: read, rename, change, delete, and every refusal."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from tests.support import rows
from tests.support.clients import JsonApi

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def add_message(conv: Conversation, role: str, content: str, **fields: object) -> Message:
    return rows.add_message(conv, role=role, content=content, **fields)


# --- one conversation ----------------------------------------------------------------------


def test_a_conversation_comes_with_its_current_branch_oldest_first(
    api: JsonApi, conversation: Conversation
) -> None:
    question = add_message(conversation, "user", "Hi")
    first_try = add_message(conversation, "assistant", "First try")
    answer = add_message(
        conversation,
        "assistant",
        "Hello",
        parent=question,
        html="<p>Hello</p>",
        model="demo",
        finish_reason="stop",
    )

    response = api.get(f"/api/conversations/{conversation.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "First chat"
    assert body["current"] == answer.pk
    assert [m["id"] for m in body["messages"]] == [question.pk, answer.pk]
    assert [(m["parent"], m["siblings"]) for m in body["messages"]] == [
        (None, [question.pk]),
        (question.pk, [first_try.pk, answer.pk]),
    ]
    reply = body["messages"][1]
    assert {k: reply[k] for k in ("role", "content", "html", "status", "model")} == {
        "role": "assistant",
        "content": "Hello",
        "html": "<p>Hello</p>",
        "status": "complete",
        "model": "demo",
    }
    assert reply["usage"] == {"input_tokens": None, "output_tokens": None}
    assert {"error", "finish_reason", "created_at"} <= set(reply)


def test_renaming_a_conversation(api: JsonApi, conversation: Conversation) -> None:
    response = api.patch(f"/api/conversations/{conversation.pk}", {"title": " Renamed "})

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    conversation.refresh_from_db()
    assert (conversation.title, conversation.model) == ("Renamed", "demo")


def test_changing_model_and_system_prompt(api: JsonApi, conversation: Conversation) -> None:
    response = api.patch(
        f"/api/conversations/{conversation.pk}",
        {"model": "openai:oa-code", "system_prompt": "Answer in French."},
    )

    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.model, conversation.system_prompt, conversation.title) == (
        "openai:oa-code",
        "Answer in French.",
        "First chat",
    )


def test_changing_to_an_unknown_model_changes_nothing(
    api: JsonApi, conversation: Conversation
) -> None:
    response = api.patch(
        f"/api/conversations/{conversation.pk}", {"title": "New", "model": "gpt-nothing"}
    )

    assert response.status_code == 400
    assert response.json() == {"error": "Unknown model “gpt-nothing”."}
    conversation.refresh_from_db()
    assert (conversation.title, conversation.model) == ("First chat", "demo")


@pytest.mark.parametrize("raw", ["{oops", "[1, 2]"])
def test_patching_with_a_bad_body_is_refused(
    api: JsonApi, conversation: Conversation, raw: str
) -> None:
    assert api.patch(f"/api/conversations/{conversation.pk}", raw=raw).status_code == 400


def test_deleting_a_conversation_removes_it_and_its_messages(
    api: JsonApi, conversation: Conversation
) -> None:
    add_message(conversation, "user", "Hi")

    response = api.delete(f"/api/conversations/{conversation.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.exists()
    assert api.get(f"/api/conversations/{conversation.pk}").status_code == 404


def test_a_conversation_refuses_put(api: JsonApi, conversation: Conversation) -> None:
    response = api.call("PUT", f"/api/conversations/{conversation.pk}", {"title": "x"})

    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH, DELETE"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_users_conversation_is_not_found(
    api: JsonApi, other_conversation: Conversation, method: str
) -> None:
    response = api.call(method, f"/api/conversations/{other_conversation.pk}", {"title": "Mine"})

    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
    other_conversation.refresh_from_db()
    assert other_conversation.title == "Not yours"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_missing_conversation_is_not_found(api: JsonApi, method: str) -> None:
    assert api.call(method, "/api/conversations/99999", {}).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_anonymous_users_cannot_touch_a_conversation(
    anonymous_api: JsonApi, conversation: Conversation, method: str
) -> None:
    response = anonymous_api.call(method, f"/api/conversations/{conversation.pk}", {})

    assert response.status_code == 401
    assert Conversation.objects.filter(pk=conversation.pk, title="First chat").exists()


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_changes_without_a_csrf_token_are_refused(
    api: JsonApi, conversation: Conversation, method: str
) -> None:
    response = api.call(method, f"/api/conversations/{conversation.pk}", {"title": "x"}, csrf=False)

    assert response.status_code == 403
    assert "error" in response.json()
    assert Conversation.objects.filter(pk=conversation.pk, title="First chat").exists()
