"""The daily quota on the chat page, in Chromium: what is left once it runs low, and the
refusal once it is spent."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import UserLimits
from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import ledger_row

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_no_note_while_plenty_is_left(page: Page, daphne: Daphne, live_user: User) -> None:
    UserLimits.objects.create(user=live_user, daily_tokens=100_000)
    open_page(page, daphne, live_user)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#quota-note")).to_be_hidden()


def test_the_page_says_what_is_left_and_then_refuses(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    UserLimits.objects.create(user=live_user, daily_tokens=100)
    ledger_row(live_user.pk, "demo", 50, 40)
    open_page(page, daphne, live_user)
    note = page.locator("#quota-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("10 of your 100 tokens for today are left")

    reply = send(page, "Hello")  # under the quota: it starts, and finishes past it
    wait_ended_on_page(reply)
    expect(note).to_contain_text("You have used your 100 tokens for today")

    page.fill("#composer-input", "One more")
    page.press("#composer-input", "Enter")
    expect(page.locator("#composer-error")).to_contain_text("The allowance resets at")
    assert page.input_value("#composer-input") == "One more"
