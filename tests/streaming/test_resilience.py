"""Replies survive readers that come and go, idle and long-lived streams, limits, a graceful
shutdown and a restart of the whole site. One daphne at a time, so these run on SQLite with
the in-memory channel layer as well as on PostgreSQL and Redis."""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from django.contrib.auth.models import User

from chat.models import Message, UserLimits
from tests.support.clients import PageView, SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.openai_scenarios import BRIEF_TEXT, IDLE_TEXT, PACED_TEXT, SLOW_TEXT
from tests.support.waiting import run_threads, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(d: Daphne, user: User) -> SiteClient:
    return SiteClient(d.url, login_session(user))


# --- Readers joining, dropping and coming back -----------------------------------------------


def test_readers_that_drop_and_come_back_at_random_moments_end_with_the_exact_text(
    site: SiteClient,
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    _reply, url = site.ask("openai:oa-paced")
    views: list[PageView] = []

    def steady() -> None:
        views.append(PageView(PACED_TEXT).finish(site, url))
        assert views[-1].live_text == PACED_TEXT, f"seed {seed}"

    def dropper(limits: list[int], pauses: list[float]) -> None:
        view = PageView(PACED_TEXT)
        for limit, pause in zip(limits, pauses, strict=True):
            view.read(site, url, limit=limit)
            if view.end is not None:
                break
            time.sleep(pause)
        views.append(view.finish(site, url))

    def joiner(delay: float) -> None:
        time.sleep(delay)
        views.append(PageView(PACED_TEXT).finish(site, url))

    targets: list[Callable[[], None]] = [steady]
    for _ in range(4):
        limits = [rng.randint(1, 6) for _ in range(30)]
        pauses = [rng.uniform(0, 0.3) for _ in range(30)]
        targets.append(lambda lim=limits, p=pauses: dropper(lim, p))
    delays = [rng.uniform(0, 3.5) for _ in range(3)]
    targets += [lambda d=d: joiner(d) for d in delays]
    run_threads(targets)

    assert len(views) == 8
    for view in views:
        assert view.end is not None
        assert (view.end["status"], view.text) == ("complete", PACED_TEXT), f"seed {seed}"
    assert site.reply(_reply["id"])["content"] == PACED_TEXT


def test_a_reader_arriving_after_the_end_gets_the_saved_reply_at_once(site: SiteClient) -> None:
    reply, url = site.ask("openai:oa-brief")
    PageView(BRIEF_TEXT).finish(site, url)
    late = PageView(BRIEF_TEXT)
    late.read(site, url)
    assert late.kinds == ["end"]
    assert (late.end or {})["status"] == "complete"
    assert late.text == BRIEF_TEXT == site.reply(reply["id"])["content"]


# --- Idle and long-lived streams ---------------------------------------------------------------


def test_an_idle_stream_carries_a_ping_comment_every_ping_interval(
    tuned: Daphne, tuned_site: SiteClient
) -> None:
    ping_interval = float(tuned.env["CHAT_PING_INTERVAL"])
    _reply, url = tuned_site.ask("openai:oa-idle")
    arrivals: list[tuple[float, bytes]] = []
    headers = {"Accept": "text/event-stream"}
    with tuned_site.http.stream("GET", url, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_raw():  # until the server closes it (CHAT_STREAM_MAX_AGE)
            arrivals.append((time.monotonic(), chunk))
    raw = b"".join(chunk for _, chunk in arrivals)
    assert raw.startswith(b"retry: 1000\n\n")
    blocks = raw.split(b"\n\n")
    assert blocks[-1] == b"", "the stream ends on a whole event"
    pings = [b for b in blocks if b.startswith(b":")]
    # The upstream is silent for 0.3 s, then 0.8 s between chunks: pings fill the silences.
    assert len(pings) >= 2 and set(pings) == {b": ping"}
    for block in blocks[1:-1]:
        assert block == b": ping" or block.startswith(b"id: "), block
    times = [t for t, _ in arrivals]
    assert max(b - a for a, b in itertools.pairwise(times)) < ping_interval + 0.7
    view = PageView(IDLE_TEXT).finish(tuned_site, url)
    assert view.text == IDLE_TEXT


def test_a_stream_is_closed_after_max_age_and_a_reconnect_continues_seamlessly(
    tuned: Daphne, tuned_site: SiteClient
) -> None:
    max_age = float(tuned.env["CHAT_STREAM_MAX_AGE"])
    reply, url = tuned_site.ask("openai:oa-paced")
    started = time.monotonic()
    first = PageView(PACED_TEXT)
    first.read(tuned_site, url)  # one connection, closed by the server before the end
    assert first.end is None
    assert time.monotonic() - started >= max_age - 0.1
    view = first.finish(tuned_site, url)
    assert view.connections >= 2
    assert view.end is not None and view.end["status"] == "complete"
    assert view.live_text == PACED_TEXT, "the deltas across connections made the whole text"
    assert tuned_site.reply(reply["id"])["content"] == PACED_TEXT


# --- Limits -----------------------------------------------------------------------------------


def post_message(client: SiteClient, text: str = "Hi") -> httpx.Response:
    conv = client.new_conversation("openai:oa-brief")
    return client.http.post(f"/api/conversations/{conv['id']}/messages", json={"content": text})


def test_a_user_over_the_concurrent_reply_limit_gets_429_until_a_reply_ends(
    site: SiteClient, live_user: User
) -> None:
    UserLimits.objects.create(user=live_user, max_concurrent_replies=1)
    reply, _url = site.ask("openai:oa-slow")
    refused = post_message(site)
    assert refused.status_code == 429
    assert "1 replies being written" in refused.json()["error"]
    stopped = site.http.post(f"/api/replies/{reply['id']}/stop")
    assert stopped.json()["status"] == "stopped"
    assert post_message(site).status_code == 202


def test_a_user_over_the_messages_per_minute_limit_gets_429(
    site: SiteClient, live_user: User
) -> None:
    UserLimits.objects.create(user=live_user, messages_per_minute=2)
    first = post_message(site)
    assert first.status_code == 202
    PageView(BRIEF_TEXT).finish(site, first.json()["stream_url"])
    assert post_message(site).status_code == 202
    refused = post_message(site)
    assert refused.status_code == 429
    assert "2 messages in the last minute" in refused.json()["error"]
    retry = site.http.post(f"/api/replies/{first.json()['reply']['id']}/regenerate")
    assert retry.status_code == 429


# --- Shutdown and restart ---------------------------------------------------------------------


def test_sigterm_lets_replies_finish_within_the_grace_period_and_interrupts_the_rest(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    grace = 2.0
    d = start_site(CHAT_SHUTDOWN_GRACE=str(grace))
    client = client_for(d, live_user)
    brief, brief_url = client.ask("openai:oa-brief")
    slow, slow_url = client.ask("openai:oa-slow")
    brief_view, slow_view = PageView(BRIEF_TEXT), PageView(SLOW_TEXT)
    ended_at: dict[str, float] = {}

    def watch(view: PageView, url: str, name: str) -> None:
        view.read(client, url)  # one connection: the process is going away
        ended_at[name] = time.monotonic()

    threads = [
        threading.Thread(target=watch, args=(brief_view, brief_url, "brief"), daemon=True),
        threading.Thread(target=watch, args=(slow_view, slow_url, "slow"), daemon=True),
    ]
    for t in threads:
        t.start()
    wait_for(lambda: brief_view.text and slow_view.text, 10, "both replies to start")
    assert brief_view.end is None, "the brief reply should still be running at SIGTERM"
    d.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()

    refused = post_message(client)
    assert refused.status_code == 503
    assert "restarting" in refused.json()["error"]

    for t in threads:
        t.join(grace + 15)
    assert brief_view.end is not None and slow_view.end is not None
    assert brief_view.end["status"] == "complete"
    assert brief_view.live_text == BRIEF_TEXT
    assert slow_view.end["status"] == "interrupted"
    assert slow_view.end["error"]
    assert ended_at["slow"] - signalled >= grace - 0.2, "the grace period was not given"
    saved = Message.objects.get(pk=slow["id"])
    assert saved.status == Message.Status.INTERRUPTED
    assert saved.content == slow_view.text
    assert saved.content and SLOW_TEXT.startswith(saved.content)
    assert Message.objects.get(pk=brief["id"]).content == BRIEF_TEXT
    assert d.process.wait(15) is not None
    client.close()


def test_a_reply_left_streaming_by_a_killed_site_is_interrupted_after_a_restart(
    start_site: Callable[..., Daphne], live_user: User
) -> None:
    stale_after = 2.0
    env = {"CHAT_STALE_AFTER": str(stale_after)}
    first = start_site(**env)
    client = client_for(first, live_user)
    reply, url = client.ask("openai:oa-slow")
    wait_for(lambda: Message.objects.get(pk=reply["id"]).content, 10, "a checkpoint of the text")
    first.stop(signal.SIGKILL)
    killed = time.monotonic()
    checkpoint = Message.objects.get(pk=reply["id"])
    assert checkpoint.status == Message.Status.STREAMING

    second = start_site(**env)
    client2 = client_for(second, live_user)
    client2._reply_conv[reply["id"]] = client.conversation_of(reply["id"])
    view = PageView(SLOW_TEXT)
    view.read(client2, url)  # waits on the new process until the sweeper ends the reply
    # CHAT_STALE_AFTER after the last heartbeat, plus one sweep, plus the new process's start.
    assert time.monotonic() - killed < stale_after + 0.5 + 5
    assert view.end is not None and view.end["status"] == "interrupted"
    assert view.text == checkpoint.content
    saved = client2.reply(reply["id"])
    assert (saved["status"], saved["content"]) == ("interrupted", checkpoint.content)
    assert SLOW_TEXT.startswith(saved["content"])

    retry = client2.http.post(f"/api/replies/{reply['id']}/regenerate")
    assert retry.status_code == 202, retry.text
    again = PageView(SLOW_TEXT).finish(client2, retry.json()["stream_url"])
    assert again.end is not None and again.end["status"] == "complete"
    assert again.text == SLOW_TEXT
    client.close()
    client2.close()
