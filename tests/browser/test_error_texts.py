"""Errors a user meets, in the browser: the length error said once, the system prompt's
counter, error texts that name fields in the reader's words and language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.browser import open_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

TOO_LONG = {
    "en": "{length} / {limit} characters: the message is too long.",
    "zh-hans": "{length} / {limit} 个字符：消息太长。",
}
PROMPT_TOO_LONG = {
    "en": "The system prompt is too long: the limit is {limit} characters.",
    "zh-hans": "系统提示词过长：上限为 {limit} 个字符。",
}


def set_language(page: Page, daphne: Daphne, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_over_long_message_is_refused_with_one_error(
    page: Page, daphne: Daphne, live_user: User, language: str
) -> None:
    set_language(page, daphne, language)
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    open_page(page, daphne, live_user)
    page.fill("#composer-input", "x" * (limit + 1))
    expect(page.locator("#char-counter")).to_have_text(f"{limit + 1} / {limit}")
    page.press("#composer-input", "Enter")
    sentence = TOO_LONG[language].format(length=limit + 1, limit=limit)
    expect(page.locator("#composer-error")).to_have_text(sentence)
    assert page.locator("body").inner_text().count(sentence) == 1
    page.press("#composer-input", "Backspace")
    expect(page.locator("#composer-error")).to_be_hidden()
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_system_prompt_has_a_counter_and_is_not_saved_over_its_limit(
    page: Page, daphne: Daphne, live_user: User, language: str
) -> None:
    set_language(page, daphne, language)
    limit = settings.CHAT_MAX_SYSTEM_PROMPT_CHARS
    conv = Conversation.objects.create(owner=live_user, title="Prompted", model="demo")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    page.click("#settings summary")
    counter = page.locator("#system-prompt-counter")
    expect(counter).to_have_text("")

    page.fill("#system-prompt", "y" * (limit - 10))
    expect(counter).to_have_text(f"{limit - 10} / {limit}")
    expect(page.locator("#save-settings")).to_be_enabled()
    page.fill("#system-prompt", "y" * (limit + 5))
    expect(counter).to_have_text(f"{limit + 5} / {limit}")
    expect(page.locator("#save-settings")).to_be_disabled()
    expect(page.locator("#settings-status")).to_have_text(
        PROMPT_TOO_LONG[language].format(limit=limit)
    )
    page.fill("#system-prompt", "Short again.")
    expect(page.locator("#save-settings")).to_be_enabled()
    page.click("#save-settings")
    expect(page.locator("#settings-status")).not_to_be_empty()
    conv.refresh_from_db()
    assert conv.system_prompt == "Short again."


def test_a_server_refusal_names_the_field_in_the_readers_words(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    set_language(page, daphne, "zh-hans")
    conv = Conversation.objects.create(owner=live_user, title="Old", model="retired-model")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    page.fill("#composer-input", "你好")
    page.press("#composer-input", "Enter")
    error = page.locator("#composer-error")
    expect(error).to_contain_text("retired-model")
    assert "model" not in error.inner_text().replace("retired-model", "")
