"""A title written by a model after the first exchange shows in the page without a reload."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_written_title_replaces_the_first_message_in_the_page(
    page: Page, titling_daphne: Daphne, live_user: User
) -> None:
    open_page(page, titling_daphne, live_user)
    reply = send(page, "Plans for the *weekend*")
    item = page.locator(".conversation-item").first
    expect(item.locator("a")).to_have_text("Plans for the *weekend*")
    wait_ended_on_page(reply)

    expect(page.locator("#conversation-title")).to_have_text("Demo: Plans for the weekend")
    expect(item.locator("a")).to_have_text("Demo: Plans for the weekend")
    expect(page).to_have_title("Demo: Plans for the weekend · Chat")


def test_another_tab_sees_the_written_title(
    page: Page, titling_daphne: Daphne, live_user: User
) -> None:
    open_page(page, titling_daphne, live_user)
    other = page.context.new_page()
    other.goto(titling_daphne.url + "/")
    expect(other.locator("#composer-input")).to_be_enabled()

    reply = send(page, "Ideas for dinner")
    wait_ended_on_page(reply)
    expect(other.locator(".conversation-item a").first).to_have_text("Demo: Ideas for dinner")
