"""A reply formatted while it streams (static/chat/live-view.js, markdown.js): headings, lists,
tables and highlighted code before the reply ends, sanitized by the server's allowlist, and
replaced by the server's HTML without the reply changing height."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from chat.models import Message
from tests.support.browser import open_page, recorded, reply_id, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.fakes.page_scenarios import HOSTILE_TEXT, MARKDOWN_TEXT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The most the reply's body may change height when the server's HTML replaces the live view:
# less than one line of text (24 px), so that nothing visibly jumps.
MAX_SHIFT_PX = 8


def send_with_model(page: Page, model: str, text: str) -> Locator:
    page.select_option("#model-picker", model)
    return send(page, text)


def test_a_reply_is_formatted_while_it_streams_and_keeps_its_height_at_the_end(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    reply = send_with_model(page, "openai:oa-markdown", "Format this")
    live = reply.locator(".message-body.is-live")

    expect(live.locator("h2")).to_have_text("Streaming heading")
    expect(live.locator("strong")).to_have_text("bold")
    expect(live.locator("ul > li")).to_have_count(3)
    expect(live.locator("ol > li")).to_have_count(3)
    expect(live.locator("table td[align=right]").first).to_have_text("1")
    # The code block is highlighted once its closing fence has come, before the reply ends.
    expect(live.locator("div.codehilite code .hljs-keyword").first).to_have_text("def")
    expect(live.locator("blockquote")).to_contain_text("A quoted line.")
    assert reply.get_attribute("data-status") == "streaming"
    assert live.locator("text=##").count() == 0  # no markdown symbols left on screen

    wait_ended_on_page(reply)
    body = reply.locator(".message-body")
    expect(body.locator("div.codehilite span.k").first).to_have_text("def")  # Pygments now
    record = recorded(page, reply)
    stored = Message.objects.get(pk=reply_id(reply))
    assert record.live_text_at_end == stored.content == MARKDOWN_TEXT
    final_height = body.evaluate("el => el.getBoundingClientRect().height")
    assert abs(final_height - record.stamp("live_height_at_end")) <= MAX_SHIFT_PX, (
        record.live_height_at_end,
        final_height,
    )


def test_a_reply_on_a_phone_keeps_its_height_at_the_end(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, daphne, live_user)
    reply = send_with_model(page, "openai:oa-markdown", "Format this")
    wait_ended_on_page(reply)
    record = recorded(page, reply)
    final_height = reply.locator(".message-body").evaluate(
        "el => el.getBoundingClientRect().height"
    )
    assert abs(final_height - record.stamp("live_height_at_end")) <= MAX_SHIFT_PX, (
        record.live_height_at_end,
        final_height,
    )


def live_html_checks(page: Page, reply: Locator) -> dict[str, object]:
    """What the live view holds, once it has drawn the whole hostile text."""
    live = reply.locator(".message-body.is-live")
    expect(live).to_contain_text("Done.")
    return live.evaluate(
        """el => ({
          tags: [...new Set([...el.querySelectorAll('*')].map(e => e.localName))].sort(),
          handlers: [...el.querySelectorAll('*')].flatMap(
            e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')
              || n === 'style'),
          hrefs: [...el.querySelectorAll('a')].map(a => a.getAttribute('href')),
          rels: [...new Set([...el.querySelectorAll('a')].map(a => a.rel))],
          images: [...el.querySelectorAll('img')].map(i => [
            i.getAttribute('src'), i.getAttribute('referrerpolicy'), i.getAttribute('loading')]),
          pwned: window.__pwned ?? null,
          text: el.textContent,
        })"""
    )


def test_hostile_markdown_is_inert_while_it_streams(
    page: Page, start_site: Callable[..., Daphne], live_user: User
) -> None:
    site = start_site(CHAT_IMAGE_HOSTS="img.example,.pics.example")
    open_page(page, site, live_user)
    reply = send_with_model(page, "openai:oa-hostile", "Be evil")
    live = live_html_checks(page, reply)

    assert live["pwned"] is None
    assert live["handlers"] == []
    assert not {"script", "svg", "iframe", "style", "animate"} & set(live["tags"])  # type: ignore[arg-type]
    hrefs = live["hrefs"]
    assert isinstance(hrefs, list)
    assert not [h for h in hrefs if h and h.lower().startswith(("javascript:", "data:"))]
    assert "http://attacker.invalid/leak.png?d=secret" in hrefs  # an image made a link
    assert "http://img.example/cat.png" in hrefs  # not https: a link too
    assert "https://example.com/safe" in hrefs
    assert live["rels"] == ["noopener noreferrer nofollow"]
    assert live["images"] == [
        ["https://img.example/cat.png", "no-referrer", "lazy"],
        ["https://cdn.pics.example/dog.png", "no-referrer", "lazy"],
    ]
    # Raw HTML is shown as text, as the server shows it.
    assert "<script>window.__pwned = 1</script>" in str(live["text"])
    assert 'onerror="window.__pwned = 2"' in str(live["text"])

    wait_ended_on_page(reply)
    assert page.evaluate("window.__pwned ?? null") is None
    body = reply.locator(".message-body")
    expect(body.locator("script, svg, iframe, style")).to_have_count(0)
    expect(body.locator("img")).to_have_count(2)
    assert Message.objects.get(pk=reply_id(reply)).content == HOSTILE_TEXT
