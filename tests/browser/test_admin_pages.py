"""What an administrator sees, in Chromium: a conversation as a transcript styled like the
site (the admin's styles do not reach rendered replies), compact; filters and links; the
usage report's charts; flagged messages. Every page is held to the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation, Message, ModerationFlag
from chat.render import render_markdown
from tests.support.browser import log_in
from tests.support.daphne import Daphne
from tests.support.rows import add_message, finished_exchange, ledger_row

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REPLY = (
    "## A heading\n\nSome text with `inline code` and a list:\n\n- one\n- two\n\n"
    "```python\nprint('hi')\n```\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
)
# Properties the admin's own styles change (uppercase headings on coloured bars, small grey
# code, square bullets, ...): in the transcript they must be the site's.
COMPARED = {
    "h2": ["font-size", "font-weight", "text-transform", "background-color", "color", "margin-top"],
    "p": ["font-size", "line-height", "color", "margin-bottom"],
    "li": ["list-style-type", "font-size"],
    "p code": ["font-family", "font-size", "background-color", "color"],
    ".codehilite": ["background-color", "border-radius"],
    ".codehilite pre": ["font-family", "font-size", "padding-top", "color"],
    "td": ["border-top-width", "padding-left", "font-size"],
}
STYLES_JS = """([scope, compared]) => {
  const out = {};
  for (const [selector, props] of Object.entries(compared)) {
    const el = document.querySelector(scope + ' ' + selector);
    if (!el) { out[selector] = null; continue; }
    const style = getComputedStyle(el);
    out[selector] = Object.fromEntries(props.map((p) => [p, style.getPropertyValue(p)]));
  }
  return out;
}"""


@pytest.fixture
def administrator(live_user: User) -> User:
    live_user.is_staff = live_user.is_superuser = True
    live_user.save()
    return live_user


@pytest.fixture
def chat_with_markdown(administrator: User) -> Conversation:
    conv = Conversation.objects.create(owner=administrator, title="Styled", model="demo")
    for i in range(2):
        finished_exchange(conv, f"Short answer {i}.")
    _q, reply = finished_exchange(conv, "")
    Message.objects.filter(pk=reply.pk).update(
        content=REPLY, html=render_markdown(REPLY), input_tokens=5, output_tokens=40
    )
    return conv


def test_a_reply_looks_the_same_in_the_admin_as_on_the_site(
    page: Page, daphne: Daphne, administrator: User, chat_with_markdown: Conversation
) -> None:
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/c/{chat_with_markdown.pk}/")
    site = page.evaluate(STYLES_JS, [".from-assistant:last-of-type .markdown", COMPARED])
    page.goto(f"{daphne.url}/admin/chat/conversation/{chat_with_markdown.pk}/change/")
    expect(page.locator(".chat-transcript h2#transcript-title")).to_be_visible()
    admin = page.evaluate(STYLES_JS, [".chat-transcript article:last-of-type .markdown", COMPARED])
    assert all(site.values()), site
    assert admin == site
    assert admin["h2"]["text-transform"] == "none"


def test_a_conversation_page_is_compact_and_shows_each_messages_metadata(
    page: Page, daphne: Daphne, administrator: User, chat_with_markdown: Conversation
) -> None:
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/admin/chat/conversation/{chat_with_markdown.pk}/change/")
    messages = page.locator(".transcript-message")
    expect(messages).to_have_count(6)
    last = messages.last
    expect(last.locator(".transcript-meta")).to_contain_text("5 / 40")
    expect(last.locator("h2")).to_have_text("A heading")
    expect(page.locator("select#id_model")).to_have_value("demo")
    # Six messages used to make a page 9,000 px tall (13 form fields each).
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, height


def test_from_a_user_to_their_conversations_and_usage(
    page: Page, daphne: Daphne, administrator: User, other_user: User
) -> None:
    Conversation.objects.create(owner=other_user, title="Bob's chat", model="demo")
    Conversation.objects.create(owner=administrator, title="Admin's chat", model="demo")
    ledger_row(other_user.pk, "demo", 1200, 800)
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/admin/auth/user/{other_user.pk}/change/")
    page.get_by_role("link", name="conversations", exact=True).click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bob's chat")

    page.goto(f"{daphne.url}/admin/auth/user/{other_user.pk}/change/")
    page.get_by_role("link", name="usage", exact=True).click()
    expect(page.locator(".usage-user")).to_contain_text("Only bob.")
    expect(page.locator("svg.chart")).to_have_count(1)
    expect(page.locator("#usage-top-users")).to_contain_text("bob")
    expect(page.locator("svg.chart rect.series-input")).to_have_count(1)


def test_the_usage_report_draws_its_charts(
    page: Page, daphne: Daphne, administrator: User, other_user: User
) -> None:
    ledger_row(other_user.pk, "demo", 1000, 500)
    ledger_row(administrator.pk, "demo", 10, 5)
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/admin/chat/usagerecord/")
    page.get_by_role("link", name="Usage report").click()
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 80
    expect(page.locator("#usage-top-users tbody tr").first).to_contain_text("bob")
    expect(page.locator("#usage-csv")).to_have_attribute("href", "?days=30&format=csv")


def test_flagged_messages_are_listed_with_their_reason(
    page: Page, daphne: Daphne, administrator: User, other_user: User
) -> None:
    ModerationFlag.objects.create(
        user=other_user, kind="message", text="a refused message", reason="word “nope”"
    )
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/admin/chat/moderationflag/")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("word “nope”")
    expect(row).to_contain_text("a refused message")


def test_branches_are_shown_with_the_current_one_marked(
    page: Page, daphne: Daphne, administrator: User
) -> None:
    conv = Conversation.objects.create(owner=administrator, title="Branches", model="demo")
    question, first = finished_exchange(conv, "First try.")
    retry = add_message(
        conv,
        parent=question,
        role="assistant",
        content="Second try.",
        html="<p>Second try.</p>",
        model="demo",
    )
    log_in(page, daphne, administrator)
    page.goto(f"{daphne.url}/admin/chat/conversation/{conv.pk}/change/")
    old = page.locator(f"#message-{first.pk}")
    new = page.locator(f"#message-{retry.pk}")
    expect(old).to_contain_text("version 1 of 2")
    expect(old).to_contain_text("not on the current branch")
    expect(new).to_contain_text("version 2 of 2")
    expect(new).not_to_contain_text("not on the current branch")
    # The later version sits one step further in, and the old one is dimmed.
    old_box, new_box = old.bounding_box(), new.bounding_box()
    assert old_box and new_box and new_box["x"] > old_box["x"]
    assert float(old.evaluate("(el) => getComputedStyle(el).opacity")) < 1
    assert float(new.evaluate("(el) => getComputedStyle(el).opacity")) == 1
