"""Export and import from the page in a real browser: a conversation's Markdown and JSON
downloads, export-all and import in the user's menu; an imported conversation appears in
the sidebar at once, a bad file says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from chat.models import Conversation
from tests.support.browser import open_page, send, wait_ended_on_page
from tests.support.chatgpt import branching_conversation
from tests.support.daphne import Daphne
from tests.support.rows import finished_exchange

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_exporting_and_importing_from_the_page(page: Page, daphne: Daphne, live_user: User) -> None:
    conv = Conversation.objects.create(owner=live_user, title="Recipes", model="demo")
    finished_exchange(conv, "Use **butter**")
    open_page(page, daphne, live_user, f"/c/{conv.pk}/")

    with page.expect_download() as markdown:
        page.click("#export-markdown")
    text = Path(markdown.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Recipes\n") and "Use **butter**" in text
    assert markdown.value.suggested_filename == f"recipes-{conv.pk}.md"
    with page.expect_download() as everything:
        page.click("text=Export all")
    exported = json.loads(Path(everything.value.path()).read_text(encoding="utf-8"))
    assert [c["title"] for c in exported] == ["Recipes"]

    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "conversations.json",
                "mimeType": "application/json",
                "buffer": json.dumps([branching_conversation()]).encode(),
            }
        ],
    )
    expect(page.locator("#import-status")).to_have_text("Imported: 1 conversations.")
    expect(page.locator(".conversation-item", has_text="Trip to Kyoto")).to_have_count(1)

    page.set_input_files(
        "#import-file",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}],
    )
    expect(page.locator("#composer-error")).to_have_text(
        "This file cannot be imported: it is not JSON."
    )
    assert Conversation.objects.filter(owner=live_user).count() == 2


def test_a_conversation_started_on_the_page_can_be_exported_at_once(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    open_page(page, daphne, live_user)
    expect(page.locator("#export-links")).to_be_hidden()

    wait_ended_on_page(send(page, "Export me"))

    expect(page.locator("#export-links")).to_be_visible()
    with page.expect_download() as download:
        page.click("#export-json")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["messages"][0]["content"] == "Export me"
