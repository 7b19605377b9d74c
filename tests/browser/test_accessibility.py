"""Accessibility: axe-core finds nothing serious or critical on the main pages, in both
themes and both languages; the chat page has a main landmark and tells a screen reader when
a reply starts and ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.a11y import serious_findings
from tests.support.browser import log_in, open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REPLY_HTML = (
    "<h2>Heading</h2>\n<p>Text with <strong>bold</strong>, <code>code</code> and "
    '<a href="https://example.com/" rel="noopener noreferrer nofollow">a link</a>.</p>\n'
    "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"
    '<table>\n<thead>\n<tr>\n<th>Name</th>\n<th align="right">Value</th>\n</tr>\n</thead>\n'
    '<tbody>\n<tr>\n<td>alpha</td>\n<td align="right">1</td>\n</tr>\n</tbody>\n</table>\n'
    '<div class="codehilite"><pre><span></span><code><span class="k">def</span> '
    '<span class="nf">f</span><span class="p">():</span> <span class="k">pass</span>\n'
    "</code></pre></div>\n<blockquote>\n<p>Quoted.</p>\n</blockquote>"
)


def a_conversation(user: User) -> Conversation:
    conv = Conversation.objects.create(owner=user, title="Checked", model="demo")
    add_message(conv, role="user", content="Show me everything")
    add_message(
        conv, role="assistant", content="…", html=REPLY_HTML, status="complete", model="demo"
    )
    add_message(conv, role="user", content="And fail")
    add_message(conv, role="assistant", status="error", error="The reply failed.", model="demo")
    return conv


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_main_pages_have_no_serious_findings(
    make_page: Callable[..., Page], daphne: Daphne, live_user: User, scheme: str, language: str
) -> None:
    conv = a_conversation(live_user)
    page = make_page(color_scheme=scheme)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])
    found: dict[str, list[str]] = {}
    for path in ("/accounts/login/", "/accounts/signup/"):
        page.goto(daphne.url + path)
        found[path] = serious_findings(page)
    log_in(page, daphne, live_user)
    for path in ("/", f"/c/{conv.pk}/", "/accounts/password_change/", "/no/such/page/"):
        page.goto(daphne.url + path)
        found[path] = serious_findings(page)
    page.goto(daphne.url + f"/c/{conv.pk}/")
    page.click("#settings summary")
    found["settings open"] = serious_findings(page)
    assert {path: f for path, f in found.items() if f} == {}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_drawer_on_a_phone_has_no_serious_findings(
    make_page: Callable[..., Page], daphne: Daphne, live_user: User, language: str
) -> None:
    conv = a_conversation(live_user)
    page = make_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    assert serious_findings(page) == []
    page.click("#drawer-toggle")
    expect(page.locator("#sidebar")).to_be_visible()
    assert serious_findings(page) == []


@pytest.mark.parametrize(
    ("language", "started", "complete"),
    [
        ("en", "The assistant is writing a reply…", "The reply is complete."),
        ("zh-hans", "助手正在撰写回复…", "回复已完成。"),
    ],
)
def test_a_screen_reader_hears_when_a_reply_starts_and_ends(
    page: Page, daphne: Daphne, live_user: User, language: str, started: str, complete: str
) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": daphne.url}])
    open_page(page, daphne, live_user)
    expect(page.get_by_role("main")).to_have_count(1)
    announcer = page.locator("#reply-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    reply = send(page, "Hello, a long one /long")
    expect(announcer).to_have_text(started)
    wait_ended_on_page(reply)
    expect(announcer).to_have_text(complete)
