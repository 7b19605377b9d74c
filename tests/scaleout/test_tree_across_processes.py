"""Conversations through two processes sharing PostgreSQL and Redis: a reply written in one
process is regenerated through the other, a question edited through one streams through the
other, the branch chosen through one is the one the other shows, and a tab following the
user's events on one process hears what is done through the other."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, UserEventsReader, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.upstream import FakeUpstream

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]


def finished(client: SiteClient, url: str) -> dict[str, Any]:
    events = list(client.events(url))
    assert events[-1].event == "end", events
    end: dict[str, Any] = events[-1].data
    assert end["status"] == "complete", end
    return end


def test_regenerate_edit_and_switch_through_either_process(
    clients: list[SiteClient], fake_upstream: FakeUpstream
) -> None:
    a, b = clients
    reply, url = a.ask("openai:oa-plain", "First question")
    finished(b, url)
    conv = a.conversation_of(reply["id"])
    question = reply["parent"]

    again = b.http.post(f"/api/replies/{reply['id']}/regenerate")
    assert again.status_code == 202, again.text
    finished(a, again.json()["stream_url"])
    assert again.json()["reply"]["siblings"] == [reply["id"], again.json()["reply"]["id"]]

    edited = a.http.post(
        f"/api/conversations/{conv}/messages", json={"content": "Edited question", "parent": None}
    )
    assert edited.status_code == 202, edited.text
    finished(b, edited.json()["stream_url"])
    sent = fake_upstream.requests_for("oa-plain")[-1].json
    assert isinstance(sent, dict)
    assert [m["content"] for m in sent["messages"] if m["role"] != "system"] == ["Edited question"]

    chosen = b.http.patch(f"/api/conversations/{conv}", json={"current": question})
    assert chosen.status_code == 200, chosen.text
    shown = a.http.get(f"/api/conversations/{conv}").json()
    assert [m["id"] for m in shown["messages"]] == [question, again.json()["reply"]["id"]]
    assert shown["messages"][0]["siblings"] == [question, edited.json()["message"]["id"]]


def test_a_tab_on_one_process_hears_changes_made_through_the_other(
    pair: tuple[Daphne, Daphne], clients: list[SiteClient], live_user: User
) -> None:
    a, _b = clients
    tab = UserEventsReader(pair[1].url, login_session(live_user))
    try:
        reply, url = a.ask("openai:oa-plain", "Across")
        finished(a, url)
        events = tab.wait_for(6)
    finally:
        tab.close()

    assert [e.event for e in events] == [
        "conversation",
        "message",
        "message",
        "conversation",
        "message",
        "conversation",
    ]
    assert events[2].data["stream_url"] == url
    assert events[4].data == {
        "conversation": a.conversation_of(reply["id"]),
        "id": reply["id"],
        "role": "assistant",
        "status": "complete",
        "parent": reply["parent"],
    }
