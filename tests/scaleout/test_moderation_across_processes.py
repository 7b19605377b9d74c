"""Moderation with two processes sharing PostgreSQL and Redis: a reply moderated in the
process that writes it ends, for a reader following it through the other process, as
moderated and without its text."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from chat.models import ModerationFlag
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.upstream import FakeUpstream

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]

WORDS = {"CHAT_MODERATION": "words", "CHAT_MODERATION_WORDS": "forbidden"}


@pytest.fixture(scope="module")
def moderated_pair(
    postgres_and_redis: None, daphne_factory: type[Daphne]
) -> Iterator[tuple[Daphne, Daphne]]:
    a, b = daphne_factory(env=WORDS), daphne_factory(env=WORDS)
    yield a, b
    for d in (a, b):
        d.stop(signal.SIGINT, timeout=15)


def test_a_reader_in_the_other_process_sees_the_reply_end_as_moderated(
    moderated_pair: tuple[Daphne, Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    session = login_session(live_user)
    a, b = (SiteClient(d.url, session) for d in moderated_pair)
    try:
        reply, url = a.ask("openai:mod-reply-bad", "Go on")
        events = list(b.events(url))
    finally:
        a.close()
        b.close()
    end = events[-1]
    assert end.event == "end"
    assert (end.data["status"], end.data["error_kind"], end.data["content"]) == (
        "error",
        "moderated",
        "",
    )
    fake_upstream.wait_closed("mod-reply-bad")
    flag = ModerationFlag.objects.get(message_id=reply["id"])
    assert "Now a Forbidden thing." in flag.text
