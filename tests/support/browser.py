"""Helpers for the browser tests: logging a page in, sending, and reading the page's stamps."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from tests.support.clients import login_session
from tests.support.daphne import Daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Records the reply's live text at the moment its `end` event arrives, before the page swaps
# in the rendered HTML, so a test can compare exactly what was streamed with what was stored.
CAPTURE_LIVE_TEXT = """
(() => {
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, listener, options) {
    if (type !== 'end') return add.call(this, type, listener, options);
    const wrapped = function (event) {
      const body = document.querySelector('.from-assistant.is-streaming .message-body');
      window.__liveTextAtEnd = body ? body.textContent : null;
      return listener.call(this, event);
    };
    return add.call(this, type, wrapped, options);
  };
})();
"""

FINISH_TIMEOUT = 40_000


def log_in(page: Page, daphne: Daphne, user: User) -> None:
    page.context.add_cookies(
        [{"name": "sessionid", "value": login_session(user), "url": daphne.url}]
    )


def open_page(page: Page, daphne: Daphne, user: User, path: str = "/") -> None:
    log_in(page, daphne, user)
    page.goto(daphne.url + path)
    expect(page.locator("#composer-input")).to_be_enabled()


def send(page: Page, text: str) -> Locator:
    """Type a message, press Enter, and return the reply that appears for it."""
    before = page.locator(".from-assistant").count()
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")
    expect(page.locator(".from-assistant")).to_have_count(before + 1)
    return page.locator(".from-assistant").last


def wait_ended_on_page(reply: Locator, status: str = "complete") -> None:
    """Wait until the page shows the reply ended with `status`."""
    expect(reply).to_have_attribute("data-status", status, timeout=FINISH_TIMEOUT)


def delta_times(reply: Locator) -> list[float]:
    raw = reply.get_attribute("data-delta-times") or ""
    return [float(t) for t in raw.split(",") if t]


def stamp(reply: Locator, name: str) -> float:
    value = reply.get_attribute(f"data-{name}")
    assert value, f"no data-{name} on the reply"
    return float(value)


def conversation_id(page: Page) -> int:
    match = re.search(r"/c/(\d+)/$", page.url)
    assert match, page.url
    return int(match.group(1))


def reply_id(reply: Locator) -> int:
    return int(reply.get_attribute("data-message-id") or 0)
