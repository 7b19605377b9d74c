"""Titles written by a model after a conversation's first exchange (chat/replies/titles.py):
off the reply's path, by the configured model, never over the user's own title, and failures
logged and ignored."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from chat.providers.base import ChatRequest, Turn
from chat.providers.demo import compose_title
from chat.replies.titles import clean_title, save_title, title_job
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.upstream import FakeUpstream
from tests.support.waiting import wait_finished, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def titled(conversation_id: object) -> Conversation:
    wait_for(
        lambda: Conversation.objects.get(pk=conversation_id).title_source == "model",
        20,
        "the written title",
    )
    return Conversation.objects.get(pk=conversation_id)


def test_the_demo_names_a_conversation_after_its_first_exchange(titling_site: SiteClient) -> None:
    site = titling_site
    reply, url = site.ask("demo", "Plans for the weekend, please?")
    conv_id = site.conversation_of(reply["id"])
    assert Conversation.objects.get(pk=conv_id).title == "Plans for the weekend, please?"
    site.stream_text(url)

    conv = titled(conv_id)
    assert conv.title == "Demo: Plans for the weekend"
    answer = site.http.get(f"/api/conversations/{conv_id}").json()
    assert (answer["title"], answer["title_source"]) == ("Demo: Plans for the weekend", "model")


def test_only_the_first_exchange_is_named(titling_site: SiteClient) -> None:
    site = titling_site
    reply, url = site.ask("demo", "First words here")
    conv_id = site.conversation_of(reply["id"])
    site.stream_text(url)
    titled(conv_id)
    Conversation.objects.filter(pk=conv_id).update(title="Kept", title_source="first_message")
    second = site.send(conv_id, "Another message")
    wait_finished(second["reply"]["id"])
    assert title_job(int(str(conv_id)), second["reply"]["id"]) is None


def test_the_title_model_is_configurable_and_never_delays_the_reply(
    start_site: Callable[..., Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    site = start_site(CHAT_TITLE_MODEL="openai:oa-title")
    client = SiteClient(site.url, login_session(live_user))
    reply, url = client.ask("demo", "What shall we do on Saturday?")
    _text, events = client.stream_text(url)
    end_at = time.monotonic()
    assert events[-1].event == "end"

    conv = titled(client.conversation_of(reply["id"]))
    assert conv.title == "Weekend plans"
    asked = fake_upstream.requests_for("oa-title")[-1]
    # The reply's end reached the client before the (slow) title model had answered.
    assert asked.finished_writing is not None and end_at < asked.finished_writing
    sent = asked.json
    assert isinstance(sent, dict)
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "at most six words" in sent["messages"][0]["content"]
    assert sent["messages"][1]["content"] == "What shall we do on Saturday?"
    assert "Demo reply" in sent["messages"][2]["content"]  # the reply's text, too
    client.close()


def test_a_failed_title_request_is_logged_and_ignored(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    site = start_site(CHAT_TITLE_MODEL="openai:oa-500")
    client = SiteClient(site.url, login_session(live_user))
    reply, url = client.ask("demo", "Hello there")
    client.stream_text(url)
    wait_for(lambda: "no title written" in site.logs(), 20, "the logged failure")

    conv = Conversation.objects.get(pk=client.conversation_of(reply["id"]))
    assert (conv.title, conv.title_source) == ("Hello there", "first_message")
    assert Message.objects.get(pk=reply["id"]).status == "complete"
    client.close()


def test_a_title_the_user_set_is_never_replaced(titling_site: SiteClient) -> None:
    site = titling_site
    reply, url = site.ask("demo", "Rename me while you answer")
    conv_id = site.conversation_of(reply["id"])
    renamed = site.http.patch(f"/api/conversations/{conv_id}", json={"title": "My own name"})
    assert renamed.json()["title_source"] == "user"
    site.stream_text(url)

    conv = Conversation.objects.get(pk=conv_id)
    assert (conv.title, conv.title_source) == ("My own name", "user")
    assert title_job(conv.pk, reply["id"]) is None  # nothing to ask
    assert save_title(conv.pk, "Written") is False  # and a late answer is not saved
    assert Conversation.objects.get(pk=conv_id).title == "My own name"


def test_clearing_the_title_hands_the_naming_back(titling_site: SiteClient) -> None:
    site = titling_site
    conv = site.new_conversation(title="Mine")
    assert Conversation.objects.get(pk=conv["id"]).title_source == "user"
    answer = site.http.patch(f"/api/conversations/{conv['id']}", json={"title": ""})
    assert answer.json()["title_source"] == "first_message"


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ('## Title: "**Weekend plans.**"\nSecond line', "Weekend plans"),
        ("「周末计划」。", "周末计划"),
        ("标题：旅行清单", "旅行清单"),
        ("\n\n  `Code review`  \n", "Code review"),
        ("word " * 40, ("word " * 16).strip()),
        ("", ""),
    ],
)
def test_a_models_answer_is_cleaned_into_a_title(answer: str, title: str) -> None:
    assert clean_title(answer) == title


def test_the_demo_title_is_fixed_by_the_first_message() -> None:
    request = ChatRequest("demo", [Turn("user", "## Hello, *world*: what's new?")], purpose="title")
    assert compose_title(request) == "Demo: Hello world what s"
    assert compose_title(ChatRequest("demo", [Turn("user", "你好 世界")])) == "Demo: 你好 世界"
