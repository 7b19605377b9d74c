"""Two hundred concurrent replies from fifty users across two daphne processes on PostgreSQL
and Redis: none lost, corrupted or mixed up, every one in a terminal status.

Needs DATABASE_URL and REDIS_URL, like the other tests here (scripts/test.sh runs it in its second
pass and deselects it, `-m "not scaleout"`, on SQLite).
"""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from chat.providers.sse import SSEParser
from tests.support.clients import CSRF_TOKEN, PageView, login_session
from tests.support.daphne import Daphne
from tests.support.events import Event
from tests.support.fakes.openai_scenarios import echo_text

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]

USERS = 50
REPLIES_PER_USER = 4
POSTS_AT_ONCE = 25  # requests in flight; the replies themselves all run together


def user_headers(base: str, session: str) -> dict[str, str]:
    """One user's login and CSRF token, sent with each request: the clients are shared."""
    return {
        "Cookie": f"sessionid={session}; csrftoken={CSRF_TOKEN}",
        "X-CSRFToken": CSRF_TOKEN,
        "Referer": base + "/",
    }


async def read_reply(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], view: PageView
) -> None:
    """Read a reply's events until `end`, reconnecting with Last-Event-ID as a browser does."""
    headers = {**headers, "Accept": "text/event-stream"}
    for _ in range(20):
        if view.last_event_id is not None:
            headers["Last-Event-ID"] = view.last_event_id
        async with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            parser = SSEParser()
            async for chunk in response.aiter_raw():
                for sse in parser.feed(chunk):
                    view.apply(Event.read(sse))
        if view.end is not None:
            return
    raise AssertionError(f"no end for {url}")


async def many_replies(
    sites: list[str], sessions: list[str], conversations: list[list[int]]
) -> dict[int, tuple[str, PageView]]:
    """Every user sends all their messages at once, alternating processes, and reads each
    reply through the other process. Returns reply id -> (message, what the reader saw)."""
    results: dict[int, tuple[str, PageView]] = {}
    posting = asyncio.Semaphore(POSTS_AT_ONCE)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=POSTS_AT_ONCE)
    clients = [httpx.AsyncClient(base_url=s, timeout=60, limits=limits) for s in sites]

    async def one(session: str, conv: int, n: int, text: str) -> None:
        post, read = n % 2, (n + 1) % 2
        async with posting:
            sent = await clients[post].post(
                f"/api/conversations/{conv}/messages",
                json={"content": text},
                headers=user_headers(sites[post], session),
            )
        assert sent.status_code == 202, sent.text
        view = PageView(echo_text(text))
        url = sent.json()["stream_url"]
        await read_reply(clients[read], url, user_headers(sites[read], session), view)
        results[sent.json()["reply"]["id"]] = (text, view)

    try:
        async with asyncio.TaskGroup() as group:
            for u, convs in enumerate(conversations):
                for n, conv in enumerate(convs):
                    group.create_task(one(sessions[u], conv, u + n, f"u{u}-m{n}"))
    finally:
        for c in clients:
            await c.aclose()
    return results


def test_two_hundred_concurrent_replies_from_fifty_users_lose_and_mix_up_nothing(
    pair: tuple[Daphne, Daphne],
) -> None:
    users = User.objects.bulk_create(User(username=f"load{u}") for u in range(USERS))
    sessions = [login_session(user) for user in users]
    convs = Conversation.objects.bulk_create(
        Conversation(owner=user, model="openai:oa-echo")
        for user in users
        for _ in range(REPLIES_PER_USER)
    )
    by_user = [
        [c.pk for c in convs[u * REPLIES_PER_USER : (u + 1) * REPLIES_PER_USER]]
        for u in range(USERS)
    ]
    results = asyncio.run(many_replies([d.url for d in pair], sessions, by_user))

    assert len(results) == USERS * REPLIES_PER_USER
    saved = {m.pk: m for m in Message.objects.filter(pk__in=results)}
    for reply_id, (text, view) in results.items():
        expected = echo_text(text)
        assert view.end is not None and view.end["status"] == "complete", (text, view.end)
        assert view.text == expected
        assert (saved[reply_id].status, saved[reply_id].content) == ("complete", expected)
    assert not Message.objects.unfinished().exists()


async def watch_from_the_other_process(
    sites: list[str], session: str, conversations: list[int]
) -> dict[int, tuple[str, PageView]]:
    """Every message posted at once, alternating processes, each reply watched through the
    other process from the moment its POST is answered, as a page would."""
    results: dict[int, tuple[str, PageView]] = {}
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    clients = [httpx.AsyncClient(base_url=s, timeout=90, limits=limits) for s in sites]

    async def one(n: int, conv: int) -> None:
        post, watch = n % 2, (n + 1) % 2
        text = f"burst-{n}"
        sent = await clients[post].post(
            f"/api/conversations/{conv}/messages",
            json={"content": text},
            headers=user_headers(sites[post], session),
        )
        assert sent.status_code == 202, sent.text
        view = PageView(echo_text(text))
        url = sent.json()["stream_url"]
        # A silent stream (no event, no ping, no close) would hang here: bounded, so it fails.
        await asyncio.wait_for(
            read_reply(clients[watch], url, user_headers(sites[watch], session), view), 120
        )
        results[sent.json()["reply"]["id"]] = (text, view)

    try:
        async with asyncio.TaskGroup() as group:
            for n, conv in enumerate(conversations):
                group.create_task(one(n, conv))
    finally:
        for c in clients:
            await c.aclose()
    return results


def test_watchers_in_the_other_process_hear_every_end_when_the_layer_fails(
    postgres_and_redis: None, daphne_factory: type[Daphne], live_user: User
) -> None:
    """A Redis pool of two connections that waits 10 ms for one: under a burst, channel-layer
    calls fail (as they did when the pool refused connections past 100). Every watcher still
    gets the exact text and its end: lost joins are tried again, lost syncs asked again, and
    a lost end is read from the database."""
    env = {
        "CHAT_REDIS_CONNECTIONS": "2",
        "CHAT_REDIS_POOL_TIMEOUT": "0.01",
        "CHAT_MAX_CONCURRENT_REPLIES": "100",
        "CHAT_FIRST_BYTE_TIMEOUT": "30",
        "CHAT_IDLE_TIMEOUT": "30",
    }
    pair = [daphne_factory(env=env), daphne_factory(env=env)]
    try:
        convs = Conversation.objects.bulk_create(
            Conversation(owner=live_user, model="openai:oa-echo") for _ in range(60)
        )
        session = login_session(live_user)
        results = asyncio.run(
            watch_from_the_other_process([d.url for d in pair], session, [c.pk for c in convs])
        )
    finally:
        for d in pair:
            d.stop(signal.SIGINT, timeout=15)

    assert len(results) == 60
    saved = {m.pk: m for m in Message.objects.filter(pk__in=results)}
    for reply_id, (text, view) in results.items():
        assert view.end is not None and view.end["status"] == "complete", (text, view.end)
        assert view.text == echo_text(text) == saved[reply_id].content
    # The layer did fail, so the ways around it were taken.
    assert "channel layer call failed" in pair[0].logs() + pair[1].logs()
