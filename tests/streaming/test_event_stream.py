"""Replies streamed through a real daphne process: exact events and bytes, resuming,
snapshots, several listeners, and the refusals (DESIGN.md, "Event stream contract")."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message, UsageRecord
from chat.providers import provider_label
from chat.replies import store
from tests.support.clients import SiteClient, live_text
from tests.support.events import Event
from tests.support.fakes.openai_scenarios import (
    CODE_REPLY,
    PLAIN_TEXT,
    SEPARATORS_PIECES,
    SEPARATORS_TEXT,
    STEADY_TEXT,
)
from tests.support.rows import add_message
from tests.support.waiting import wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

EVENT_STREAM = {"Accept": "text/event-stream"}


def frame(event: str, data: object, event_id: int) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


def test_a_paced_reply_streams_these_exact_events(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-exact")

    events = list(site.events(url))

    assert [(e.event, e.id, e.data) for e in events] == [
        ("delta", "1", {"text": "Hello"}),
        ("delta", "2", {"text": "!"}),
        ("delta", "3", {"text": " 你好"}),
        ("delta", "4", {"text": "，世界"}),
        ("delta", "5", {"text": " 🌏"}),
        (
            "end",
            "6",
            {
                "status": "complete",
                "content": PLAIN_TEXT,
                "reasoning": "",
                "html": f"<p>{PLAIN_TEXT}</p>",
                "error": "",
                "error_kind": "",
                "retryable": False,
                "usage": {"input_tokens": 9, "output_tokens": 7},
                "finish_reason": "stop",
            },
        ),
    ]
    saved = Message.objects.get(pk=reply["id"])
    assert (saved.status, saved.content, saved.seq, saved.worker_channel) == (
        "complete",
        PLAIN_TEXT,
        6,
        "",
    )
    # Its row in the usage ledger is completed with it.
    row = UsageRecord.objects.get(reply=saved)
    assert (row.outcome, row.input_tokens, row.output_tokens, row.provider) == (
        "complete",
        9,
        7,
        "OpenAI",
    )
    assert row.duration_ms == saved.duration_ms and row.duration_ms is not None


def test_a_finished_reply_streams_its_end_at_once_with_exact_bytes_and_headers(
    site: SiteClient,
) -> None:
    reply, url = site.ask("openai:oa-plain")
    saved = wait_finished(reply["id"])

    with site.http.stream("GET", url, headers=EVENT_STREAM) as response:
        body = response.read()

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in response.headers
    assert "content-length" not in response.headers
    assert body == b"retry: 1000\n\n" + frame("end", store.end_payload(saved), saved.seq)
    assert not body.startswith(b"\xef\xbb\xbf")


def test_a_finished_reply_sends_only_end_whatever_the_client_has_seen(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-plain")
    end_id = str(wait_finished(reply["id"]).seq)

    for last_event_id in (None, "0", "3"):
        events = list(site.events(url, last_event_id=last_event_id))
        assert [(e.event, e.id) for e in events] == [("end", end_id)]
        assert events[0].data["content"] == PLAIN_TEXT
    for last_event_id in (end_id, "99"):  # ids only grow on a stream, even past the end's
        events = list(site.events(url, last_event_id=last_event_id))
        assert [e.event for e in events] == ["end"]
        assert int(events[0].id) > int(last_event_id)
        assert events[0].data["content"] == PLAIN_TEXT


@pytest.mark.parametrize("split", ["", "@bytes", "@utf8"])
def test_a_reply_split_anywhere_upstream_arrives_whole(site: SiteClient, split: str) -> None:
    reply, url = site.ask(f"openai:oa-plain{split}")

    text, events = site.stream_text(url)

    assert PLAIN_TEXT.startswith(live_text(events))  # a fast reply may end before we listen
    assert text == PLAIN_TEXT
    assert wait_finished(reply["id"]).content == PLAIN_TEXT


def test_line_breaks_and_separators_in_deltas_stay_inside_their_events(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-separators")

    events = list(site.events(url))

    assert [e.data["text"] for e in events if e.event == "delta"] == SEPARATORS_PIECES
    assert events[-1].data["content"] == SEPARATORS_TEXT


def test_the_end_event_carries_the_rendered_markdown(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-code")

    end = list(site.events(url))[-1]

    assert end.data["content"] == CODE_REPLY
    assert str(end.data["html"]).startswith('<p>Here:</p>\n<div class="codehilite"><pre>')
    assert '<span class="nb">print</span>' in str(end.data["html"])


def test_hostile_markup_from_the_model_ends_as_inert_html(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-xss")

    end = list(site.events(url))[-1].data

    html = str(end["html"])
    assert "<script" not in html
    assert "<img" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_a_length_cut_reply_is_complete_with_its_finish_reason(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-length")

    end = list(site.events(url))[-1].data

    assert (end["status"], end["content"], end["finish_reason"]) == (
        "complete",
        "Cut short",
        "length",
    )


def test_resuming_with_last_event_id_continues_without_gap_or_duplicate(
    site: SiteClient,
) -> None:
    reply, url = site.ask("openai:oa-steady")
    first = list(site.events(url, limit=5))
    time.sleep(0.5)  # deltas go out while nobody listens

    rest = list(site.events(url, last_event_id=first[-1].id))

    assert [e.event for e in rest[:-1]] == ["delta"] * (len(rest) - 1)
    assert int(rest[0].id) > int(first[-1].id) + 1  # one catch-up delta for what was missed
    ids = [int(e.id) for e in first + rest]
    assert ids == sorted(set(ids))
    assert live_text(first) + live_text(rest) == STEADY_TEXT
    assert rest[-1].data["content"] == STEADY_TEXT
    assert wait_finished(reply["id"]).content == STEADY_TEXT


def test_reconnecting_without_last_event_id_mid_reply_starts_with_a_snapshot(
    site: SiteClient,
) -> None:
    _reply, url = site.ask("openai:oa-steady")
    seen = list(site.events(url, limit=3))

    events = list(site.events(url))

    assert events[0].event == "snapshot"
    assert int(events[0].id) >= 3
    assert str(events[0].data["text"]).startswith(live_text(seen))
    assert [e.event for e in events[1:-1]] == ["delta"] * (len(events) - 2)
    assert live_text(events) == STEADY_TEXT
    assert events[-1].data["content"] == STEADY_TEXT


def test_a_second_listener_gets_the_same_final_text(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-steady")
    first_started = threading.Event()

    def listen(signal: threading.Event | None) -> list[Event]:
        events = []
        for event in site.events(url):
            events.append(event)
            if signal is not None and len(events) == 3:
                signal.set()
        return events

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(listen, first_started)
        assert first_started.wait(10)
        second = pool.submit(listen, None)
        events_1, events_2 = first.result(30), second.result(30)

    assert live_text(events_1) == live_text(events_2) == STEADY_TEXT
    assert events_1[-1] == events_2[-1]
    assert events_1[-1].data["content"] == STEADY_TEXT
    assert events_2[0].event == "snapshot"


def test_the_stream_needs_an_event_stream_accept_header(site: SiteClient) -> None:
    reply, _url = site.ask("openai:oa-plain")

    response = site.http.get(f"/api/replies/{reply['id']}/events")

    assert response.status_code == 406
    assert response.json() == {"error": "This endpoint serves text/event-stream only."}


def test_another_users_reply_stream_is_not_found(site: SiteClient) -> None:
    stranger = User.objects.create_user("dave", password="another-horse-battery-7")
    conv = Conversation.objects.create(owner=stranger, model="demo")
    question = add_message(conv, role="user", content="Private")
    theirs = store.new_reply(conv, "", question.pk, provider_label(conv.model))

    response = site.http.get(f"/api/replies/{theirs.pk}/events", headers=EVENT_STREAM)

    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
    assert "Private" not in response.text


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "²"])
def test_a_last_event_id_that_is_not_a_plain_number_is_ignored(
    site: SiteClient, value: str
) -> None:
    reply, url = site.ask("openai:oa-plain")
    saved = wait_finished(reply["id"])
    expected = b"retry: 1000\n\n" + frame("end", store.end_payload(saved), saved.seq)

    header = {**EVENT_STREAM, "Last-Event-ID": value.encode("latin-1", "replace")}
    with site.http.stream("GET", url, headers=header) as by_header:
        assert (by_header.status_code, by_header.read()) == (200, expected)
    query = site.http.get(url, params={"last_event_id": value}, headers=EVENT_STREAM)
    assert (query.status_code, query.content) == (200, expected)


def test_a_last_event_id_with_thousands_of_digits_is_refused(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-plain")

    for headers, params in (
        ({**EVENT_STREAM, "Last-Event-ID": "9" * 5000}, {}),
        (EVENT_STREAM, {"last_event_id": "1" * 19}),
    ):
        response = site.http.get(url, headers=headers, params=params)
        assert response.status_code == 400
        assert response.json() == {"error": "The Last-Event-ID is not one this site sent."}


def test_a_null_character_from_the_model_does_not_lose_the_reply(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-nul")

    end = list(site.events(url))[-1]

    assert (end.event, end.data["status"], end.data["content"]) == (
        "end",
        "complete",
        "Before\ufffd after",
    )
    assert wait_finished(reply["id"]).content == "Before\ufffd after"


def test_an_emoji_split_between_two_chunks_arrives_whole(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-split-surrogate")

    text, events = site.stream_text(url)

    assert events[-1].data["status"] == "complete"
    assert text == "Earth 🌏! broken \ufffd"
    assert wait_finished(reply["id"]).content == "Earth 🌏! broken \ufffd"
