"""Two tabs of one user in a real browser: what one does, the other follows without a
reload (GET /api/events): a new conversation, a message and its reply streaming, a rename,
a deletion."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.support.browser import conversation_id, open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_another_tab_follows_conversations_and_replies(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    other = page.context.new_page()
    open_page(page, daphne, live_user)
    open_page(other, daphne, live_user)
    other.evaluate("window.__samePage = true")

    wait_ended_on_page(send(page, "Started in the first tab"))
    conv = conversation_id(page)
    item = other.locator(f'.conversation-item[data-conversation-id="{conv}"]')
    expect(item).to_contain_text("Started in the first tab")

    other.goto(f"{daphne.url}/c/{conv}/")
    expect(other.locator(".message")).to_have_count(2)
    other.evaluate("window.__samePage = true")
    reply = send(page, "Second message, followed live")
    followed = other.locator(".from-assistant").last
    expect(other.locator(".from-user .message-body").last).to_have_text(
        "Second message, followed live"
    )
    wait_ended_on_page(reply)
    wait_ended_on_page(followed)
    expect(followed.locator(".message-body h2")).to_contain_text("Demo reply")
    assert other.evaluate("window.__samePage") is True

    page.once("dialog", lambda dialog: dialog.accept("Renamed in the first tab"))
    page.locator(f'.conversation-item[data-conversation-id="{conv}"] .rename-button').click()
    expect(other.locator("#conversation-title")).to_have_text("Renamed in the first tab")
    expect(item).to_contain_text("Renamed in the first tab")

    second = open_conversation_count(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'.conversation-item[data-conversation-id="{conv}"] .delete-button').click()
    expect(other).to_have_url(f"{daphne.url}/")
    expect(other.locator(".conversation-item")).to_have_count(second - 1)


def open_conversation_count(page: Page) -> int:
    return page.locator(".conversation-item").count()
