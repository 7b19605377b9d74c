"""The page in a real browser (Debian's Chromium through Playwright) against a real daphne:
sign-up, refusals, the sidebar, inert markup, the Chinese page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Page, Route, expect

from chat.models import Conversation, UserLimits
from tests.support.browser import log_in, open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_sign_up_through_the_form_logs_the_user_in(page: Page, daphne: Daphne) -> None:
    page.goto(daphne.url + "/accounts/signup/")
    page.fill("#id_username", "dora")
    page.fill("#id_password1", "a-long-unusual-passphrase-71")
    page.fill("#id_password2", "a-long-unusual-passphrase-71")
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_url(daphne.url + "/")
    expect(page.locator(".account-name")).to_have_text("dora")
    assert User.objects.filter(username="dora").exists()


def test_a_refused_first_send_leaves_no_empty_conversation(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    UserLimits.objects.create(user=live_user, messages_per_minute=0)
    open_page(page, daphne, live_user)
    page.fill("#composer-input", "Hello?")
    page.press("#composer-input", "Enter")
    expect(page.locator("#composer-error")).to_contain_text("may not start replies")
    assert page.input_value("#composer-input") == "Hello?"
    assert page.url == daphne.url + "/"
    expect(page.locator(".conversation-item")).to_have_count(0)
    page.reload()
    expect(page.locator(".conversation-item")).to_have_count(0)
    assert not Conversation.objects.filter(owner=live_user).exists()


def test_api_error_is_shown_and_the_typed_text_kept(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Old", model="retired-model")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    page.fill("#composer-input", "Are you there?")
    page.press("#composer-input", "Enter")
    expect(page.locator("#composer-error")).to_contain_text("retired-model")
    assert page.input_value("#composer-input") == "Are you there?"
    expect(page.locator("#send-button")).to_be_enabled()


def test_over_long_message_is_refused_before_sending(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    open_page(page, daphne, live_user)
    page.fill("#composer-input", "x" * (limit + 1))
    expect(page.locator("#char-counter")).to_have_text(f"{limit + 1} / {limit}")
    expect(page.locator("#send-button")).to_be_disabled()
    page.press("#composer-input", "Enter")
    expect(page.locator("#composer-error")).to_contain_text("too long")
    assert not Conversation.objects.exists()
    page.press("#composer-input", "Backspace")
    expect(page.locator("#send-button")).to_be_enabled()


def test_rename_delete_and_load_more_in_the_sidebar(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    for i in range(33):
        Conversation.objects.create(owner=live_user, title=f"Chat {i}", model="demo")
    current = Conversation.objects.create(owner=live_user, title="Current", model="demo")
    open_page(page, daphne, live_user, f"/c/{current.pk}/")
    items = page.locator(".conversation-item")
    expect(items).to_have_count(30)
    page.click("#load-more")
    expect(items).to_have_count(34)
    expect(page.locator("#load-more")).to_be_hidden()

    def answer(dialog: Dialog) -> None:
        dialog.accept("Renamed chat" if dialog.type == "prompt" else None)

    page.on("dialog", answer)
    item = page.locator(f'.conversation-item[data-conversation-id="{current.pk}"]')
    item.locator(".rename-button").click()
    expect(item.locator("a")).to_have_text("Renamed chat")
    expect(page.locator("#conversation-title")).to_have_text("Renamed chat")
    current.refresh_from_db()
    assert current.title == "Renamed chat"

    page.select_option("#model-picker", "openai:oa-plain")
    page.click("#settings summary")
    page.fill("#system-prompt", "Be kind.")
    page.click("#save-settings")
    expect(page.locator("#settings-status")).not_to_be_empty()
    current.refresh_from_db()
    assert (current.model, current.system_prompt) == ("openai:oa-plain", "Be kind.")

    other = Conversation.objects.get(owner=live_user, title="Chat 0")
    page.locator(f'[data-conversation-id="{other.pk}"] .delete-button').click()
    expect(page.locator(f'[data-conversation-id="{other.pk}"]')).to_have_count(0)
    assert not Conversation.objects.filter(pk=other.pk).exists()
    item.locator(".delete-button").click()
    page.wait_for_url(daphne.url + "/")
    assert not Conversation.objects.filter(pk=current.pk).exists()


def change_model_then_send(page: Page, conv: Conversation, model: str, text: str) -> Route:
    """Choose `model` and press Enter at once; return the model change, held unanswered until
    the send has had time to go out if it did not wait for the change."""
    held: list[Route] = []
    sends: list[str] = []

    def hold_model_changes(route: Route) -> None:
        if route.request.method == "PATCH":
            held.append(route)
        else:
            route.continue_()

    def count_sends(route: Route) -> None:
        sends.append(route.request.method)
        route.continue_()

    page.route(f"**/api/conversations/{conv.pk}", hold_model_changes)
    page.route(f"**/api/conversations/{conv.pk}/messages", count_sends)
    page.select_option("#model-picker", model)
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")
    while not held:
        page.wait_for_timeout(50)
    page.wait_for_timeout(500)  # long enough for a send that did not wait to go out
    assert "POST" not in sends
    page.unroute(f"**/api/conversations/{conv.pk}")
    return held[0]


def test_a_send_right_after_a_model_change_waits_for_the_change(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Switch", model="openai:oa-plain")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    change_model_then_send(page, conv, "demo", "Which model answers?").continue_()

    reply = page.locator(".from-assistant").last
    wait_ended_on_page(reply)
    expect(reply.locator(".message-model")).to_have_text("Demo (offline)")
    expect(reply.locator(".message-body")).to_contain_text("Which model answers?")
    conv.refresh_from_db()
    assert conv.model == "demo"
    assert list(conv.messages.filter(role="assistant").values_list("model", flat=True)) == ["demo"]


def test_a_model_change_that_fails_keeps_the_message_unsent(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Switch", model="openai:oa-plain")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    change_model_then_send(page, conv, "demo", "Keep me").abort()  # the network drops it

    expect(page.locator("#composer-error")).to_be_visible()
    expect(page.locator("#model-picker")).to_have_value("openai:oa-plain")
    expect(page.locator("#composer-input")).to_have_value("Keep me")
    expect(page.locator(".from-user")).to_have_count(0)
    assert not conv.messages.exists()

    reply = send(page, "Keep me")  # sent again, with the model the picker shows
    wait_ended_on_page(reply)
    expect(reply.locator(".message-model")).to_have_text("oa-plain")


def test_hostile_markup_in_a_reply_renders_inert(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    payload = '<img src=x onerror="window.__xss=1">\n[x](javascript:window.__xss=2)'
    reply = send(page, payload)
    wait_ended_on_page(reply)
    expect(page.locator(".from-user .message-body")).to_have_text(payload)
    expect(reply.locator("blockquote")).to_contain_text('<img src=x onerror="window.__xss=1">')
    page.select_option("#model-picker", "openai:oa-xss")
    reply = send(page, "again")
    wait_ended_on_page(reply)
    expect(reply.locator(".message-body")).to_contain_text("<script>alert(2)</script>")
    assert page.evaluate("window.__xss") is None
    assert page.locator("[onerror]").count() == 0
    assert page.locator("#messages script, #messages iframe").count() == 0
    assert page.locator('a[href^="javascript:" i]').count() == 0


def test_chinese_browser_gets_the_chinese_page(page: Page, daphne: Daphne, live_user: User) -> None:
    context = page.context.browser.new_context(locale="zh-CN")
    try:
        zh = context.new_page()
        zh.goto(daphne.url + "/accounts/login/")
        expect(zh.locator("h1")).to_have_text("登录")
        log_in(zh, daphne, live_user)
        zh.goto(daphne.url + "/")
        assert zh.get_attribute("html", "lang") == "zh-hans"
        expect(zh.locator(".new-chat")).to_contain_text("新对话")
        expect(zh.locator("#send-button")).to_have_text("发送")
        expect(zh.locator("#model-picker option[value=demo]")).to_contain_text("演示")
    finally:
        context.close()
