"""The small things around messages: copying a whole message, times in the reader's zone,
model labels, the jump to the latest, a finished reply in a background tab, bare URLs as
links, list numbers inside the column, and the theme switch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation, Message, Preferences
from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WRITTEN_AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai


def conversation_with_reply(user: User, model: str = "demo", count: int = 1) -> Conversation:
    conv = Conversation.objects.create(owner=user, title="Tools", model=model)
    for i in range(count):
        add_message(conv, role="user", content=f"Question {i}")
        add_message(
            conv,
            role="assistant",
            model=model,
            content=f"## Answer {i}\n\n- one\n- two",
            html=f"<h2>Answer {i}</h2>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
            status="complete",
        )
    Message.objects.filter(conversation=conv).update(created_at=WRITTEN_AT)
    return conv


def set_language(page: Page, daphne: Daphne, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])


@pytest.mark.parametrize(
    ("language", "label", "done"),
    [("en", "Copy message", "Copied"), ("zh-hans", "复制消息", "已复制")],
)
def test_a_whole_reply_is_copied_as_shown(
    page: Page, daphne: Daphne, live_user: User, language: str, label: str, done: str
) -> None:
    set_language(page, daphne, language)
    open_page(page, daphne, live_user)
    reply = send(page, "Copy this")
    wait_ended_on_page(reply)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=daphne.url)

    button = reply.locator(".copy-message-button")
    expect(button).to_have_text(label)
    button.click()
    expect(button).to_have_text(done)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Demo reply: Copy this")
    assert "def echo(message: str) -> str:" in copied
    assert "##" not in copied and "**" not in copied


@pytest.mark.parametrize(("language", "shown"), [("en", "8:30 PM"), ("zh-hans", "20:30")])
def test_times_show_on_hover_in_the_readers_time_zone_and_language(
    make_page: Callable[..., Page], daphne: Daphne, live_user: User, language: str, shown: str
) -> None:
    page = make_page(timezone_id="Asia/Shanghai")
    set_language(page, daphne, language)
    conv = conversation_with_reply(live_user)
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")

    time = page.locator(".from-assistant time.message-time").first
    assert time.get_attribute("datetime") == "2026-03-01T12:30:00+00:00"
    expect(time).to_contain_text(shown)
    assert shown in (time.get_attribute("title") or "")
    assert time.evaluate("el => getComputedStyle(el).opacity") == "0"
    page.locator(".from-assistant").first.hover()
    expect(time).to_have_css("opacity", "1")


@pytest.mark.parametrize(
    ("language", "demo"), [("en", "Demo (offline)"), ("zh-hans", "演示（离线）")]
)
def test_models_are_shown_by_label_not_by_id(
    page: Page, daphne: Daphne, live_user: User, language: str, demo: str
) -> None:
    set_language(page, daphne, language)
    conv = conversation_with_reply(live_user, model="openai:oa-plain")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    expect(page.locator(".from-assistant .message-model").first).to_have_text("oa-plain")

    page.select_option("#model-picker", "demo")
    reply = send(page, "And you?")
    expect(reply.locator(".message-model")).to_have_text(demo)
    wait_ended_on_page(reply)
    expect(reply.locator(".message-model")).to_have_text(demo)


def test_jump_to_the_latest_appears_when_scrolled_up(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    page.set_viewport_size({"width": 1000, "height": 600})
    conv = conversation_with_reply(live_user, count=12)
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    jump = page.locator("#jump-latest")
    expect(jump).to_be_hidden()

    page.locator("#messages").evaluate("el => el.scrollTo(0, 0)")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    expect(page.locator(".from-assistant").last).to_be_in_viewport()
    expect(page.locator("#composer-input")).to_be_focused()


# Makes the page believe it is in a background tab while window.__hidden is true, and records
# the notifications it shows.
BACKGROUND = """
(() => {
  window.__hidden = false;
  window.__notes = [];
  Object.defineProperty(Document.prototype, 'hidden', { get: () => window.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title, body: options && options.body });
    }
  }
  window.Notification = Recorded;
})();
"""


def test_a_reply_finished_in_a_background_tab_marks_the_title_and_notifies(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    page.add_init_script(BACKGROUND)
    page.context.grant_permissions(["notifications"], origin=daphne.url)
    open_page(page, daphne, live_user)
    page.click("#settings summary")
    page.check("#notify-toggle")
    page.wait_for_function("localStorage.getItem('chat-notify') === 'on'")  # permission asked
    page.click("#settings summary")
    reply = send(page, "Tell me when done")
    page.evaluate("window.__hidden = true")
    wait_ended_on_page(reply)

    expect(page).to_have_title("✓ Tell me when done · Chat")
    page.wait_for_function("window.__notes.length > 0")
    notes = page.evaluate("window.__notes")
    assert notes == [{"title": "The reply is ready", "body": "Tell me when done"}]
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    expect(page).to_have_title("Tell me when done · Chat")
    page.reload()
    expect(page.locator("#notify-toggle")).to_be_checked()  # kept by this browser


def test_without_the_choice_a_background_reply_only_marks_the_title(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    page.add_init_script(BACKGROUND)
    open_page(page, daphne, live_user)
    reply = send(page, "Quietly")
    page.evaluate("window.__hidden = true")
    wait_ended_on_page(reply)
    expect(page).to_have_title("✓ Quietly · Chat")
    assert page.evaluate("window.__notes") == []


def test_bare_urls_become_links_while_streaming_and_after(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Read https://example.com/guide?x=1 and www.example.org please /long")
    live = reply.locator(".message-body.is-live")
    expect(live.locator('a[href="https://example.com/guide?x=1"]').first).to_be_visible()
    wait_ended_on_page(reply)
    body = reply.locator(".message-body")
    expect(body.locator('a[href="https://example.com/guide?x=1"]').first).to_have_text(
        "https://example.com/guide?x=1"
    )
    expect(body.locator('a[href="http://www.example.org"]').first).to_have_attribute(
        "rel", "noopener noreferrer nofollow"
    )


def test_list_numbers_stay_inside_the_text_column_on_a_phone(
    phone_page: Page, daphne: Daphne, live_user: User
) -> None:
    page = phone_page
    open_page(page, daphne, live_user)
    page.fill("#composer-input", "Numbers please /long")
    page.get_by_role("button", name="Send").tap()
    reply = page.locator(".from-assistant").last
    wait_ended_on_page(reply)
    room = reply.locator(".message-body ol").last.evaluate(
        """ol => {
          const li = ol.lastElementChild;
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = getComputedStyle(li).font;
          return {
            padding: parseFloat(getComputedStyle(ol).paddingLeft),
            marker: ctx.measureText(`${ol.children.length}. `).width,
            left: ol.getBoundingClientRect().left,
          };
        }"""
    )
    assert room["marker"] <= room["padding"], room
    assert room["left"] >= 0


def test_the_theme_switch_is_kept_for_the_user(
    make_page: Callable[..., Page], daphne: Daphne, live_user: User
) -> None:
    page = make_page(color_scheme="light")
    open_page(page, daphne, live_user)
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")

    page.select_option("#theme-picker", "dark")
    expect(html).to_have_attribute("data-theme", "dark")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg
    expect(page.locator("#theme-picker")).to_be_enabled()
    assert Preferences.objects.get(user=live_user).theme == "dark"

    elsewhere = make_page(color_scheme="light")  # another browser of the same user
    open_page(elsewhere, daphne, live_user)
    expect(elsewhere.locator("html")).to_have_attribute("data-theme", "dark")
    assert elsewhere.evaluate("getComputedStyle(document.body).backgroundColor") == dark_bg

    elsewhere.select_option("#theme-picker", "system")
    expect(elsewhere.locator("#theme-picker")).to_be_enabled()
    system_dark = make_page(color_scheme="dark")
    open_page(system_dark, daphne, live_user)
    expect(system_dark.locator("html")).to_have_attribute("data-theme", "system")
    assert system_dark.evaluate("getComputedStyle(document.body).backgroundColor") == dark_bg
