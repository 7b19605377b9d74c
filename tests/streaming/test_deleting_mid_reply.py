"""Deleting a conversation while its reply is being written: the generation stops (its
upstream connection is closed: no more billing) and every listener ends with an error
saying so, in the generating process and in another one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User

from chat.models import Message
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.events import Event
from tests.support.fakes.upstream import FakeUpstream
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


# Checkpoints (which also find a deleted reply gone) too far apart to stop it before it ends:
# the deletion itself must stop it.
NO_CHECKPOINT_IN_TIME = {"CHAT_CHECKPOINT_INTERVAL": "30", "CHAT_STALE_AFTER": "120"}


def delete_while_watching(
    writer: SiteClient, reader: SiteClient, deleter: SiteClient | None = None
) -> list[Event]:
    reply, url = writer.ask("openai:oa-slow")  # 40 words, 0.1 s apart
    events: list[Event] = []
    watching = threading.Thread(target=lambda: events.extend(reader.events(url)))
    watching.start()
    wait_for(lambda: len(events) >= 3, 10, "the reply streaming")
    conversation = writer.conversation_of(reply["id"])
    deleting = deleter or writer
    assert deleting.http.delete(f"/api/conversations/{conversation}").status_code == 204
    watching.join(timeout=10)
    assert not watching.is_alive(), "the stream did not end"
    assert not Message.objects.filter(pk=reply["id"]).exists()
    return events


def assert_ended_as_deleted(events: list[Event], fake_upstream: FakeUpstream) -> None:
    end = events[-1]
    assert end.event == "end"
    assert (end.data["status"], end.data["error"]) == ("error", "This reply was deleted.")
    assert int(end.id) > int(events[-2].id)
    assert fake_upstream.wait_closed("oa-slow").finished_writing is None  # cut off mid-stream


def test_deleting_a_conversation_mid_reply_stops_it_and_ends_its_stream(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    assert_ended_as_deleted(delete_while_watching(site, site), fake_upstream)


@contextmanager
def two_processes(
    daphne_factory: type[Daphne], user: User, env: dict[str, str] | None = None
) -> Iterator[tuple[SiteClient, SiteClient]]:
    """The user, signed in once, on two daphnes (the layer shared through Redis)."""
    session = login_session(user)
    first = SiteClient(daphne_factory(env=env).url, session)
    second = SiteClient(daphne_factory(env=env).url, session)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.mark.scaleout
@pytest.mark.usefixtures("postgres_and_redis")
def test_a_listener_in_another_process_learns_of_the_deletion_at_once(
    daphne_factory: type[Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    with two_processes(daphne_factory, live_user) as (writer, reader):
        assert_ended_as_deleted(delete_while_watching(writer, reader), fake_upstream)


def test_deleting_stops_the_generation_at_once_not_at_its_next_checkpoint(
    daphne_factory: type[Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    site = SiteClient(daphne_factory(env=NO_CHECKPOINT_IN_TIME).url, login_session(live_user))
    try:
        assert_ended_as_deleted(delete_while_watching(site, site), fake_upstream)
    finally:
        site.close()


@pytest.mark.scaleout
@pytest.mark.usefixtures("postgres_and_redis")
def test_deleting_through_another_process_stops_the_generation_at_once(
    daphne_factory: type[Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    with two_processes(daphne_factory, live_user, NO_CHECKPOINT_IN_TIME) as (writer, other):
        events = delete_while_watching(writer, writer, deleter=other)
        assert_ended_as_deleted(events, fake_upstream)
