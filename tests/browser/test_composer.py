"""The composer while a reply streams: the next message can be written, Esc stops the reply,
and focus stays where a keyboard user expects it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Message
from tests.support.browser import open_page, reply_id, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_next_message_can_be_written_while_a_reply_streams(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    composer = page.locator("#composer-input")
    reply = send(page, "First question /long")
    expect(reply.locator(".message-body")).to_contain_text("Text streams in")

    expect(composer).to_be_enabled()
    expect(composer).to_be_focused()
    page.keyboard.type("Second question")
    expect(page.locator("#send-button")).to_be_disabled()
    page.keyboard.press("Enter")  # not yet: one reply at a time
    expect(page.locator(".from-user")).to_have_count(1)
    assert composer.input_value() == "Second question"

    wait_ended_on_page(reply)
    expect(composer).to_be_focused()
    assert composer.input_value() == "Second question"
    page.keyboard.press("Enter")
    expect(page.locator(".from-user")).to_have_count(2)
    expect(page.locator(".from-user .message-body").last).to_have_text("Second question")
    wait_ended_on_page(page.locator(".from-assistant").last)


def test_escape_stops_the_reply_and_keeps_focus_in_the_composer(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Talk for a while /long")
    expect(reply.locator(".message-body")).to_contain_text("Text streams in")

    page.keyboard.press("Escape")
    wait_ended_on_page(reply, "stopped")
    assert Message.objects.get(pk=reply_id(reply)).status == "stopped"
    expect(page.locator("#composer-input")).to_be_focused()
    expect(page.locator("#stop-button")).to_be_hidden()


def test_stop_from_the_keyboard_returns_focus_to_the_composer(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Talk for a while /long")
    stop = page.locator("#stop-button")
    expect(stop).to_be_visible()
    stop.focus()
    page.keyboard.press("Enter")
    wait_ended_on_page(reply, "stopped")
    expect(stop).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_focused()


def test_escape_in_the_settings_while_nothing_streams_changes_nothing(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Short one")
    wait_ended_on_page(reply)
    page.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(page.locator("#composer-input")).to_be_focused()


def test_regenerating_from_the_keyboard_keeps_focus_in_the_page(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Once more")
    wait_ended_on_page(reply)
    button = page.locator(".from-assistant").last.locator(".retry-button")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".from-assistant.is-streaming")).to_have_count(1)
    assert page.evaluate("document.activeElement !== document.body")
    expect(page.locator("#composer-input")).to_be_focused()
