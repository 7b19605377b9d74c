"""The sidebar's search box in a real browser: results replace the list while there are
words, the match is highlighted and hostile text stays text, and a result opens its
conversation on the branch that holds the message."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.browser import open_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_searching_finds_a_message_on_another_branch_and_opens_it(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Birds", model="demo")
    question = add_message(conv, role="user", content="Tell me about birds")
    old = add_message(
        conv, role="assistant", content='<img src=x onerror="alert(1)"> 企鹅 penguins swim'
    )
    add_message(conv, role="assistant", content="Sparrows sing", parent=question)
    Conversation.objects.create(owner=live_user, title="Other", model="demo")
    open_page(page, daphne, live_user)

    page.fill("#search-input", "企鹅 PENGUIN")
    page.fill("#search-input", "penguin")
    results = page.locator("#search-results .search-result")
    expect(results).to_have_count(1)
    expect(page.locator("#conversation-list")).to_be_hidden()
    expect(results.locator("mark")).to_have_text("penguin")
    expect(results.locator(".search-snippet")).to_contain_text('<img src=x onerror="alert(1)">')
    expect(results.locator("img")).to_have_count(0)

    results.first.click()
    page.wait_for_url(f"{daphne.url}/c/{conv.pk}/#message-{old.pk}")
    found = page.locator(f'.message[data-message-id="{old.pk}"]')
    expect(found).to_have_class(re.compile(r"\bis-found\b"))
    expect(found.locator(".branch-count")).to_have_text("1 / 2")

    page.fill("#search-input", "nothing like this")
    expect(page.locator("#search-empty")).to_be_visible()
    page.press("#search-input", "Escape")
    expect(page.locator("#conversation-list")).to_be_visible()
    expect(page.locator(".conversation-item")).to_have_count(2)
