"""The JSON API's models and conversation list: creating, listing, paginating (DESIGN.md,
"HTTP contract"), refusals included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from chat.models import Conversation
from tests.support.clients import JsonApi

# The list and creation views are async: they reach the database from worker threads, so
# rows must be committed.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]

# What error messages call the fields.
FIELD = {"title": "The title", "system_prompt": "The system prompt"}


# --- models ----------------------------------------------------------------------------------


def test_models_lists_the_demo_first_and_every_configured_model(api: JsonApi) -> None:
    response = api.get("/api/models")

    assert response.status_code == 200
    body = response.json()
    assert body["default"] == "demo"
    assert body["models"][0] == {"id": "demo", "label": "Demo (offline)", "provider": "Demo"}
    assert {"id": "openai:oa-plain", "label": "oa-plain", "provider": "OpenAI"} in body["models"]


def test_models_refuses_anonymous_users(anonymous_api: JsonApi) -> None:
    response = anonymous_api.get("/api/models")

    assert response.status_code == 401
    assert response.json() == {"error": "Log in first."}


def test_models_refuses_post(api: JsonApi) -> None:
    response = api.post("/api/models", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"error": "Method not allowed."}


# --- creating ----------------------------------------------------------------------------------


def test_creating_a_conversation_with_no_fields_uses_the_default_model(
    api: JsonApi, user: User
) -> None:
    response = api.post("/api/conversations", raw="")

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["model"], body["system_prompt"]) == ("", "demo", "")
    assert Conversation.objects.get(pk=body["id"]).owner == user


def test_creating_a_conversation_keeps_its_fields(api: JsonApi) -> None:
    response = api.post(
        "/api/conversations",
        {"model": "openai:oa-plain", "title": "  Plans  ", "system_prompt": "Be brief."},
    )

    assert response.status_code == 201
    conv = Conversation.objects.get(pk=response.json()["id"])
    assert (conv.title, conv.model, conv.system_prompt) == ("Plans", "openai:oa-plain", "Be brief.")


def test_creating_a_conversation_with_an_unknown_model_stores_nothing(api: JsonApi) -> None:
    response = api.post("/api/conversations", {"model": "openai:no-such-model"})

    assert response.status_code == 400
    assert response.json() == {"error": "Unknown model “openai:no-such-model”."}
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("{not json", "The request body is not valid JSON."),
        ("\xff", "The request body is not valid JSON."),
        ('["model", "demo"]', "The request body must be a JSON object."),
        ('"demo"', "The request body must be a JSON object."),
        ("null", "The request body must be a JSON object."),
        ('{"title": 5}', "The title must be text."),
        ('{"model": ""}', "The model must not be empty."),
        ('{"title": "' + "t" * 201 + '"}', None),
    ],
    ids=repr,
)
def test_creating_a_conversation_from_a_bad_body_is_refused(
    api: JsonApi, raw: str, error: str | None
) -> None:
    response = api.post("/api/conversations", raw=raw)

    assert response.status_code == 400
    assert response.json()["error"] == (
        error or "The title is too long: 201 characters, the limit is 200."
    )
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("field", ["title", "system_prompt"])
def test_a_null_character_is_refused_in_any_text_field(api: JsonApi, field: str) -> None:
    response = api.post("/api/conversations", {field: "a\u0000b"})

    assert response.status_code == 400
    assert response.json() == {"error": f"{FIELD[field]} must not contain null characters."}
    assert not Conversation.objects.exists()


def test_a_system_prompt_over_its_limit_is_refused(api: JsonApi, settings: object) -> None:
    settings.CHAT_MAX_SYSTEM_PROMPT_CHARS = 10  # type: ignore[attr-defined]

    response = api.post("/api/conversations", {"system_prompt": "x" * 11})

    assert response.status_code == 400
    assert not Conversation.objects.exists()


def test_creating_without_a_csrf_token_is_refused_with_json(api: JsonApi) -> None:
    response = api.post("/api/conversations", {"title": "x"}, csrf=False)

    assert response.status_code == 403
    assert response.json() == {"error": "CSRF check failed; reload the page and try again."}
    assert not Conversation.objects.exists()


def test_anonymous_users_cannot_create_conversations(anonymous_api: JsonApi) -> None:
    response = anonymous_api.post("/api/conversations", {"title": "x"})

    assert response.status_code == 401
    assert not Conversation.objects.exists()


def test_anonymous_post_without_csrf_is_refused_before_anything_else(
    anonymous_api: JsonApi,
) -> None:
    response = anonymous_api.post("/api/conversations", {"title": "x"}, csrf=False)

    assert response.status_code == 403
    assert "error" in response.json()


# --- listing -----------------------------------------------------------------------------------


def test_listing_shows_only_my_conversations_newest_first(
    api: JsonApi, user: User, other_conversation: Conversation
) -> None:
    old = Conversation.objects.create(owner=user, title="old", model="demo")
    new = Conversation.objects.create(owner=user, title="new", model="demo")
    Conversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=1))

    response = api.get("/api/conversations")

    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["conversations"]] == [new.pk, old.pk]
    assert body["next"] is None
    assert set(body["conversations"][0]) == {
        "id",
        "title",
        "title_source",
        "model",
        "system_prompt",
        "created_at",
        "updated_at",
        "current",
    }


def test_listing_pages_through_every_conversation_once_newest_first(
    api: JsonApi, user: User
) -> None:
    now = timezone.now()
    stamps = {}
    for i in range(75):
        conv = Conversation.objects.create(owner=user, model="demo")
        # Groups of three share a timestamp: the id breaks ties.
        stamps[conv.pk] = now - timedelta(minutes=100 - i // 3)
        Conversation.objects.filter(pk=conv.pk).update(updated_at=stamps[conv.pk])
    expected = sorted(stamps, key=lambda pk: (stamps[pk], pk), reverse=True)

    seen: list[int] = []
    pages = 0
    url = "/api/conversations"
    while True:
        body = api.get(url).json()
        pages += 1
        seen += [c["id"] for c in body["conversations"]]
        if body["next"] is None:
            break
        url = f"/api/conversations?cursor={body['next']}"

    assert pages == 3
    assert seen == expected
    assert len(set(seen)) == 75


def test_a_conversation_that_moves_up_does_not_repeat_on_the_next_page(
    api: JsonApi, user: User
) -> None:
    now = timezone.now()
    convs = [Conversation.objects.create(owner=user, model="demo") for _ in range(40)]
    for i, conv in enumerate(convs):
        Conversation.objects.filter(pk=conv.pk).update(updated_at=now - timedelta(hours=40 - i))
    first = api.get("/api/conversations").json()
    shown = [c["id"] for c in first["conversations"]]
    Conversation.objects.filter(pk=shown[-1]).update(updated_at=now)

    second = api.get(f"/api/conversations?cursor={first['next']}").json()

    rest = [c["id"] for c in second["conversations"]]
    assert not set(rest) & set(shown)
    assert rest == [c.pk for c in reversed(convs[:10])]


@pytest.mark.parametrize("cursor", ["garbage", "bm9waXBl", "MjAyNC0wMS0wMXx4"])
def test_listing_with_a_bad_cursor_is_refused(api: JsonApi, cursor: str) -> None:
    response = api.get(f"/api/conversations?cursor={cursor}")

    assert response.status_code == 400
    assert response.json() == {"error": "The cursor is not valid."}


def test_listing_refuses_anonymous_users(anonymous_api: JsonApi) -> None:
    response = anonymous_api.get("/api/conversations")

    assert response.status_code == 401
    assert response.json() == {"error": "Log in first."}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_the_conversation_list_refuses_other_methods(api: JsonApi, method: str) -> None:
    response = api.call(method, "/api/conversations", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
