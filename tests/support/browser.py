"""Helpers for the browser tests: Chromium, logging a page in, sending, and what a reply's event
streams brought to the page, and when."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.urls import reverse
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

# Installed in every browser test's page before its scripts run: wraps the listeners the page
# adds to its EventSources, and records per reply (by the stream's path, which stays the same
# across reconnects) what the events brought and when, in the page's own clock
# (performance.now(), in ms, to 0.1 ms): each delta's arrival, the snapshots, the first text
# shown, the `end`, and when `end` arrived, before the rendered HTML replaced the live view: the
# markdown source that view held and the height of the reply's body.
# A reload starts a new record, as it starts a new page.
RECORD_STREAMS = """
(() => {
  const streams = {};
  window.__streams = streams;
  const now = () => Math.round(performance.now() * 10) / 10;
  const recordOf = (source) => {
    const path = new URL(source.url).pathname;
    streams[path] ??= {
      delta_times: [], snapshots: 0, first_text_at: null, end_at: null, live_text_at_end: null,
      live_height_at_end: null,
    };
    return streams[path];
  };
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };
  const recorded = new Set(['delta', 'snapshot', 'end']);
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, listener, options) {
    if (!recorded.has(type)) return add.call(this, type, listener, options);
    const wrapped = function (event) {
      const at = now();
      const data = parse(event);
      if (data) {
        const record = recordOf(event.target);
        if (type === 'end') {
          record.end_at = at;
          const body = document.querySelector('.from-assistant.is-streaming .message-body');
          const live = body && body.liveView;
          record.live_text_at_end = body ? (live ? live.text : body.textContent) : null;
          record.live_height_at_end = body ? body.getBoundingClientRect().height : null;
        } else {
          if (type === 'delta') record.delta_times.push(at);
          else record.snapshots += 1;
          if (data.text && record.first_text_at === null) record.first_text_at = at;
        }
      }
      return listener.call(this, event);
    };
    return add.call(this, type, wrapped, options);
  };
})();
"""


@dataclass
class StreamRecord:
    """What a reply's event streams brought to the page (RECORD_STREAMS), times in ms."""

    delta_times: list[float]
    snapshots: int
    first_text_at: float | None
    end_at: float | None
    live_text_at_end: str | None
    live_height_at_end: float | None

    def stamp(self, name: str) -> float:
        value = getattr(self, name)
        assert value is not None, f"no {name} recorded"
        return float(value)


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


def recorded(page: Page, reply: Locator) -> StreamRecord:
    """What the event streams of `reply` brought to `page`, as RECORD_STREAMS saw it."""
    path = reverse("chat:reply-events", args=[reply_id(reply)])
    record = page.evaluate("(path) => (window.__streams || {})[path] || null", path)
    assert record, f"no event stream of {path} was recorded"
    return StreamRecord(**record)


def conversation_id(page: Page) -> int:
    match = re.search(r"/c/(\d+)/$", page.url)
    assert match, page.url
    return int(match.group(1))


def reply_id(reply: Locator) -> int:
    return int(reply.get_attribute("data-message-id") or 0)
