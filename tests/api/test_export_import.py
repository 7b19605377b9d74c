"""Export (one conversation as Markdown or JSON, all as JSON) and import (this site's JSON,
ChatGPT's conversations.json), and every refusal: a bad file imports nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from tests.support.chatgpt import branching_conversation, conversation, node
from tests.support.clients import CSRF_TOKEN, JsonApi
from tests.support.rows import add_message, finished_exchange

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def upload(api: JsonApi, data: bytes | str, name: str = "conversations.json") -> Any:
    body = data.encode() if isinstance(data, str) else data
    file = io.BytesIO(body)
    file.name = name
    return api.client.post("/api/import", {"file": file}, headers={"X-CSRFToken": CSRF_TOKEN})


def branched(conv: Conversation) -> tuple[Message, Message, Message]:
    question, first = finished_exchange(conv, "First **answer**")
    second = add_message(conv, role="assistant", content="Second answer", parent=question)
    Conversation.objects.filter(pk=conv.pk).update(system_prompt="Be kind.")
    return question, first, second


def test_one_conversation_exports_as_json_with_every_branch(
    api: JsonApi, conversation: Conversation
) -> None:
    question, first, second = branched(conversation)

    response = api.get(f"/api/conversations/{conversation.pk}/export?format=json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="first-chat-{conversation.pk}.json"'
    )
    body = json.loads(response.content)
    assert (body["format"], body["version"]) == ("chat-site-conversation", 1)
    assert (body["title"], body["system_prompt"], body["current"]) == (
        "First chat",
        "Be kind.",
        second.pk,
    )
    assert [(m["id"], m["parent"], m["role"]) for m in body["messages"]] == [
        (question.pk, None, "user"),
        (first.pk, question.pk, "assistant"),
        (second.pk, question.pk, "assistant"),
    ]


def test_one_conversation_exports_as_markdown_of_its_current_branch(
    api: JsonApi, conversation: Conversation
) -> None:
    branched(conversation)

    response = api.get(f"/api/conversations/{conversation.pk}/export?format=markdown")

    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# First chat\n")
    assert "**System prompt**\n\n> Be kind.\n" in text
    assert "## You\n\n> Hi\n\n## Assistant (demo)\n\nSecond answer\n" not in text  # no model
    assert "## You\n\n> Hi\n\n## Assistant\n\nSecond answer\n" in text
    assert "First **answer**" not in text


def test_exporting_all_gives_only_the_users_own(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation
) -> None:
    finished_exchange(other_conversation)
    branched(conversation)

    response = api.get("/api/export")

    assert response["Content-Disposition"] == 'attachment; filename="conversations.json"'
    assert [c["id"] for c in json.loads(response.content)] == [conversation.pk]


def test_an_export_imports_back_with_its_branches_and_current_branch(
    api: JsonApi, user: User, conversation: Conversation
) -> None:
    branched(conversation)
    exported = api.get("/api/export").content

    response = upload(api, exported)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["imported"] == 1
    new = Conversation.objects.get(pk=body["conversations"][0])
    assert (new.owner, new.title, new.system_prompt) == (user, "First chat", "Be kind.")
    shown = api.get(f"/api/conversations/{new.pk}").json()["messages"]
    assert [m["content"] for m in shown] == ["Hi", "Second answer"]
    assert shown[1]["siblings"][1] == shown[1]["id"] and len(shown[1]["siblings"]) == 2
    first = Message.objects.get(conversation=new, content="First **answer**")
    assert first.html == "<p>First <strong>answer</strong></p>"


def test_a_chatgpt_export_keeps_its_branches_and_its_current_path(api: JsonApi) -> None:
    data = json.dumps([branching_conversation()], ensure_ascii=False)

    response = upload(api, data)

    assert response.status_code == 201, response.json()
    conv = Conversation.objects.get(pk=response.json()["conversations"][0])
    assert conv.title == "Trip to Kyoto"
    assert conv.updated_at.timestamp() == 1_700_000_060
    shown = api.get(f"/api/conversations/{conv.pk}").json()["messages"]
    assert [(m["role"], m["content"]) for m in shown] == [
        ("user", "Plan 3 days in 京都"),
        ("assistant", "Day 1: temples"),
        ("assistant", "Updated: add Nara"),
    ]
    assert len(shown[1]["siblings"]) == 2  # the regenerated answer is a version
    everything = api.get(f"/api/conversations/{conv.pk}/messages").json()["messages"]
    # Written a level of the tree at a time, each level in ChatGPT's order of writing.
    assert [m["content"] for m in everything] == [
        "Plan 3 days in 京都",
        "Day 1: **Fushimi Inari**",
        "Day 1: temples",
        "Cheaper?",
        "Updated: add Nara",
    ]
    assert Message.objects.get(conversation=conv, content="Day 1: temples").model == "gpt-4o"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe not json", "it is not JSON."),
        ("[1, 2]", "it is not an export of this site or of ChatGPT."),
        ('{"title": "x"}', "it is not an export of this site or of ChatGPT."),
        (
            '{"messages": [{"id": 1, "parent": 2, "role": "user", "content": "a"},'
            ' {"id": 2, "parent": 1, "role": "assistant", "content": "b"}]}',
            "its messages' parents form a loop.",
        ),
        (
            '{"messages": [{"id": 1, "parent": 9, "role": "user", "content": "a"}]}',
            "a message's parent is not in the file.",
        ),
        (
            '{"messages": [{"id": 1, "role": "tool", "content": "a"}]}',
            "a message's role is neither user nor assistant.",
        ),
        ("[" * 100_000, "it is nested too deeply."),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_imports_nothing(
    api: JsonApi, data: bytes | str, reason: str
) -> None:
    response = upload(api, data)

    assert response.status_code == 400
    assert response.json() == {"error": f"This file cannot be imported: {reason}"}
    assert not Conversation.objects.exists()


def test_a_file_good_but_for_one_conversation_imports_none_of_them(api: JsonApi) -> None:
    good = branching_conversation()
    bad = conversation("Broken", [node("q", None, [], role="user", text="x")], current="q")
    bad["mapping"] = "not a tree"

    response = upload(api, json.dumps([good, bad]))

    assert response.status_code == 400
    assert response.json() == {
        "error": "This file cannot be imported: a ChatGPT conversation has no message tree."
    }
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_an_oversized_file_is_refused(api: JsonApi, settings: Any) -> None:
    settings.CHAT_IMPORT_MAX_BYTES = 2_000_000

    response = upload(api, " " * 2_000_001)

    assert response.status_code == 400
    assert response.json() == {"error": "This file cannot be imported: it is larger than 2 MB."}


def test_export_and_import_refusals(
    api: JsonApi,
    anonymous_api: JsonApi,
    other_conversation: Conversation,
    conversation: Conversation,
) -> None:
    assert api.get(f"/api/conversations/{other_conversation.pk}/export").status_code == 404
    bad_format = api.get(f"/api/conversations/{conversation.pk}/export?format=pdf")
    assert (bad_format.status_code, bad_format.json()) == (
        400,
        {"error": "The format must be markdown or json."},
    )
    assert anonymous_api.get("/api/export").status_code == 401
    assert api.get("/api/import").status_code == 405
    assert api.post("/api/import").json() == {"error": "Choose a file to import."}
    file = io.BytesIO(b"[]")
    file.name = "x.json"
    assert api.client.post("/api/import", {"file": file}).status_code == 403  # no CSRF token
