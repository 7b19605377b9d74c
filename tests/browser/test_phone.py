"""The page on a phone (390x844, a touch screen), and with the on-screen keyboard open
(390x500): the conversation list is a drawer, the messages keep the height, and Enter starts
a new line while the Send button sends."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.browser import open_page, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def conversation_with_messages(user: User, title: str = "On the phone") -> Conversation:
    conv = Conversation.objects.create(owner=user, title=title, model="demo")
    for i in range(6):
        add_message(conv, role="user", content=f"Question {i}")
        add_message(
            conv,
            role="assistant",
            content=f"Answer {i}",
            html=f"<p>Answer {i}</p>",
            status="complete",
        )
    return conv


def height(page: Page, selector: str) -> float:
    return float(page.locator(selector).evaluate("el => el.getBoundingClientRect().height"))


def test_the_conversation_list_is_a_drawer_on_a_phone(
    phone_page: Page, daphne: Daphne, live_user: User
) -> None:
    page = phone_page
    other = conversation_with_messages(live_user, "Another one")
    conv = conversation_with_messages(live_user)
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    toggle = page.locator("#drawer-toggle")
    sidebar = page.locator("#sidebar")

    expect(sidebar).to_be_hidden()
    assert height(page, "#messages") > 550  # the list no longer takes the top of the page
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".conversation-item.is-current .conversation-link")).to_be_focused()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()

    toggle.click()
    expect(sidebar).to_be_visible()
    page.locator("#drawer-backdrop").click(position={"x": 370, "y": 400})
    expect(sidebar).to_be_hidden()

    toggle.click()
    page.locator(f'.conversation-item[data-conversation-id="{other.pk}"] a').click()
    page.wait_for_url(f"**/c/{other.pk}/")
    expect(page.locator("#conversation-title")).to_have_text("Another one")
    expect(sidebar).to_be_hidden()


def test_with_the_keyboard_open_the_messages_keep_most_of_the_height(
    phone_page: Page, daphne: Daphne, live_user: User
) -> None:
    page = phone_page
    page.set_viewport_size({"width": 390, "height": 500})
    conv = conversation_with_messages(live_user)
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")

    assert height(page, "#messages") >= 280  # was 56 px
    for selector in ("#composer-input", "#send-button", "#drawer-toggle", "#model-picker"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 500, selector
    expect(page.locator(".from-assistant").last).to_be_in_viewport()


@pytest.mark.parametrize(
    ("language", "placeholder", "send_label"),
    [("en", "Write a message…", "Send"), ("zh-hans", "输入消息…", "发送")],
)
def test_enter_starts_a_new_line_on_a_touch_screen_and_the_button_sends(
    phone_page: Page,
    daphne: Daphne,
    live_user: User,
    language: str,
    placeholder: str,
    send_label: str,
) -> None:
    page = phone_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])
    open_page(page, daphne, live_user)
    composer = page.locator("#composer-input")
    expect(composer).to_have_attribute("placeholder", placeholder)

    composer.tap()
    page.keyboard.type("first line")
    page.keyboard.press("Enter")
    page.keyboard.type("second line")
    assert composer.input_value() == "first line\nsecond line"
    expect(page.locator(".from-user")).to_have_count(0)

    page.get_by_role("button", name=send_label).tap()
    expect(page.locator(".from-user .message-body")).to_have_text("first line\nsecond line")
    wait_ended_on_page(page.locator(".from-assistant").last)
