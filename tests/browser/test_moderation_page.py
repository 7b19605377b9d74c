"""Moderation as a user meets it in the page (Chromium): a refused message stays in the
composer with the reason it was not sent; a moderated reply ends saying so, its text gone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation, Message
from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def moderated_site(start_site: Callable[..., Daphne]) -> Daphne:
    return start_site(CHAT_MODERATION="words", CHAT_MODERATION_WORDS="forbidden,暴力")


def test_a_refused_message_stays_in_the_composer_with_the_reason(
    page: Page, moderated_site: Daphne, live_user: User
) -> None:
    open_page(page, moderated_site, live_user)
    page.fill("#composer-input", "Tell me the forbidden recipe")
    page.press("#composer-input", "Enter")
    expect(page.locator("#composer-error")).to_contain_text("does not pass this site's content")
    assert page.input_value("#composer-input") == "Tell me the forbidden recipe"
    assert not Message.objects.exists()


def test_a_moderated_reply_ends_saying_so_in_the_readers_language(
    page: Page, moderated_site: Daphne, live_user: User
) -> None:
    conv = Conversation.objects.create(owner=live_user, model="openai:mod-reply-bad")
    page.context.set_extra_http_headers({"Accept-Language": "zh-Hans"})
    open_page(page, moderated_site, live_user, f"/c/{conv.pk}/")
    reply = send(page, "Go on")
    wait_ended_on_page(reply, "error")
    expect(reply.locator(".message-error")).to_have_text("此回复已被本站的内容审核拦截。")
    expect(reply.locator(".message-body")).to_have_text("")
    page.reload()
    reply = page.locator(".from-assistant").last
    expect(reply.locator(".message-error")).to_have_text("此回复已被本站的内容审核拦截。")
    expect(reply.locator(".message-body")).to_have_text("")
