"""A message built to make markdown rendering slow holds up no one: its reply falls back to
plain text when its render runs out of time, in a worker process, while another user's reply
streams and completes exactly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from chat.models import Message
from tests.support.clients import PageView, SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.openai_scenarios import PACED_TEXT
from tests.support.waiting import run_threads, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

# Quadratic in Python-Markdown's link scan even with the linear bracket pairs: a `)` at the
# end sends every `[a](` on a scan to it. The demo model quotes it back, whole.
HOSTILE = "[a](" * 6000 + ")"


def test_a_hostile_reply_renders_as_plain_text_and_delays_no_one(
    daphne: Daphne, live_user: User, other_user: User
) -> None:
    attacker = SiteClient(daphne.url, login_session(live_user))
    victim = SiteClient(daphne.url, login_session(other_user))
    hostile_reply, _ = attacker.ask("demo", HOSTILE)
    victim_reply, url = victim.ask("openai:oa-paced")
    view = PageView(PACED_TEXT)

    run_threads([lambda: view.finish(victim, url)])
    saved = wait_finished(hostile_reply["id"], timeout=60)

    assert view.end is not None and view.end["status"] == "complete"
    assert view.text == PACED_TEXT == Message.objects.get(pk=victim_reply["id"]).content
    assert saved.status == "complete" and HOSTILE in saved.content
    assert saved.html.startswith('<div class="plain-text">')
    assert "<a " not in saved.html  # the text as written, not half-rendered markdown
    assert "shown as plain text" in daphne.logs()
    attacker.close()
    victim.close()


def test_more_hostile_replies_than_render_workers_all_end(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    """Renders beyond the workers wait for one; a worker killed for its time frees its turn
    just as one that finished does, so the renders waiting meanwhile are never stranded."""
    site = start_site(CHAT_RENDER_WORKERS="1", CHAT_RENDER_TIMEOUT="0.5")
    client = SiteClient(site.url, login_session(live_user))
    replies = [client.ask("demo", HOSTILE)[0] for _ in range(3)]

    for reply in replies:
        saved = wait_finished(reply["id"], timeout=60)
        assert saved.status == "complete" and HOSTILE in saved.content
        assert saved.html.startswith('<div class="plain-text">')
    client.close()
