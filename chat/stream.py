"""The event-stream endpoints: GET /api/replies/<id>/events (DESIGN.md, "Event stream") and
GET /api/events (a user's own changes). A reply's stream is usually answered before it gets
here (chat/server/eventstream.py); this view answers the rest, refusals included."""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _

from chat.access import get_reply_for_user
from chat.apiutil import ApiError, api, error
from chat.replies.listener import Listener
from chat.server.flow import Flow
from chat.server.process import in_request_thread, state
from chat.user_events import UserEventStream

log = logging.getLogger(__name__)

# Our ids are sequence numbers of one reply: never near this many digits. (int() refuses more
# than 4,300 digits with a ValueError.)
MAX_ID_DIGITS = 18


def last_event_id(request: HttpRequest) -> int | None:
    raw = (request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "").strip()
    # Our ids are ASCII digits. str.isdigit alone also accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        return None
    if len(raw) > MAX_ID_DIGITS:
        raise ApiError(_("The Last-Event-ID is not one this site sent."))
    return int(raw)


def take_stream_slot(user: Any, stream: object) -> None:
    """Count `stream` among the user's open event streams in this process (it leaves the
    count when it is gone), or refuse it past CHAT_MAX_STREAMS_PER_USER. Per process: with
    several processes a user can hold that many in each."""
    open_streams = state.streams.setdefault(user.pk, weakref.WeakSet())
    if len(open_streams) >= settings.CHAT_MAX_STREAMS_PER_USER:
        raise ApiError(
            _("Too many live connections are open for your account; close some tabs."), 429
        )
    open_streams.add(stream)


async def _closed_on_failure(events: AsyncIterator[bytes], what: object) -> AsyncIterator[bytes]:
    """An exception that escapes a streaming response leaves daphne's connection open and
    silent: the page would wait for ever. Ending the response instead makes the browser
    reconnect (with its Last-Event-ID), which picks up where the stream was."""
    try:
        async for chunk in events:
            yield chunk
    except Exception:
        log.exception("event stream of %s failed; closed for the page to reconnect", what)


@api("GET")
async def reply_events(request: HttpRequest, user: Any, pk: int) -> HttpResponseBase:
    if "text/event-stream" not in request.headers.get("Accept", ""):
        return error(_("This endpoint serves text/event-stream only."), 406)
    reply = await in_request_thread(get_reply_for_user)(user, pk, with_conversation=False)
    # Served by an ASGI server: its scope carries daphne's request for flow control.
    listener = Listener(reply, last_event_id(request), Flow(getattr(request, "scope", {})))
    take_stream_slot(user, listener)
    return _event_stream(listener.events())  # a failure ends it: see Listener.events


def _event_stream(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response


@api("GET")
async def user_events(request: HttpRequest, user: Any) -> HttpResponseBase:
    """GET /api/events: the user's own changes, for their other tabs (chat/user_events.py)."""
    if "text/event-stream" not in request.headers.get("Accept", ""):
        return error(_("This endpoint serves text/event-stream only."), 406)
    stream = UserEventStream(user.pk, last_event_id(request))
    take_stream_slot(user, stream)
    await stream.open()
    return _event_stream(_closed_on_failure(stream.events(), f"user {user.pk}'s events"))
