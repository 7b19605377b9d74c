"""Ends replies whose generation is gone (its process was killed or the site restarted).

Every process runs the sweep: a reply still unfinished whose heartbeat is older than
CHAT_STALE_AFTER seconds becomes `interrupted` with its last checkpointed text, and its
listeners get `end`. Heartbeats come with checkpoints (see chat/checkpoints.py).
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from chat import store
from chat.models import Message
from chat.runtime import announce_end

log = logging.getLogger(__name__)

INTERRUPTED_ERROR = (
    "The server writing this reply stopped before it was finished; the text saved up to then "
    "is kept. You can retry."
)


async def sweep_once() -> int:
    ended = 0
    for reply_id in await database_sync_to_async(store.stale_replies)(settings.CHAT_STALE_AFTER):
        reply = await database_sync_to_async(store.end_unfinished)(
            reply_id, Message.Status.INTERRUPTED, INTERRUPTED_ERROR
        )
        if reply is not None:
            log.warning("reply %s interrupted: its generation stopped answering", reply_id)
            await announce_end(reply.pk, store.end_message(reply))
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
