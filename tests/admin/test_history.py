"""Conversations in the admin: a transcript with each message's metadata, filters, search,
the model from the known models, the JSON download, and links from a user."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from chat.export import FORMAT
from chat.models import Conversation, Message, ModerationFlag, UserLimits
from chat.render import render_markdown
from tests.support.rows import add_message, finished_exchange

pytestmark = pytest.mark.django_db

REPLY = "## Plan\n\n```python\nprint('hi')\n```\n\n<script>alert(1)</script>"


@pytest.fixture
def long_conversation(conversation: Conversation) -> Conversation:
    for i in range(3):
        _question, reply = finished_exchange(conversation, f"Answer {i}")
    Message.objects.filter(pk=reply.pk).update(
        content=REPLY,
        html=render_markdown(REPLY),
        input_tokens=12,
        output_tokens=34,
        first_token_ms=210,
        duration_ms=1500,
        finish_reason="stop",
    )
    add_message(
        conversation,
        role="assistant",
        status="error",
        error="Upstream answered HTTP 500.",
        error_kind="error",
        model="demo",
    )
    return conversation


def change_page(client: Client, conv: Conversation) -> str:
    r = client.get(f"/admin/chat/conversation/{conv.pk}/change/")
    assert r.status_code == 200
    return r.content.decode()


def test_a_conversation_reads_as_a_transcript_with_a_table_per_message(
    admin_client: Client, long_conversation: Conversation
) -> None:
    html = change_page(admin_client, long_conversation)
    transcript = html[html.index('class="chat-transcript"') :]
    assert transcript.count('class="transcript-message') == 7
    assert transcript.count('class="transcript-meta"') == 7
    assert '<h2 id="plan">Plan</h2>' in transcript or "<h2>Plan</h2>" in transcript
    assert 'class="codehilite"' in transcript
    assert "<script>alert(1)</script>" not in html  # the stored, sanitized HTML
    assert "12 / 34" in transcript and "210 ms" in transcript and "1500 ms" in transcript
    assert "Upstream answered HTTP 500. [error]" in transcript
    # No form fields per message: the page no longer holds 13 inputs for each.
    assert "messages-0-" not in html
    assert not re.search(r'name="messages-', html)


def test_branches_show_each_version_and_which_is_current(
    admin_client: Client, conversation: Conversation
) -> None:
    question, first = finished_exchange(conversation, "First try")
    follow_up = add_message(conversation, role="user", content="And then?")
    retry = add_message(conversation, parent=question, role="assistant", content="Second try")
    html = change_page(admin_client, conversation)
    order = re.findall(r'data-message-id="(\d+)"', html)
    assert order == [str(m.pk) for m in (question, first, follow_up, retry)]

    def article(m: Message) -> str:
        found = re.search(rf'<article class="([^"]*)" id="message-{m.pk}".*?</header>', html, re.S)
        assert found
        return found.group(0)

    assert "version 1 of 2" in article(first) and "is-off-branch" in article(first)
    assert "not on the current branch" in article(follow_up)
    assert "version 2 of 2" in article(retry) and "depth-1" in article(retry)
    assert "is-off-branch" not in article(retry) and "is-off-branch" not in article(question)
    assert f'href="#message-{question.pk}"' in article(retry)  # a fork says whose reply it is


def test_a_moderated_reply_shows_the_reason_and_the_withheld_text(
    admin_client: Client, conversation: Conversation, user: User
) -> None:
    _q, reply = finished_exchange(conversation, "")
    ModerationFlag.objects.create(
        user=user,
        conversation=conversation,
        message=reply,
        kind="reply",
        text="the withheld <b>words</b>",
        reason="word “x”",
    )
    html = change_page(admin_client, conversation)
    assert "Stopped by moderation:" in html and "word “x”" in html
    assert "the withheld &lt;b&gt;words&lt;/b&gt;" in html


def test_conversations_are_filtered_by_owner_model_status_and_date(
    admin_client: Client, user: User, other_user: User
) -> None:
    mine = Conversation.objects.create(owner=user, title="Alice's", model="demo")
    theirs = Conversation.objects.create(owner=other_user, title="Bob's", model="other-model")
    finished_exchange(mine)
    Message.objects.create(conversation=theirs, role="assistant", status="error", error="x")
    base = "/admin/chat/conversation/"

    def titles(query: str) -> set[str]:
        html = admin_client.get(base + query).content.decode()
        return {t for t in ("Alice's", "Bob's") if t.replace("'", "&#x27;") in html}

    assert titles("") == {"Alice's", "Bob's"}
    assert titles(f"?owner__id__exact={user.pk}") == {"Alice's"}
    assert titles("?model=other-model") == {"Bob's"}
    assert titles("?messages__status=error") == {"Bob's"}

    year = timezone.now().year
    assert titles(f"?updated_at__year={year}") == {"Alice's", "Bob's"}
    assert titles("?updated_at__year=2000") == set()
    owner_filter = admin_client.get(base).content.decode()
    assert "By owner" in owner_filter


def test_message_text_is_searched(admin_client: Client, conversation: Conversation) -> None:
    finished_exchange(conversation, "The quick brown fox")
    other = Conversation.objects.create(owner=conversation.owner, title="Other", model="demo")
    finished_exchange(other, "Nothing here")
    html = admin_client.get("/admin/chat/conversation/?q=brown+fox").content.decode()
    assert "First chat" in html and ">Other<" not in html
    assert "1 result" in html


def test_the_model_is_chosen_from_the_known_models(
    admin_client: Client, conversation: Conversation
) -> None:
    html = change_page(admin_client, conversation)
    assert '<select name="model"' in html
    assert '<option value="demo" selected>' in html
    url = f"/admin/chat/conversation/{conversation.pk}/change/"
    r = admin_client.post(url, {"title": "T", "model": "made-up", "system_prompt": ""})
    assert "Select a valid choice" in r.content.decode()
    r = admin_client.post(url, {"title": "T", "model": "openai:oa-plain", "system_prompt": ""})
    assert r.status_code == 302
    conversation.refresh_from_db()
    assert conversation.model == "openai:oa-plain"


def test_a_model_no_longer_served_is_kept_and_marked(
    admin_client: Client, conversation: Conversation
) -> None:
    conversation.model = "retired-model"
    conversation.save()
    assert "retired-model (unavailable)" in change_page(admin_client, conversation)


def test_selected_conversations_download_as_json(
    admin_client: Client, long_conversation: Conversation, other_conversation: Conversation
) -> None:
    r = admin_client.post(
        "/admin/chat/conversation/",
        {
            "action": "download_json",
            "_selected_action": [long_conversation.pk, other_conversation.pk],
        },
    )
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json; charset=utf-8"
    assert r["Content-Disposition"].startswith('attachment; filename="conversations-')
    data = json.loads(r.content)
    assert [c["id"] for c in data] == sorted([long_conversation.pk, other_conversation.pk])
    first = data[0] if data[0]["id"] == long_conversation.pk else data[1]
    assert (first["format"], first["version"], first["title"]) == (FORMAT, 1, "First chat")
    assert len(first["messages"]) == 7
    message = first["messages"][5]
    assert (message["role"], message["content"], message["usage"]) == (
        "assistant",
        REPLY,
        {"input_tokens": 12, "output_tokens": 34},
    )
    assert "parent" in message


def test_a_user_links_to_their_conversations_usage_and_limits(
    admin_client: Client, user: User
) -> None:
    html = admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert f'href="/admin/chat/conversation/?owner__id__exact={user.pk}"' in html
    assert f'href="/admin/chat/usagerecord/report/?user={user.pk}"' in html
    assert f'href="/admin/chat/userlimits/add/?user={user.pk}"' in html
    limits = UserLimits.objects.create(user=user, daily_tokens=5)
    html = admin_client.get("/admin/auth/user/").content.decode()
    assert f'href="/admin/chat/userlimits/{limits.pk}/change/"' in html


def test_the_admin_is_for_staff_only(auth_client: Client, conversation: Conversation) -> None:
    r = auth_client.get(f"/admin/chat/conversation/{conversation.pk}/change/")
    assert r.status_code == 302


def test_the_limits_link_opens_the_form_for_that_user(admin_client: Client, user: User) -> None:
    html = admin_client.get(f"/admin/chat/userlimits/add/?user={user.pk}").content.decode()
    assert re.search(rf'<option value="{user.pk}" selected>alice</option>', html)
    assert 'name="daily_tokens"' in html
