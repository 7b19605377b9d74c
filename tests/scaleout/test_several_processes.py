"""The site on several daphne processes sharing PostgreSQL and Redis: a reply is watched,
resumed and stopped through a process other than the one writing it, survives the death of
that process, many readers and many concurrent replies lose nothing, and the limits hold
across processes.

These tests need DATABASE_URL (PostgreSQL) and REDIS_URL; scripts/test.sh runs them in its
second pass and deselects them (`-m "not scaleout"`) on SQLite.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from chat.models import Message, UserLimits
from tests.support.clients import PageView, SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.openai_scenarios import (
    BURST_TEXT,
    PACED_TEXT,
    PAUSE_BEFORE,
    SLOW_TEXT,
)
from tests.support.fakes.upstream import FakeUpstream
from tests.support.waiting import run_threads, wait_for

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]

BURST_REPLIES = 10


def test_a_reply_written_on_one_process_streams_live_through_the_other(
    clients: list[SiteClient], fake_upstream: FakeUpstream
) -> None:
    a, b = clients
    reply, url = a.ask("openai:oa-paced")
    views = {"b": PageView(PACED_TEXT), "a": PageView(PACED_TEXT), "a-then-b": PageView(PACED_TEXT)}

    def a_then_b() -> None:
        views["a-then-b"].read(a, url, limit=10)
        views["a-then-b"].finish(b, url)

    run_threads(
        [
            lambda: views["b"].finish(b, url),
            lambda: views["a"].finish(a, url),
            a_then_b,
        ]
    )
    upstream = fake_upstream.requests_for("oa-paced")[-1]
    for name, view in views.items():
        assert view.end is not None and view.end["status"] == "complete", name
        assert view.live_text == PACED_TEXT, name
    assert views["b"].arrivals[0] < (upstream.finished_writing or 0), "B streamed it live"
    assert views["a-then-b"].connections == 2
    assert b.http.get(f"/api/conversations/{a.conversation_of(reply['id'])}").json()["messages"][
        -1
    ]["content"] == (PACED_TEXT)


def test_readers_dropping_and_resuming_on_either_process_end_with_the_exact_text(
    clients: list[SiteClient],
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    reply, url = clients[0].ask("openai:oa-paced")
    views: list[PageView] = []

    def reader(plan: list[tuple[int, int, float]], delay: float) -> None:
        time.sleep(delay)
        view = PageView(PACED_TEXT)
        views.append(view)
        for which, limit, pause in plan:
            view.read(clients[which], url, limit=limit)
            if view.end is not None:
                return
            time.sleep(pause)
        view.finish(clients[1], url)

    targets: list[Callable[[], None]] = []
    for _ in range(8):
        plan = [(rng.randrange(2), rng.randint(1, 8), rng.uniform(0, 0.3)) for _ in range(40)]
        delay = rng.uniform(0, 2.5)
        targets.append(lambda p=plan, d=delay: reader(p, d))
    run_threads(targets)

    assert len(views) == 8
    for view in views:
        assert view.end is not None and view.end["status"] == "complete", f"seed {seed}"
        assert view.text == PACED_TEXT, f"seed {seed}"
    assert Message.objects.get(pk=reply["id"]).content == PACED_TEXT


def test_stop_through_the_other_process_after_a_quiet_spell_closes_the_upstream(
    clients: list[SiteClient], fake_upstream: FakeUpstream
) -> None:
    """The upstream falls silent for longer than the channel layer's blocking receive: the
    watchers stay connected, and a stop sent through the other process still reaches the
    generation, which closes the upstream connection."""
    a, b = clients
    reply, url = a.ask("openai:oa-pause")
    watchers = [PageView(PAUSE_BEFORE), PageView(PAUSE_BEFORE)]

    def stop_during_the_pause() -> None:
        wait_for(lambda: all(w.text for w in watchers), 10, "both watchers to see text")
        time.sleep(5.5)
        stopped = b.http.post(f"/api/replies/{reply['id']}/stop")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "stopped"

    run_threads(
        [
            lambda: watchers[0].finish(a, url),
            lambda: watchers[1].finish(b, url),
            stop_during_the_pause,
        ]
    )
    upstream = fake_upstream.wait_closed("oa-pause")
    assert upstream.finished_writing is None, "the upstream was closed before it finished"
    saved = Message.objects.get(pk=reply["id"])
    assert (saved.status, saved.content) == (Message.Status.STOPPED, PAUSE_BEFORE)
    for view in watchers:
        assert view.end is not None and view.end["status"] == "stopped"
        assert view.connections == 1, "the quiet spell did not break the stream"
        assert view.text == PAUSE_BEFORE


def test_killing_the_writing_process_interrupts_the_reply_for_watchers_elsewhere(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    # The default timings (CHAT_STALE_AFTER 6 s): how long it takes is measured by
    # bench/crash.py, not here.
    writer, survivor = start_site(), start_site()
    session = login_session(live_user)
    a, b = SiteClient(writer.url, session), SiteClient(survivor.url, session)
    reply, url = a.ask("openai:oa-slow")
    watcher = PageView(SLOW_TEXT)

    def kill_midway() -> None:
        wait_for(
            lambda: watcher.text and Message.objects.get(pk=reply["id"]).content,
            10,
            "text on the watcher and a checkpoint",
        )
        writer.stop(signal.SIGKILL)

    run_threads([lambda: watcher.finish(b, url), kill_midway])

    saved = Message.objects.get(pk=reply["id"])
    assert saved.status == Message.Status.INTERRUPTED
    assert saved.error_kind == "server_stopped"
    assert saved.content and SLOW_TEXT.startswith(saved.content)
    assert watcher.end is not None and watcher.end["status"] == "interrupted"
    assert watcher.end["error_kind"] == "server_stopped" and watcher.end["error"]
    assert watcher.text == saved.content

    late = PageView(SLOW_TEXT).finish(b, url)
    assert late.kinds == ["end"] and late.text == saved.content

    retry = b.http.post(f"/api/replies/{reply['id']}/regenerate")
    assert retry.status_code == 202, retry.text
    again = PageView(SLOW_TEXT).finish(b, retry.json()["stream_url"])
    assert again.end is not None and again.end["status"] == "complete"
    assert again.text == SLOW_TEXT
    a.close()
    b.close()


def test_bursts_from_many_replies_reach_their_listeners_in_the_other_process_exactly(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    """Bursts of deltas from many replies written on one process, each followed from the
    other with inboxes of 10 messages (CHAT_CHANNEL_CAPACITY): every page shows the exact
    text live, before `end` replaces it, never a wrong or duplicated piece, whether or not an
    inbox overflowed (a gap is caught up: tests/scaleout/test_publishing.py)."""
    writing, reading = (
        start_site(CHAT_CHANNEL_CAPACITY="10", CHAT_PING_INTERVAL="2") for _ in "ab"
    )
    session = login_session(live_user)
    writer, reader = SiteClient(writing.url, session), SiteClient(reading.url, session)
    views = [PageView(BURST_TEXT) for _ in range(BURST_REPLIES)]
    # Each reader joins right after sending, before its reply's burst begins.
    run_threads(
        [lambda v=v: v.finish(reader, writer.ask("openai:oa-burst")[1]) for v in views],
        timeout=90,
    )
    for view in views:
        assert view.end is not None and view.end["status"] == "complete"
        assert view.text == view.live_text == BURST_TEXT
    writer.close()
    reader.close()


def test_the_concurrent_reply_limit_counts_replies_on_every_process(
    clients: list[SiteClient], live_user: User
) -> None:
    a, b = clients
    UserLimits.objects.create(user=live_user, max_concurrent_replies=2)
    first, _ = a.ask("openai:oa-slow")
    b.ask("openai:oa-slow")
    for client in clients:
        conv = client.new_conversation("openai:oa-brief")
        refused = client.http.post(
            f"/api/conversations/{conv['id']}/messages", json={"content": "one more"}
        )
        assert refused.status_code == 429
        assert "2 replies being written" in refused.json()["error"]
    assert b.http.post(f"/api/replies/{first['id']}/stop").json()["status"] == "stopped"
    reply, _url = b.ask("openai:oa-brief")
    assert reply["status"] == "streaming"
    for reply_id in Message.objects.unfinished().values_list("pk", flat=True):
        a.http.post(f"/api/replies/{reply_id}/stop")
