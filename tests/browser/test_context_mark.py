"""In a real browser: when a reply was sent without the oldest messages (they no longer fit
in the model's context), the page marks where what the model saw begins, live and after a
reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation, Message
from tests.support.browser import open_page, reply_id, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_page_marks_where_the_context_sent_begins(
    page: Page, start_site: Callable[..., Daphne], live_user: User
) -> None:
    site = start_site(CHAT_CONTEXT_TOKENS="demo=1000")
    conv = Conversation.objects.create(owner=live_user, model="demo", title="Long")
    for n in range(10):
        add_message(conv, role="user", content=f"Question {n} ".ljust(400, "q"))
        add_message(conv, role="assistant", content=f"Answer {n} ".ljust(400, "a"), model="demo")
    open_page(page, site, live_user, f"/c/{conv.pk}/")
    expect(page.locator(".context-cut")).to_have_count(0)

    reply = send(page, "And now?")
    wait_ended_on_page(reply)

    first = Message.objects.get(pk=reply_id(reply)).context_from
    assert first is not None
    cut = page.locator(".context-cut")
    expect(cut).to_have_count(1)
    expect(cut).to_contain_text("Earlier messages were not sent with the last reply")
    following = page.locator(".context-cut + .message")
    expect(following).to_have_attribute("data-message-id", str(first))
    page.reload()
    expect(page.locator(".context-cut + .message")).to_have_attribute("data-message-id", str(first))
