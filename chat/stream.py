"""The event-stream endpoint: GET /api/replies/<id>/events (DESIGN.md, "Event stream")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _

from chat.access import get_reply_for_user
from chat.apiutil import api, error
from chat.replies.listener import Listener
from chat.server.flow import Flow
from chat.server.process import in_request_thread


def _last_event_id(request: HttpRequest) -> int | None:
    raw = (request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "").strip()
    # Our ids are ASCII digits. str.isdigit alone also accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


@api("GET")
async def reply_events(request: HttpRequest, user: Any, pk: int) -> HttpResponseBase:
    if "text/event-stream" not in request.headers.get("Accept", ""):
        return error(_("This endpoint serves text/event-stream only."), 406)
    reply = await in_request_thread(get_reply_for_user)(user, pk)
    # Served by an ASGI server: its scope carries daphne's request for flow control.
    listener = Listener(reply, _last_event_id(request), Flow(getattr(request, "scope", {})))
    response = StreamingHttpResponse(listener.events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
