"""A reply's life beyond one connection, through a real daphne process: it survives its
listener, stops on request (closing the upstream), checkpoints its text, is regenerated,
sends the upstream the conversation so far, and starts only once however often it is asked
at the same moment."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from httpx import Response

from chat.models import Message
from chat.render import render_markdown
from tests.support.clients import SiteClient, live_text
from tests.support.events import Event
from tests.support.fakes.openai_scenarios import PLAIN_TEXT, SLOW_TEXT, STEADY_TEXT, STOPPABLE_TEXT
from tests.support.fakes.upstream import FakeUpstream
from tests.support.waiting import wait_finished

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_that_disconnects_mid_reply_loses_nothing(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-steady")
    assert len(list(site.events(url, limit=3))) == 3

    saved = wait_finished(reply["id"])

    assert (saved.status, saved.content, saved.error) == ("complete", STEADY_TEXT, "")
    assert saved.html == render_markdown(STEADY_TEXT)


def test_stop_closes_the_upstream_and_keeps_the_partial_text(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    reply, url = site.ask("openai:oa-stoppable")
    events: list[Event] = []
    some_deltas = threading.Event()

    def listen() -> None:
        for event in site.events(url):
            events.append(event)
            if len(events) == 4:
                some_deltas.set()

    listener = threading.Thread(target=listen)
    listener.start()
    assert some_deltas.wait(10)

    response = site.http.post(f"/api/replies/{reply['id']}/stop")
    listener.join(15)

    assert not listener.is_alive()
    assert response.status_code == 200
    stopped = response.json()
    assert stopped["status"] == "stopped"
    assert stopped["content"]
    assert len(stopped["content"]) >= len(live_text(events[:4]))
    assert STOPPABLE_TEXT.startswith(stopped["content"])
    assert stopped["content"] != STOPPABLE_TEXT
    closed = fake_upstream.wait_closed("oa-stoppable")
    assert closed.finished_writing is None  # it was cut off before the end of its transcript
    end = events[-1]
    assert (end.event, end.data["status"], end.data["content"], end.data["error"]) == (
        "end",
        "stopped",
        stopped["content"],
        "",
    )
    assert live_text(events) == stopped["content"]
    saved = Message.objects.get(pk=reply["id"])
    assert (saved.status, saved.content) == ("stopped", stopped["content"])


def test_the_partial_text_is_checkpointed_at_a_bounded_rate(site: SiteClient) -> None:
    reply, _url = site.ask("openai:oa-slow")
    writes: dict[object, str] = {}  # updated_at -> content, while the reply streams
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = Message.objects.values("status", "content", "updated_at").get(pk=reply["id"])
        if row["status"] != "streaming":
            break
        if row["content"]:
            writes[row["updated_at"]] = row["content"]
        time.sleep(0.02)

    stamps = sorted(writes)
    texts = [writes[s] for s in stamps]
    assert len(texts) >= 3  # the text grows in the database while it streams
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(texts))
    assert all(SLOW_TEXT.startswith(t) for t in texts)
    assert len(texts) < 40 / 2  # 40 deltas
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.45  # CHAT_CHECKPOINT_INTERVAL is 0.5 s in the tests
    assert wait_finished(reply["id"]).content == SLOW_TEXT


def test_regenerating_streams_a_new_reply_and_hides_the_old_one(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-plain")
    list(site.events(url))

    response = site.http.post(f"/api/replies/{reply['id']}/regenerate")

    assert response.status_code == 202
    new = response.json()
    text, _events = site.stream_text(new["stream_url"])
    assert text == PLAIN_TEXT
    conv = site.http.get(f"/api/conversations/{site.conversation_of(reply['id'])}").json()
    assert [m["id"] for m in conv["messages"]][-1] == new["reply"]["id"]
    assert reply["id"] not in [m["id"] for m in conv["messages"]]


def test_the_upstream_gets_the_system_prompt_and_the_history_without_failed_replies(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    conv = site.new_conversation("openai:oa-plain", system_prompt="Be brief.")
    first = site.send(conv["id"], "First question")
    site.stream_text(first["stream_url"])
    site.http.patch(f"/api/conversations/{conv['id']}", json={"model": "openai:oa-500"})
    failed = site.send(conv["id"], "Second question")
    site.stream_text(failed["stream_url"])
    site.http.patch(f"/api/conversations/{conv['id']}", json={"model": "openai:oa-history"})

    last = site.send(conv["id"], "Third question")
    site.stream_text(last["stream_url"])

    sent = fake_upstream.requests_for("oa-history")[-1].json
    assert isinstance(sent, dict)
    assert (sent["model"], sent["stream"]) == ("oa-history", True)
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": PLAIN_TEXT},
        {"role": "user", "content": "Second question"},
        {"role": "user", "content": "Third question"},
    ]


def post_at_once(site: SiteClient, path: str, body: object, times: int) -> list[Response]:
    """The same POST from several threads released together."""
    barrier = threading.Barrier(times)
    answers: list[Response] = []

    def post() -> None:
        barrier.wait()
        answers.append(site.http.post(path, json=body))

    threads = [threading.Thread(target=post) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == times
    return answers


def test_messages_sent_at_once_to_one_conversation_start_only_one_reply(
    site: SiteClient,
) -> None:
    for _ in range(3):
        conv = site.new_conversation("openai:oa-plain")

        answers = post_at_once(
            site, f"/api/conversations/{conv['id']}/messages", {"content": "Hi"}, 4
        )

        assert sorted(a.status_code for a in answers) == [202, 409, 409, 409]
        accepted = next(a.json() for a in answers if a.status_code == 202)
        assert Message.objects.filter(conversation_id=conv["id"]).count() == 2
        wait_finished(accepted["reply"]["id"])


def test_a_reply_regenerated_several_times_at_once_is_regenerated_once(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-plain")
    list(site.events(url))

    answers = post_at_once(site, f"/api/replies/{reply['id']}/regenerate", None, 4)

    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409]
    accepted = next(a.json() for a in answers if a.status_code == 202)
    conv_id = site.conversation_of(reply["id"])
    assert Message.objects.filter(conversation_id=conv_id).count() == 3
    wait_finished(accepted["reply"]["id"])
