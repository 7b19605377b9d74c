"""The HTML pages through Django's test client: access, sign-up, rendering and language."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from chat.models import Conversation
from chat.render import render_markdown, render_plain
from tests.support.clients import PASSWORD
from tests.support.rows import add_message


def _strings(html: str) -> dict[str, str]:
    match = re.search(r'<script id="chat-strings" type="application/json">(.*?)</script>', html)
    assert match, "no chat-strings block"
    return json.loads(match.group(1))


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_is_redirected_to_login_from_home(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_anonymous_is_redirected_to_login_from_a_conversation(
    client: Client, conversation: Conversation
) -> None:
    response = client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_another_users_conversation_page_is_404(
    other_user: User, conversation: Conversation
) -> None:
    response = _logged_in(other_user).get(f"/c/{conversation.pk}/")
    assert response.status_code == 404


def test_home_page_shows_the_chat_with_sidebar_models_and_composer(
    auth_client: Client, conversation: Conversation
) -> None:
    response = auth_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "First chat" in html
    assert f'href="/c/{conversation.pk}/"' in html
    assert '<optgroup label="Demo">' in html
    assert '<option value="demo" selected>Demo (offline)</option>' in html
    assert 'id="composer-input"' in html
    assert 'data-conversation-id=""' in html
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html
    assert "/accounts/password_change/" in html
    assert _strings(html)["copy"] == "Copy"


@pytest.mark.django_db(transaction=True)  # the list's API view is async
def test_sidebar_shows_the_first_page_and_a_load_more_cursor(
    auth_client: Client, user: User
) -> None:
    for i in range(32):
        Conversation.objects.create(owner=user, title=f"Chat {i}", model="demo")
    html = auth_client.get("/").content.decode()
    assert len(re.findall(r'<li class="conversation-item" data-conversation-id="\d+"', html)) == 30
    assert "Chat 31" in html and "Chat 1<" not in html
    match = re.search(r'id="load-more" data-next="([^"]*)"', html)
    assert match and match.group(1)
    page = auth_client.get("/api/conversations", {"cursor": match.group(1)}).json()
    assert [c["title"] for c in page["conversations"]] == ["Chat 1", "Chat 0"]


def test_conversation_page_shows_stored_html_and_escapes_user_text(
    auth_client: Client, conversation: Conversation
) -> None:
    hostile = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'
    add_message(conversation=conversation, role="user", content=hostile, html=render_plain(hostile))
    reply_text = "## Title\n\n```python\nprint('hi')\n```\n"
    add_message(
        conversation=conversation,
        role="assistant",
        content=reply_text,
        html=render_markdown(reply_text),
        reasoning="Let me think.",
        model="demo",
    )
    html = auth_client.get(f"/c/{conversation.pk}/").content.decode()
    assert "<h2>Title</h2>" in html
    assert '<div class="codehilite"><pre>' in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;script&gt;" in html
    assert "<script>alert(2)" not in html
    assert "<img src=x" not in html
    assert '<details class="thinking">' in html and "Let me think." in html


def test_a_reply_still_streaming_shows_its_partial_text_and_stream_url(
    auth_client: Client, conversation: Conversation
) -> None:
    reply = add_message(
        conversation=conversation, role="assistant", content="Half <b>way", status="streaming"
    )
    html = auth_client.get(f"/c/{conversation.pk}/").content.decode()
    assert f'data-stream-url="/api/replies/{reply.pk}/events"' in html
    assert 'data-status="streaming"' in html
    assert "Half &lt;b&gt;way" in html


def test_a_failed_last_reply_shows_its_error_and_retry(
    auth_client: Client, conversation: Conversation
) -> None:
    add_message(conversation=conversation, role="user", content="Hi", html="Hi")
    add_message(
        conversation=conversation, role="assistant", status="error", error="Upstream said no."
    )
    html = auth_client.get(f"/c/{conversation.pk}/").content.decode()
    assert '<p class="message-error" role="alert">Upstream said no.</p>' in html
    assert '<button type="button" class="retry-button">Retry</button>' in html


@pytest.mark.parametrize(
    ("status", "kind", "offered"),
    [
        ("error", "timeout", True),
        ("error", "rate_limit", True),
        ("error", "", True),  # from before kinds were kept
        ("error", "auth", False),
        ("error", "quota", False),
        ("error", "rejected", False),
        ("stopped", "", True),
        ("interrupted", "", True),
        ("complete", "", True),
    ],
)
def test_retry_is_offered_only_where_retrying_can_help_and_regenerate_on_complete_replies(
    auth_client: Client, conversation: Conversation, status: str, kind: str, offered: bool
) -> None:
    add_message(conversation=conversation, role="user", content="Hi", html="Hi")
    add_message(
        conversation=conversation, role="assistant", status=status, error_kind=kind, error="x"
    )
    html = auth_client.get(f"/c/{conversation.pk}/").content.decode()
    label = "Regenerate" if status == "complete" else "Retry"
    assert (f'<button type="button" class="retry-button">{label}</button>' in html) is offered
    assert f'data-retryable="{str(offered and status != "complete").lower()}"' in html


def test_a_conversation_on_a_retired_model_says_so(auth_client: Client, user: User) -> None:
    conv = Conversation.objects.create(owner=user, model="gone:model")
    html = auth_client.get(f"/c/{conv.pk}/").content.decode()
    assert "gone:model (unavailable)" in html
    assert "Untitled" in html


def test_chinese_browser_gets_chinese_pages(
    auth_client: Client, conversation: Conversation
) -> None:
    response = auth_client.get(f"/c/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = response.content.decode()
    assert '<html lang="zh-hans" data-theme="system">' in html
    assert "新对话" in html and "发送" in html and "演示（离线）" in html
    assert _strings(html)["copy"] == "复制"
    login = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "<h1>登录</h1>" in login.content.decode()


@pytest.mark.parametrize(
    ("language", "explanation"),
    [
        ("en", "The server writing this reply stopped before it was finished"),
        ("zh-CN", "写这条回复的服务器在完成前停止了"),
    ],
)
def test_an_interrupted_reply_is_explained_in_the_readers_language(
    auth_client: Client, conversation: Conversation, language: str, explanation: str
) -> None:
    from chat.replies.outcome import SERVER_STOPPED

    add_message(conversation=conversation, role="user", content="Hi", html="Hi")
    add_message(
        conversation=conversation,
        role="assistant",
        status="interrupted",
        content="Half",
        error=SERVER_STOPPED,
        error_kind="server_stopped",
    )

    html = auth_client.get(f"/c/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # After a reload, as the live page shows it on `end` (from the same strings).
    error = re.search(r'<p class="message-error" role="alert">([^<]*)</p>', html)
    assert error and error.group(1).startswith(explanation)
    assert _strings(html)["explanations"]["server_stopped"].startswith(explanation)


@pytest.mark.django_db
def test_login_page_logs_the_user_in(client: Client, user: User) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    assert "/accounts/signup/" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_sign_up_creates_the_user_and_logs_in(client: Client) -> None:
    assert client.get("/accounts/signup/").status_code == 200
    response = client.post(
        "/accounts/signup/",
        {
            "username": "erin",
            "password1": "a-long-unusual-pass-93",
            "password2": "a-long-unusual-pass-93",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.filter(username="erin").exists()
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_sign_up_shows_errors_for_mismatched_passwords(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "erin", "password1": "a-long-unusual-pass-93", "password2": "different-93"},
    )
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not User.objects.filter(username="erin").exists()


@pytest.mark.django_db
def test_sign_up_is_404_when_disabled(client: Client, settings: Settings) -> None:
    settings.CHAT_ALLOW_SIGNUP = False
    assert client.get("/accounts/signup/").status_code == 404
    assert client.post("/accounts/signup/", {"username": "x"}).status_code == 404
    assert "/accounts/signup/" not in client.get("/accounts/login/").content.decode()


def test_password_change_page_changes_the_password(user: User) -> None:
    client = _logged_in(user)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200
    assert 'name="old_password"' in page.content.decode()
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-pass-58",
            "new_password2": "another-long-pass-58",
        },
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    user.refresh_from_db()
    assert user.check_password("another-long-pass-58")


def test_logout_is_a_post_that_returns_to_login(user: User) -> None:
    client = _logged_in(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302
