"""GET /api/replies/<id>/events, served below Django's request handling when it can be.

A reply's event stream is the request every reply needs and the one that stays open, so
`ReplyEventStreams` (an ASGI middleware, chatsite/asgi.py) answers it itself when everything
is in order: a GET that accepts text/event-stream, from an allowed host, over HTTPS when the
site redirects to it, with a valid Last-Event-ID and a session cookie whose user is signed in
(the session's hash checked against the user's, as Django checks it), for a reply of that
user's, with a stream slot free. The session, the user and the reply are read in one thread
hop (a reply whose generation runs in this process is not read: its feed knows whose it
is); the response carries the headers Django's middleware would add (computed by those
middleware, `_headers`), and the text is the listener's (chat/replies/listener.py), in the
language LocaleMiddleware would choose. Any other request (no session, another user's id, a
wrong header, a limit reached) goes on to Django's view (chat/stream.py), which answers it as
always: this path writes no error of its own. CHAT_FAST_EVENT_STREAMS=false sends every
request to Django.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import re
from collections.abc import AsyncIterator
from importlib import import_module
from typing import Any

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.middleware import clickjacking, locale, security
from django.utils import translation

from chat.access import get_reply_for_user
from chat.accounts import signed_in_user
from chat.apiutil import ApiError
from chat.models import Message
from chat.replies.feed import local_feed
from chat.replies.listener import Listener
from chat.server.flow import Flow
from chat.server.process import in_request_thread
from chat.stream import last_event_id, take_stream_slot

log = logging.getLogger(__name__)

STREAMING = Message.Status.STREAMING
EVENTS_PATH = re.compile(r"/api/replies/([0-9]{1,18})/events")


class ReplyEventStreams:
    def __init__(self, app: Any) -> None:
        self.app = app
        # Django's middleware whose hooks give an event stream its headers, innermost first
        # (the order in which they see a response); the others add nothing to a GET's stream.
        self.security = security.SecurityMiddleware(_no_view)
        self.response_hooks = (
            clickjacking.XFrameOptionsMiddleware(_no_view),
            locale.LocaleMiddleware(_no_view),
            SessionMiddleware(_no_view),
            CSPMiddleware(_no_view),
            self.security,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope.get("root_path")
            and (match := EVENTS_PATH.fullmatch(scope["path"]))
            and settings.CHAT_FAST_EVENT_STREAMS
        ):
            events = await self._open(scope, int(match[1]), send)
            if events is not None:
                await _serve(events, receive, send)
                return
        await self.app(scope, receive, send)

    async def _open(self, scope: dict[str, Any], pk: int, send: Any) -> AsyncIterator[bytes] | None:
        """Send the response's start and return the stream's bytes; None (nothing sent) for
        Django to answer. Neither the request nor the headers are kept: of them, only the
        listener lives as long as the stream."""
        request = ASGIRequest(scope, io.BytesIO())
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
        except DisallowedHost:
            return None
        if self.security.process_request(request) is not None:  # a redirect to HTTPS
            return None
        if "text/event-stream" not in request.headers.get("Accept", ""):
            return None
        try:
            last = last_event_id(request)
        except ApiError:
            return None
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key:
            return None
        feed = local_feed(pk)
        owner = feed.owner_id if feed is not None and not feed.closed else None
        found = await in_request_thread(_signed_in_reply)(key, pk, owner)
        if found is None:
            return None
        request.session, request.user, reply = found
        language = translation.get_language_from_request(request)
        listener = Listener(reply, last, Flow(scope), language)
        try:
            take_stream_slot(request.user, listener)
        except ApiError:
            return None
        # In a copy of the task's context: the open stream's task keeps no translation state.
        headers = contextvars.copy_context().run(self._headers, request, language)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        return listener.events()

    def _headers(self, request: HttpRequest, language: str) -> list[tuple[bytes, bytes]]:
        """The headers Django's view and middleware give an event stream (chat/stream.py)."""
        translation.activate(language)  # as LocaleMiddleware does (Content-Language)
        response: Any = StreamingHttpResponse((), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        for middleware in self.response_hooks:
            response = middleware.process_response(request, response)
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]


def _no_view(request: HttpRequest) -> Any:
    raise AssertionError("only the middleware's request and response hooks are used")


def _signed_in_reply(key: str, pk: int, owner: int | None) -> tuple[Any, Any, Message] | None:
    """The session, its user and their reply `pk`; None unless the session is signed in and
    verified with the current secret (Django itself handles the rest: an old secret, a
    session to end) and the reply is that user's.

    `owner`: whose reply it is, when its generation runs in this process (its feed knows). The
    reply is then being written, and nothing of its row is read: the listener follows the
    feed, and reads the row only if the feed closes without an end. Reading it took 0.38 ms
    of the 0.64 this lookup cost, on the way to the first token."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = signed_in_user(session)
    if user is None:
        return None
    if owner is not None:
        if owner != user.pk:
            return None  # Django's view answers it (404), as for any reply not the user's
        return session, user, Message(pk=pk, role=Message.Role.ASSISTANT, status=STREAMING)
    try:
        return session, user, get_reply_for_user(user, pk, with_conversation=False)
    except Http404:
        return None


async def _serve(events: AsyncIterator[bytes], receive: Any, send: Any) -> None:
    """Send the stream's body, on the request's own task, until it ends or the client goes
    away: the task that waits for the disconnect then cancels the writing. (Writing on a task
    of its own too cost a task per open stream.)"""
    writing = asyncio.current_task()
    assert writing is not None
    ended = False

    def client_left(_gone: object) -> None:
        if not ended:
            writing.cancel()

    gone = asyncio.ensure_future(_disconnected(receive))
    gone.add_done_callback(client_left)
    try:
        await _write(events, send)
    except asyncio.CancelledError:
        if not gone.done() or writing.uncancel():  # cancelled from outside (shutdown): passed on
            raise
    except Exception as failure:
        log.warning("event stream ended by %r", failure)  # e.g. the connection broke
    finally:
        ended = True
        gone.cancel()
        if gone.done() and not gone.cancelled() and (lost := gone.exception()) is not None:
            log.warning("event stream ended by %r", lost)


async def _write(events: AsyncIterator[bytes], send: Any) -> None:
    try:
        async for chunk in events:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
