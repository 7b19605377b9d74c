"""Ends replies whose generation is gone (its process was killed or the site restarted).

Every process runs the sweep: a reply still unfinished whose heartbeat is older than
CHAT_STALE_AFTER seconds becomes `interrupted` with its last checkpointed text, and its
listeners get `end`; a reply whose generation runs in the sweeping process is left alone.
Heartbeats come with checkpoints (see chat/replies/checkpoints.py).
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from chat.models import Message
from chat.replies import store
from chat.replies.messages import announce_end
from chat.replies.outcome import SERVER_STOPPED
from chat.server import renderer
from chat.server.process import InThread, in_db_thread, state

log = logging.getLogger(__name__)


async def end_from_checkpoint(
    reply_id: int,
    status: Message.Status,
    error: str = "",
    error_kind: str = "",
    in_thread: InThread = in_db_thread,
) -> Message | None:
    """End an unfinished reply from its last checkpoint, its text rendered, and tell its
    listeners; None if it had ended already. `in_thread`: in_request_thread from a request."""
    reply = await in_thread(store.unfinished_reply)(reply_id)
    if reply is None:
        return None
    html = await renderer.render(reply.content)
    ended = await in_thread(store.end_unfinished)(reply, status, error, html, error_kind)
    if ended is not None:
        await announce_end(ended.pk, store.end_message(ended))
    return ended


async def sweep_once() -> int:
    """End the stale replies, except those this process is generating: they are alive, however
    late their heartbeat (a heartbeat is how other processes tell)."""
    ended = 0
    for reply_id in await in_db_thread(store.stale_replies)(settings.CHAT_STALE_AFTER):
        if reply_id in state.feeds:
            continue
        reply = await end_from_checkpoint(
            reply_id, Message.Status.INTERRUPTED, SERVER_STOPPED, "server_stopped"
        )
        if reply is not None:
            log.warning("reply %s interrupted: its generation stopped answering", reply_id)
            ended += 1
    return ended


async def sweep_forever() -> None:
    interval = max(0.5, settings.CHAT_STALE_AFTER / 6)
    while True:
        try:
            await sweep_once()
        except Exception:
            log.exception("sweep failed; trying again later")
        await asyncio.sleep(interval)
