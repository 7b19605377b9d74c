"""Replies in a real browser (Debian's Chromium through Playwright) against a real daphne:
streaming, reload, broken connections, Stop and Retry, errors, every upstream protocol."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Route, expect

from chat.models import Conversation, Message
from tests.support.browser import (
    conversation_id,
    open_page,
    recorded,
    reply_id,
    send,
    wait_ended_on_page,
)
from tests.support.daphne import Daphne
from tests.support.fakes import (
    anthropic_scenarios,
    completions_scenarios,
    gemini_scenarios,
    spark_scenarios,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_demo_reply_streams_in_steps_then_renders_markdown(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    page.click("#settings summary")
    page.fill("#system-prompt", "Answer briefly.")
    page.fill("#composer-input", "line one")
    page.press("#composer-input", "Shift+Enter")
    page.type("#composer-input", "line two")
    assert page.input_value("#composer-input") == "line one\nline two"

    reply = send(page, "Hello there, show me code")
    expect(page.locator("#send-button")).to_be_disabled()
    expect(page.locator("#stop-button")).to_be_visible()
    wait_ended_on_page(reply)

    record = recorded(page, reply)
    times = record.delta_times
    assert len(set(times)) >= 5, times
    assert record.stamp("first_text_at") < record.stamp("end_at")
    assert max(times) - min(times) > 200  # spread over time, not one burst
    body = reply.locator(".message-body")
    expect(body.locator("h2")).to_contain_text("Demo reply")
    assert body.locator("li").count() >= 3
    expect(body.locator("div.codehilite span.k").first).to_be_visible()
    expect(body.locator("div.codehilite .copy-button")).to_have_count(1)
    expect(page.locator("#composer-input")).to_be_enabled()
    expect(page.locator("#stop-button")).to_be_hidden()

    # The first send created the conversation with the picked model and system prompt.
    conv = Conversation.objects.get(pk=conversation_id(page))
    assert (conv.owner, conv.model, conv.system_prompt) == (live_user, "demo", "Answer briefly.")
    item = page.locator(f'.conversation-item[data-conversation-id="{conv.pk}"]')
    expect(item).to_have_class("conversation-item is-current")
    expect(item.locator("a")).to_have_text("Hello there, show me code")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=daphne.url)
    body.locator(".copy-button").click()
    expect(body.locator(".copy-button")).to_have_text("Copied")
    assert "def echo" in page.evaluate("navigator.clipboard.readText()")


def test_reload_mid_reply_continues_to_the_complete_text(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "A long one please /long")
    expect(reply.locator(".message-body")).to_contain_text("Text streams in")
    page.reload()
    reply = page.locator(".from-assistant").last
    expect(reply).to_have_class("message from-assistant is-streaming")
    expect(page.locator("#stop-button")).to_be_visible()
    wait_ended_on_page(reply)

    stored = Message.objects.get(pk=reply_id(reply))
    assert stored.status == "complete"
    assert "Paragraph number 40" in stored.content
    record = recorded(page, reply)  # of the reloaded page
    assert record.live_text_at_end == stored.content
    assert len(record.delta_times) >= 5  # deltas kept arriving after the reload
    expect(reply.locator(".message-body ol li")).to_have_count(40)
    expect(page.locator("#composer-input")).to_be_enabled()


def test_reply_survives_failed_stream_connections(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    attempts: list[str] = []

    def flaky(route: Route) -> None:
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.fulfill(status=502, body="Bad gateway")  # the browser gives up; the page not
        elif len(attempts) == 2:
            route.abort()  # a dropped connection: the browser reconnects by itself
        else:
            route.continue_()

    page.route("**/api/replies/*/events*", flaky)
    open_page(page, daphne, live_user)
    reply = send(page, "Hello through a bad network")
    expect(reply).to_have_class(re.compile("is-reconnecting"))
    expect(reply.locator(".message-status")).to_have_text("Connection lost; reconnecting…")
    wait_ended_on_page(reply)
    assert len(attempts) >= 3
    expect(reply).not_to_have_class(re.compile("is-reconnecting"))
    expect(reply.locator(".message-body h2")).to_contain_text("Demo reply")
    expect(page.locator("#composer-input")).to_be_enabled()


def test_stop_keeps_the_partial_text_and_retry_streams_a_new_reply(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send(page, "Talk for a while /long")
    expect(reply.locator(".message-body")).to_contain_text("You wrote")
    page.click("#stop-button")
    wait_ended_on_page(reply, "stopped")
    stopped = Message.objects.get(pk=reply_id(reply))
    assert stopped.status == "stopped"
    assert stopped.content.startswith("## Demo reply")
    assert "Paragraph number 40" not in stopped.content
    expect(reply.locator(".message-body h2")).to_contain_text("Demo reply")
    expect(reply.locator(".message-status")).not_to_be_empty()
    expect(page.locator("#composer-input")).to_be_enabled()
    expect(page.locator("#stop-button")).to_be_hidden()

    reply.locator(".retry-button").click()
    fresh = page.locator(".from-assistant").last
    expect(fresh).not_to_have_attribute("data-message-id", str(stopped.pk))
    wait_ended_on_page(fresh)
    assert len(set(recorded(page, fresh).delta_times)) >= 5
    expect(page.locator(".from-assistant")).to_have_count(1)
    assert Message.objects.get(pk=reply_id(fresh)).parent_id == stopped.parent_id
    assert Message.objects.get(pk=reply_id(fresh)).status == "complete"


def test_failed_reply_shows_its_error_in_place_with_retry(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    page.select_option("#model-picker", "openai:oa-500")
    reply = send(page, "Hello")
    wait_ended_on_page(reply, "error")
    expect(reply.locator(".message-error")).to_be_visible()
    expect(reply.locator(".message-error")).not_to_be_empty()
    expect(reply.locator(".retry-button")).to_be_visible()
    expect(page.locator("#composer-input")).to_be_enabled()


def test_openai_upstream_reply_streams_from_the_fake_server(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    option = page.locator('#model-picker optgroup[label="OpenAI"] option[value="openai:oa-slow"]')
    expect(option).to_have_count(1)
    page.select_option("#model-picker", "openai:oa-slow")
    reply = send(page, "Count for me")
    expect(reply.locator(".message-body")).to_contain_text("word3")
    expect(reply).to_have_attribute("data-status", "streaming")
    wait_ended_on_page(reply)
    record = recorded(page, reply)
    times = record.delta_times
    assert len(set(times)) >= 10, times
    assert record.stamp("first_text_at") < record.stamp("end_at")
    expected = " ".join(f"word{i}" for i in range(40))
    expect(reply.locator(".message-body")).to_have_text(expected)
    assert Conversation.objects.get(pk=conversation_id(page)).model == "openai:oa-slow"


def test_reasoning_shows_in_a_collapsible_thinking_block(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    page.select_option("#model-picker", "openai:oa-t-deepseek-reasoning")
    reply = send(page, "What is two plus two?")
    wait_ended_on_page(reply)
    thinking = reply.locator("details.thinking")
    expect(thinking).to_be_attached()
    expect(thinking.locator(".thinking-text")).to_have_text("Two plus two is four.")
    expect(thinking.locator(".thinking-text")).to_be_hidden()  # collapsed
    thinking.locator("summary").click()
    expect(thinking.locator(".thinking-text")).to_be_visible()
    expect(reply.locator(".message-body")).to_have_text("The answer is 4.")
    page.reload()
    expect(page.locator(".from-assistant details.thinking .thinking-text")).to_have_text(
        "Two plus two is four."
    )


@pytest.mark.parametrize(
    ("model", "transcripts"),
    [
        ("anthropic:an-t-code-paced", anthropic_scenarios.TRANSCRIPTS),
        ("gemini:gm-t-code-paced", gemini_scenarios.TRANSCRIPTS),
        ("openai-completions:cmp-t-code-paced", completions_scenarios.TRANSCRIPTS),
        ("spark:sp-code-paced", spark_scenarios.TRANSCRIPTS),
    ],
)
def test_every_protocol_streams_a_reply_into_the_page(
    page: Page,
    daphne: Daphne,
    live_user: User,
    spark_upstream: object,
    model: str,
    transcripts: dict[str, tuple[object, Any]],
) -> None:
    expected = transcripts[model.split(":", 1)[1].removesuffix("-paced")][1].text
    open_page(page, daphne, live_user)
    page.select_option("#model-picker", model)
    reply = send(page, "Show me some code")
    wait_ended_on_page(reply)
    saved = Message.objects.get(pk=reply_id(reply))
    assert (saved.model, saved.content) == (model, expected)
    # The stored HTML is what the page shows once the reply ends: highlighted code included.
    expect(reply.locator(".message-body div.codehilite")).to_have_count(1)
    record = recorded(page, reply)
    assert record.stamp("first_text_at") <= record.stamp("end_at")
