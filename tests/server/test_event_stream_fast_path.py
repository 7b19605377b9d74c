"""A reply's event stream is answered below Django (chat/server/eventstream.py) only when all
is in order; every other request goes on to Django's view, which answers it as it always did
(its refusals are tested through daphne in tests/streaming/). Here the middleware is called
in-process, with a stand-in for the rest of the site that records what reached it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from chat.models import Conversation, Message
from chat.replies import store
from chat.replies.feed import Feed
from chat.replies.generation import Generation
from chat.server.eventstream import ReplyEventStreams
from tests.support.clients import login_session
from tests.support.rows import finished_exchange, streaming_reply

pytestmark = pytest.mark.django_db(transaction=True)


class Site:
    """The rest of the ASGI application: records each request that reaches it."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def finished_reply(owner: User) -> Message:
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    return finished_exchange(conv, "你好")[1]


def get(pk: int, **headers: str) -> dict[str, Any]:
    defaults = {"host": "127.0.0.1", "accept": "text/event-stream"}
    merged = {**defaults, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return {
        "type": "http",
        "method": "GET",
        "path": f"/api/replies/{pk}/events",
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "headers": [(k.encode(), v.encode()) for k, v in merged.items() if v],
    }


def call(scope: dict[str, Any], on_body: Any = None) -> tuple[Site, list[dict[str, Any]]]:
    """Run the middleware on `scope`; `on_body(message)` sees each body message sent."""
    site = Site()
    sent: list[dict[str, Any]] = []
    received: list[bool] = []

    async def receive() -> dict[str, Any]:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client stays until the stream ends
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if on_body is not None and message["type"] == "http.response.body":
            on_body(message)

    asyncio.run(asyncio.wait_for(ReplyEventStreams(site)(scope, receive, send), 10))
    return site, sent


def test_a_signed_in_owner_gets_the_stream_without_django() -> None:
    owner = User.objects.create_user("dora")
    reply = finished_reply(owner)
    site, sent = call(get(reply.pk, cookie=f"sessionid={login_session(owner)}"))

    assert site.reached == []
    assert sent[0]["status"] == 200
    headers = dict(sent[0]["headers"])
    assert headers[b"Content-Type"] == b"text/event-stream"
    assert headers[b"X-Content-Type-Options"] == b"nosniff"
    assert headers[b"X-Frame-Options"] == b"DENY"
    assert b"Content-Security-Policy" in headers
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body.startswith(b"retry: 1000\n\n") and b"event: end" in body
    assert "你好".encode() in body
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_everything_else_goes_to_djangos_view() -> None:
    owner, other = User.objects.create_user("dora"), User.objects.create_user("eve")
    reply = finished_reply(owner)
    mine, theirs = login_session(owner), login_session(other)
    refused = {
        "no session": get(reply.pk),
        "an unknown session": get(reply.pk, cookie="sessionid=not-a-session"),
        "another user's reply": get(reply.pk, cookie=f"sessionid={theirs}"),
        "a missing reply": get(reply.pk + 1000, cookie=f"sessionid={mine}"),
        "no event-stream Accept": get(reply.pk, cookie=f"sessionid={mine}", accept="text/html"),
        "a host not allowed": get(reply.pk, cookie=f"sessionid={mine}", host="evil.example"),
        "a Last-Event-ID too long": get(
            reply.pk, cookie=f"sessionid={mine}", last_event_id="9" * 40
        ),
    }
    for why, scope in refused.items():
        site, sent = call(scope)
        assert site.reached == [scope["path"]], why
        assert sent[0]["status"] == 418, why


def test_a_session_whose_password_changed_goes_to_django() -> None:
    owner = User.objects.create_user("dora", password="first-passphrase-1")
    reply = finished_reply(owner)
    key = login_session(owner)
    owner.set_password("second-passphrase-2")  # the session's hash no longer verifies
    owner.save()
    site, _sent = call(get(reply.pk, cookie=f"sessionid={key}"))
    assert site.reached == [f"/api/replies/{reply.pk}/events"]


@pytest.mark.parametrize(
    "changed",
    [{"SECURE_SSL_REDIRECT": True}, {"CHAT_FAST_EVENT_STREAMS": False}],
    ids=["plain HTTP when the site redirects to HTTPS", "the switch off"],
)
def test_with_these_settings_the_stream_goes_to_django(changed: dict[str, object]) -> None:
    owner = User.objects.create_user("dora")
    reply = finished_reply(owner)
    with override_settings(**changed):
        site, _sent = call(get(reply.pk, cookie=f"sessionid={login_session(owner)}"))
    assert site.reached == [f"/api/replies/{reply.pk}/events"]


def test_a_reply_written_here_streams_to_its_owner_and_to_nobody_else() -> None:
    """While its generation runs in this process, the reply's feed says whose it is: the
    owner's stream follows the feed, and anyone else's request goes on to Django's view (404),
    as for a reply that is not theirs."""
    owner, other = User.objects.create_user("dora"), User.objects.create_user("eve")
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    reply = streaming_reply(conv)
    feed = Feed(reply.pk, owner.pk).open()
    feed.append("你好")
    try:
        site, _sent = call(get(reply.pk, cookie=f"sessionid={login_session(other)}"))
        assert site.reached == [f"/api/replies/{reply.pk}/events"]

        def end_after_the_text(message: dict[str, Any]) -> None:
            if "你好".encode() in message["body"] and not feed.closed:
                Message.objects.filter(pk=reply.pk).update(status="complete", content="你好")
                feed.close(store.end_message(Message.objects.get(pk=reply.pk)))

        site, sent = call(
            get(reply.pk, cookie=f"sessionid={login_session(owner)}"), end_after_the_text
        )
    finally:
        feed.abandon()
    assert site.reached == []
    assert sent[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert b"event: snapshot" in body and b"event: end" in body


def test_a_generation_knows_its_owner_only_from_a_conversation_at_hand() -> None:
    """The feed's owner comes from the conversation the reply was made with; a reply loaded
    without it leaves the owner unknown (streams then read the row) rather than reading the
    conversation on the event loop."""
    owner = User.objects.create_user("dora")
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    reply = streaming_reply(conv)  # made with its conversation, as a send makes it
    for made, expected in ((reply, owner.pk), (Message.objects.get(pk=reply.pk), None)):
        generation = Generation(made, "channel")
        try:
            assert generation.feed.owner_id == expected
        finally:
            generation.feed.abandon()
