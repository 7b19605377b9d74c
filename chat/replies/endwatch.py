"""The database as the safety net for `end`, for listeners in another process than their
reply's generation.

Such a listener hears of the end through the channel layer, and a layer can lose a message:
a full channel, a connection that broke, a pool exhausted in a burst. Whatever it loses, the
reply's end is in the database. One task per process asks, every CHAT_END_CHECK_INTERVAL
seconds, which of the replies its remote listeners follow have ended (or are gone), in one
query for all of them, and wakes their listeners: a watcher gets its `end` within that
interval of the reply's end, whatever the layer did, for the cost of one query per process
per interval instead of one per listener.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging

from django.conf import settings

from chat.replies import store
from chat.server.process import in_db_thread, state

log = logging.getLogger(__name__)


def watch(reply_id: int) -> asyncio.Future[None]:
    """A future that completes once the reply is found ended in the database."""
    ended = asyncio.get_running_loop().create_future()
    state.end_watches.setdefault(reply_id, set()).add(ended)
    if state.end_watcher is None or state.end_watcher.done():
        state.end_watcher = asyncio.get_running_loop().create_task(
            _run(), context=contextvars.Context()
        )
    return ended


def unwatch(reply_id: int, ended: asyncio.Future[None]) -> None:
    watches = state.end_watches.get(reply_id)
    if watches is not None:
        watches.discard(ended)
        if not watches:
            del state.end_watches[reply_id]


async def _run() -> None:
    while state.end_watches:
        await asyncio.sleep(settings.CHAT_END_CHECK_INTERVAL)
        try:
            await check_once()
        except Exception:
            log.warning("checking for ended replies failed; trying again", exc_info=True)


async def check_once() -> None:
    ids = list(state.end_watches)
    if not ids:
        return
    for reply_id in await in_db_thread(store.ended_among)(ids):
        for ended in state.end_watches.pop(reply_id, ()):
            if not ended.done():
                ended.set_result(None)
