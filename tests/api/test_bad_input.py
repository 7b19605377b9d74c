"""Hostile and malformed requests to the JSON API get a clear 4xx in JSON, never a 500 and
never Django's HTML pages, and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from chat.models import Conversation, Message
from tests.support.clients import CSRF_TOKEN, JsonApi

pytestmark = pytest.mark.django_db

# What error messages call the fields.
FIELD = {"title": "The title", "system_prompt": "The system prompt"}


def test_a_deeply_nested_body_is_refused(api: JsonApi, conversation: Conversation) -> None:
    raw = "[" * 100_000 + "]" * 100_000

    response = api.call("PATCH", f"/api/conversations/{conversation.pk}", raw=raw)

    assert response.status_code == 400
    assert response.json() == {"error": "The request body is nested too deeply."}


@pytest.mark.parametrize("field", ["title", "system_prompt"])
def test_a_lone_surrogate_in_a_conversation_field_is_refused(
    api: JsonApi, conversation: Conversation, field: str
) -> None:
    raw = f'{{"{field}": "bad \\ud800 half"}}'

    response = api.call("PATCH", f"/api/conversations/{conversation.pk}", raw=raw)

    assert response.status_code == 400
    assert response.json() == {
        "error": f"{FIELD[field]} contains characters that are not valid text."
    }
    conversation.refresh_from_db()
    assert (conversation.title, conversation.system_prompt) == ("First chat", "")


@pytest.mark.django_db(transaction=True)
def test_a_lone_surrogate_in_a_message_is_refused(api: JsonApi, conversation: Conversation) -> None:
    raw = '{"content": "an emoji cut in half: \\ud83c"}'

    response = api.call("POST", f"/api/conversations/{conversation.pk}/messages", raw=raw)

    assert response.status_code == 400
    assert "not valid text" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_whole_surrogate_pair_is_text(api: JsonApi, conversation: Conversation) -> None:
    raw = '{"title": "globe \\ud83c\\udf0f"}'

    response = api.call("PATCH", f"/api/conversations/{conversation.pk}", raw=raw)

    assert response.status_code == 200
    assert response.json()["title"] == "globe 🌏"


def test_a_body_over_the_size_limit_is_refused_in_json(
    api: JsonApi, conversation: Conversation, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw = '{"title": "' + "x" * 2000 + '"}'

    response = api.call("PATCH", f"/api/conversations/{conversation.pk}", raw=raw)

    assert response.status_code == 413
    assert response.json() == {"error": "The request is too large."}


@pytest.mark.parametrize(
    "path",
    [
        "/api/conversations/abc",
        "/api/conversations/1.5/messages",
        "/api/replies/-1/stop",
        "/api/replies/99999999999999999999999/events",
        "/api/no-such-thing",
        "/api/",
    ],
)
def test_a_path_under_the_api_that_names_nothing_is_a_json_404(api: JsonApi, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found."}


def test_a_huge_id_is_not_found_rather_than_an_error(api: JsonApi) -> None:
    response = api.get("/api/conversations/99999999999999999999")

    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_errors_name_fields_in_the_readers_language(
    api: JsonApi, auth_client: Client, conversation: Conversation
) -> None:
    response = auth_client.patch(
        f"/api/conversations/{conversation.pk}",
        '{"system_prompt": 5}',
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_TOKEN, "Accept-Language": "zh-CN"},
    )  # `api` set the CSRF cookie
    assert response.status_code == 400
    assert response.json() == {"error": "系统提示词必须是文本。"}
