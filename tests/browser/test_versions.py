"""Versions of messages in a real browser: regenerate an earlier reply, switch between the
versions at once (no reload, no request to wait for), the branch shown kept across a reload,
and edit and resend a question."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Response, expect

from chat.models import Conversation, Message
from tests.support.browser import conversation_id, open_page, reply_id, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def two_exchanges(page: Page, daphne: Daphne, user: User) -> None:
    open_page(page, daphne, user)
    wait_ended_on_page(send(page, "First question"))
    wait_ended_on_page(send(page, "Second question"))


def patches_current(response: Response, message_id: int) -> bool:
    request = response.request
    return request.method == "PATCH" and request.post_data_json == {"current": message_id}


def test_regenerating_an_earlier_reply_and_switching_between_versions(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    two_exchanges(page, daphne, live_user)
    first = page.locator(".from-assistant").first
    first_id = reply_id(first)
    page.evaluate("window.__samePage = true")

    first.locator(".retry-button").click()

    expect(page.locator(".message")).to_have_count(2)
    fresh = page.locator(".from-assistant").last
    expect(fresh).not_to_have_attribute("data-message-id", str(first_id))
    wait_ended_on_page(fresh)
    expect(fresh.locator(".branch-count")).to_have_text("2 / 2")
    expect(fresh.locator(".message-body")).to_contain_text("message 1 of our conversation")
    fresh_id = reply_id(fresh)

    fresh.locator(".branch-prev").click()  # back to the first version, and what followed it
    expect(page.locator(".message")).to_have_count(4)
    expect(page.locator(".from-user").last).to_contain_text("Second question")
    expect(page.locator(".from-assistant").first.locator(".branch-count")).to_have_text("1 / 2")
    # The page sends its PATCHes one after the other; the one to wait for is the last (the
    # first may still be answered after this click, on a busy machine).
    with page.expect_response(lambda r: patches_current(r, fresh_id)) as patched:
        page.locator(".from-assistant").first.locator(".branch-next").click()
    expect(page.locator(".message")).to_have_count(2)
    assert patched.value.ok
    assert page.evaluate("window.__samePage") is True

    conv = Conversation.objects.get(pk=conversation_id(page))
    assert conv.current_id == fresh_id
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        page.locator(".from-assistant").first.locator(".branch-prev").click()
    page.reload()
    expect(page.locator(".message")).to_have_count(4)
    expect(page.locator(".from-assistant").first.locator(".branch-count")).to_have_text("1 / 2")
    assert Message.objects.filter(conversation=conv).count() == 5


def test_editing_a_question_sends_it_as_a_new_version(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    two_exchanges(page, daphne, live_user)
    question = page.locator(".from-user").first

    question.locator(".edit-button").click()
    question.locator(".message-edit textarea").fill("Edited question")
    question.locator(".edit-send").click()

    expect(page.locator(".message")).to_have_count(2)
    reply = page.locator(".from-assistant").last
    wait_ended_on_page(reply)
    expect(reply.locator(".message-body")).to_contain_text("Demo reply: Edited question")
    expect(reply.locator(".message-body")).to_contain_text("message 1 of our conversation")
    edited = page.locator(".from-user").first
    expect(edited).to_contain_text("Edited question")
    expect(edited.locator(".branch-count")).to_have_text("2 / 2")

    edited.locator(".branch-prev").click()
    expect(page.locator(".message")).to_have_count(4)
    expect(page.locator(".from-user").first).to_contain_text("First question")
