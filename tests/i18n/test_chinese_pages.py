"""The texts that were English inside Chinese pages: the upstream error sentences (stored in
English, shown in the reader's language, the upstream's own words kept), the interrupted
reply's explanation, the admin's heading of the app."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Conversation
from chat.providers import errors
from tests.support.clients import SiteClient
from tests.support.rows import add_message

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Could not connect to OpenAI: timed out.", "无法连接到 OpenAI：连接超时。"),
        ("Could not connect to Ollama: it is unreachable.", "无法连接到 Ollama：无法访问。"),
        (
            "OpenAI refused the credentials (HTTP 401): Incorrect API key provided",
            "OpenAI 拒绝了凭据 (HTTP 401): Incorrect API key provided",
        ),
        (
            "The Anthropic account's quota is exhausted; retrying will not help (HTTP 400).",
            "Anthropic 账户的额度已用完；重试也无济于事 (HTTP 400).",
        ),
        ("Spark reported an error (code 10013): blocked", "Spark 报告了错误 (code 10013): blocked"),
        (
            "The provider withheld this reply (content filter).",
            "服务商扣下了这条回复（内容过滤）。",
        ),
        ("Something the upstream said", "Something the upstream said"),
    ],
)
def test_upstream_errors_are_shown_in_the_readers_language(
    client: Client, user: User, stored: str, shown: str
) -> None:
    conv = Conversation.objects.create(owner=user, title="Errors", model="demo")
    add_message(conv, role="user", content="Hi")
    add_message(conv, role="assistant", status="error", error=stored, error_kind="timeout")
    client.force_login(user)
    html = client.get(f"/c/{conv.pk}/", **ZH).content.decode()
    assert f'<p class="message-error" role="alert">{shown}</p>' in html.replace("&#x27;", "'")
    english = client.get(f"/c/{conv.pk}/").content.decode()
    assert f'role="alert">{stored}</p>' in english.replace("&#x27;", "'")


def test_every_sentence_and_lead_has_a_translation(settings: object) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        for template in errors.SENTENCES + errors.LEADS:
            assert translation.gettext(template) != template, template


@pytest.mark.django_db(transaction=True)
def test_the_end_event_says_an_upstream_error_in_the_readers_language(
    site: SiteClient,
) -> None:
    site.http.headers["Accept-Language"] = "zh-CN"
    _reply, url = site.ask("openai:oa-401")
    _text, events = site.stream_text(url)
    end = events[-1]
    assert end.event == "end"
    assert str(end.data["error"]).startswith("OpenAI 拒绝了凭据 (HTTP 401)")


def test_the_admin_names_the_app_in_the_readers_language(admin_client: Client) -> None:
    html = admin_client.get("/admin/", **ZH).content.decode()
    assert ">聊天</a>" in html
    assert ">Chat</a>" not in html
