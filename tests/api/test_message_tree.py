"""Conversations as trees through the JSON API: continuing a branch, editing and resending,
regenerating, choosing the branch shown, listing every branch, and the history a reply is
asked to continue (DESIGN.md, "Conversations are trees")."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from chat.providers import provider_label
from chat.replies import store
from tests.support.clients import JsonApi
from tests.support.rows import add_message, finished_exchange

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def shown(api: JsonApi, conv: Conversation) -> list[int]:
    return [m["id"] for m in api.get(f"/api/conversations/{conv.pk}").json()["messages"]]


def send(api: JsonApi, conv: Conversation, **body: object) -> dict[str, dict[str, object]]:
    response = api.post(f"/api/conversations/{conv.pk}/messages", {"content": "Again", **body})
    assert response.status_code == 202, response.json()
    result: dict[str, dict[str, object]] = response.json()
    # The generation runs in the view's event loop, which the test client does not keep:
    # finish the reply as if it had completed, so the conversation is free again.
    Message.objects.filter(pk=result["reply"]["id"]).update(status="complete", content="Ok")
    return result


def test_a_message_without_parent_continues_the_current_branch(
    api: JsonApi, conversation: Conversation
) -> None:
    _q, reply = finished_exchange(conversation)

    sent = send(api, conversation)

    assert sent["message"]["parent"] == reply.pk
    assert sent["message"]["siblings"] == [sent["message"]["id"]]
    assert sent["reply"]["parent"] == sent["message"]["id"]
    conversation.refresh_from_db()
    assert conversation.current_id == sent["reply"]["id"]


def test_editing_a_question_makes_a_sibling_whose_branch_becomes_current(
    api: JsonApi, conversation: Conversation
) -> None:
    q1, r1 = finished_exchange(conversation, "one")
    q2, r2 = finished_exchange(conversation, "two")

    sent = send(api, conversation, parent=r1.pk)

    edited = sent["message"]
    assert edited["parent"] == r1.pk
    assert edited["siblings"] == [q2.pk, edited["id"]]
    assert shown(api, conversation) == [q1.pk, r1.pk, edited["id"], sent["reply"]["id"]]
    # Nothing is lost: the old branch is still there, one switch away.
    assert Message.objects.filter(pk__in=[q2.pk, r2.pk]).count() == 2


def test_editing_the_first_question_makes_a_second_root(
    api: JsonApi, conversation: Conversation
) -> None:
    q1, _r1 = finished_exchange(conversation)

    sent = send(api, conversation, parent=None)

    assert sent["message"]["parent"] is None
    assert sent["message"]["siblings"] == [q1.pk, sent["message"]["id"]]
    assert shown(api, conversation) == [sent["message"]["id"], sent["reply"]["id"]]


@pytest.mark.parametrize("bad", ["1", True, 1.5, [1], "question", "elsewhere"])
def test_a_parent_that_is_not_a_reply_of_this_conversation_is_refused(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation, bad: object
) -> None:
    question, _reply = finished_exchange(conversation)
    _theirs_q, theirs = finished_exchange(other_conversation)
    parent = {"question": question.pk, "elsewhere": theirs.pk}.get(str(bad), bad)

    response = api.post(
        f"/api/conversations/{conversation.pk}/messages", {"content": "Hi", "parent": parent}
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "“parent” must be the id of a reply in this conversation, or null."
    }
    assert Message.objects.count() == 4


def test_choosing_a_message_shows_its_branch_down_to_its_newest_leaf(
    api: JsonApi, conversation: Conversation
) -> None:
    q1, r1 = finished_exchange(conversation, "one")
    q2, r2 = finished_exchange(conversation, "two")
    old_leaf = add_message(conversation, role="user", content="Three")
    edited = add_message(conversation, role="user", content="Two, edited", parent=r1)
    r2b = add_message(conversation, role="assistant", content="Ok", parent=edited)

    response = api.patch(f"/api/conversations/{conversation.pk}", {"current": q2.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["current"] == old_leaf.pk
    assert [m["id"] for m in body["messages"]] == [q1.pk, r1.pk, q2.pk, r2.pk, old_leaf.pk]
    assert body["messages"][2]["siblings"] == [q2.pk, edited.pk]
    response = api.patch(f"/api/conversations/{conversation.pk}", {"current": edited.pk})
    assert response.json()["current"] == r2b.pk
    conversation.refresh_from_db()
    assert conversation.current_id == r2b.pk


@pytest.mark.parametrize("bad", [None, "1", True, 10**12, "theirs"])
def test_choosing_a_message_of_another_conversation_is_refused(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation, bad: object
) -> None:
    _q, reply = finished_exchange(conversation)
    _tq, theirs = finished_exchange(other_conversation)
    value = theirs.pk if bad == "theirs" else bad

    response = api.patch(f"/api/conversations/{conversation.pk}", {"current": value})

    assert response.status_code == 400
    assert response.json() == {
        "error": "“current” must be the id of a message in this conversation."
    }
    conversation.refresh_from_db()
    assert conversation.current_id == reply.pk


def test_every_branch_is_listed_oldest_first(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation
) -> None:
    question, first = finished_exchange(conversation)
    second = add_message(conversation, role="assistant", content="Again", parent=question)

    response = api.get(f"/api/conversations/{conversation.pk}/messages")

    assert response.status_code == 200
    listed = response.json()["messages"]
    assert [(m["id"], m["parent"]) for m in listed] == [
        (question.pk, None),
        (first.pk, question.pk),
        (second.pk, question.pk),
    ]
    assert listed[1]["siblings"] == listed[2]["siblings"] == [first.pk, second.pk]
    assert api.get(f"/api/conversations/{other_conversation.pk}/messages").status_code == 404


def test_a_reply_is_asked_to_continue_its_own_branch_only(conversation: Conversation) -> None:
    _q1, r1 = finished_exchange(conversation, "one")
    finished_exchange(conversation, "two")  # another branch from here on
    edited = add_message(conversation, role="user", content="Two, edited", parent=r1)
    failed = add_message(conversation, role="assistant", status="error", error="No.")
    retry = store.new_reply(conversation, "", edited.pk, provider_label(conversation.model))

    request, fitted = store.history_request(Message.objects.get(pk=retry.pk), 100, 100_000)

    assert [(t.role, t.content) for t in request.messages] == [
        ("user", "Hi"),
        ("assistant", "one"),
        ("user", "Two, edited"),
    ]
    assert failed.parent_id == edited.pk
    assert fitted.context_from is None


def test_deleting_a_long_conversation_deletes_its_whole_tree(
    api: JsonApi, conversation: Conversation
) -> None:
    for n in range(400):
        finished_exchange(conversation, f"reply {n}")

    assert api.delete(f"/api/conversations/{conversation.pk}").status_code == 204
    assert not Message.objects.exists()
