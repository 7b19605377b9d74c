"""A user's own changes, for their other tabs and devices (GET /api/events, DESIGN.md).

Each change (a conversation created, renamed or deleted, a message written, a reply started
or ended) is a row (`UserEvent`) written in the same transaction as the change, and, once it
commits, a wake-up sent to the user's group on the channel layer (Redis with several
processes). An open event stream reads the user's rows after the last id it sent, each time
it is woken and at every ping (the safety net for a lost wake-up), so every process's tabs
see every change, in order, and a reconnecting tab continues from its Last-Event-ID. A row
lives EVENT_LIFETIME: a tab away longer than that reloads its lists instead.

Ids come from the database's sequence; two transactions can commit in the other order than
they took their ids, so a stream also reads the rows of the last few seconds again and
skips those it sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from chat import sse
from chat.models import Conversation, Message, UserEvent
from chat.replies.messages import LOCAL_CHANNEL_PREFIX, survive
from chat.server.process import in_request_thread
from chat.server.process import state as process_state

log = logging.getLogger(__name__)

EVENT_LIFETIME = timedelta(minutes=10)
PRUNE_EVERY = 200  # rows: one in so many writes deletes the expired ones
REREAD = timedelta(seconds=5)  # rows this recent are read again (commit order, above)
BATCH = 500


def group_name(user_id: int) -> str:
    return f"user-{user_id}"


# --- Writing events (sync, inside the change's transaction) ------------------------------


Event = tuple[str, dict[str, object]]  # (UserEvent.Kind, data)


def emit(user_id: int, *events: Event) -> None:
    """Write the user's events, in order, in one statement; one wake-up once they commit."""
    rows = UserEvent.objects.bulk_create(
        [UserEvent(user_id=user_id, kind=kind, data=data) for kind, data in events]
    )
    ids = [row.pk for row in rows if row.pk is not None]
    if ids and (min(ids) - 1) // PRUNE_EVERY != max(ids) // PRUNE_EVERY:  # a multiple passed
        UserEvent.objects.filter(created_at__lt=timezone.now() - EVENT_LIFETIME).delete()
    transaction.on_commit(lambda: _wake(user_id))


def _wake(user_id: int) -> None:
    """Tell the user's open streams, in every process, to read. A lost wake-up only delays
    the event to the stream's next ping. Sent from the event loop this database thread works
    for, without waiting: a thread held until Redis answered was a thread less for the
    heartbeats of running replies (200 replies at once, the sweeper took live ones for dead)."""
    loop = _serving_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_send_wake, user_id)
        return
    try:  # no loop (a management command, a test's client): send and wait
        async_to_sync(get_channel_layer().group_send)(group_name(user_id), {"type": "user.event"})
    except Exception:
        log.warning("could not wake the event streams of user %s", user_id, exc_info=True)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop whose work this thread does (asgiref's SyncToAsync records
    it on each of its threads), or the one running on this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    local = SyncToAsync.threadlocal
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() and not loop.is_closed() else None


def _send_wake(user_id: int) -> None:
    message = {"type": "user.event"}
    task = asyncio.ensure_future(
        survive(get_channel_layer().group_send(group_name(user_id), message))
    )
    process_state.wakeups.add(task)
    task.add_done_callback(process_state.wakeups.discard)


def conversation_event(conv: Conversation) -> Event:
    data = {"id": conv.pk, "title": conv.title, "updated_at": conv.updated_at.isoformat()}
    return UserEvent.Kind.CONVERSATION, data


def message_event(m: Message) -> Event:
    data: dict[str, object] = {
        "conversation": m.conversation_id,
        "id": m.pk,
        "role": m.role,
        "status": m.status,
        "parent": m.parent_id,
    }
    if not m.is_finished and m.role == Message.Role.ASSISTANT:
        data["stream_url"] = reverse("chat:reply-events", args=[m.pk])
    return UserEvent.Kind.MESSAGE, data


def conversation_changed(conv: Conversation) -> None:
    emit(conv.owner_id, conversation_event(conv))


def conversation_deleted(user_id: int, conversation_id: int) -> None:
    emit(user_id, (UserEvent.Kind.CONVERSATION_DELETED, {"id": conversation_id}))


def message_changed(m: Message, user_id: int) -> None:
    emit(user_id, message_event(m))


# --- Reading them (an open event stream) ---------------------------------------------------


def _latest_id(user_id: int) -> int:
    latest: int | None = UserEvent.objects.filter(user_id=user_id).aggregate(Max("id"))["id__max"]
    return latest or 0


def _rows_after(user_id: int, last: int, floor: int, skip: list[int]) -> list[tuple[int, str, Any]]:
    """The user's events after `last`, and the recent ones after `floor` (where this
    connection started) that were not sent yet."""
    recent = timezone.now() - REREAD
    rows = (
        UserEvent.objects.filter(user_id=user_id)
        .filter(Q(id__gt=last) | Q(created_at__gte=recent, id__gt=floor))
        .exclude(id__in=skip)
        .order_by("id")
        .values_list("id", "kind", "data")[:BATCH]
    )
    return list(rows)


class UserEventStream:
    """One open GET /api/events: everything after `last`, then each change as it comes."""

    def __init__(self, user_id: int, last_event_id: int | None) -> None:
        self.user_id = user_id
        self.last = last_event_id
        self.sent: dict[int, float] = {}  # ids sent lately (monotonic time), not sent again
        self.layer = get_channel_layer()
        self.floor = 0  # where this connection started: nothing at or before it is sent
        self.channel = ""
        self.joined = False
        self._receiving: asyncio.Future[Any] | None = None

    async def open(self) -> None:
        """Join the user's group and fix where the stream starts, before the response
        starts: what changes after the page learnt the stream was open is all sent."""
        self.channel = await self.layer.new_channel(LOCAL_CHANNEL_PREFIX)
        self.joined = await survive(self.layer.group_add(group_name(self.user_id), self.channel))
        if self.last is None:
            self.last = await in_request_thread(_latest_id)(self.user_id)
        self.floor = self.last

    async def events(self) -> AsyncIterator[bytes]:
        yield sse.retry(1000)
        closes_at = time.monotonic() + settings.CHAT_STREAM_MAX_AGE
        try:
            while (remaining := closes_at - time.monotonic()) > 0:
                for frame in await self._new_frames():
                    yield frame
                if not self.joined:
                    group = group_name(self.user_id)
                    self.joined = await survive(self.layer.group_add(group, self.channel))
                if not await self._woken(min(settings.CHAT_PING_INTERVAL, remaining)):
                    yield sse.PING
        finally:
            # Also on client disconnect (CancelledError).
            if self._receiving is not None:
                self._receiving.cancel()
                self._receiving.add_done_callback(_consume_result)
            if self.joined:
                group = group_name(self.user_id)
                await asyncio.shield(survive(self.layer.group_discard(group, self.channel)))

    async def _new_frames(self) -> list[bytes]:
        now = time.monotonic()
        self.sent = {pk: at for pk, at in self.sent.items() if now - at < 2 * REREAD.seconds}
        rows = await in_request_thread(_rows_after)(
            self.user_id, self.last or 0, self.floor, list(self.sent)
        )
        frames = []
        for pk, kind, data in rows:
            self.sent[pk] = now
            self.last = max(self.last or 0, pk)
            frames.append(sse.frame(kind, data, pk))
        return frames

    async def _woken(self, wait: float) -> bool:
        """Whether a wake-up came within `wait` seconds. The pending receive is kept across
        calls, never cancelled on a timeout (see chat/replies/listener.py)."""
        if self._receiving is None:
            self._receiving = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self._receiving}, timeout=wait)
        if not done:
            return False
        receiving, self._receiving = self._receiving, None
        try:
            receiving.result()
        except Exception:
            log.warning("channel layer receive failed", exc_info=True)
            await asyncio.sleep(0.5)  # a failing layer must not make the stream spin
            return False
        return True


def _consume_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
