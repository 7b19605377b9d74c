"""One task per process saves the partial text of all its running replies, and their heartbeat.

Every CHAT_CHECKPOINT_INTERVAL, replies whose text grew since their last save are saved (text,
sequence number, heartbeat); replies that stayed quiet get only their heartbeat, at least every
third of CHAT_STALE_AFTER so that the sweeper never takes them for dead. All of it is one call
on a database thread and one transaction per tick, whatever the number of replies: a task and
a write per reply per tick cost the memory of a task per reply and, with 2,000 quiet replies
open, 200 heartbeat UPDATEs a second (bench/).

A reply that turns out to be ended already (stopped through a process that could not reach its
generation, swept, or deleted) has its generation stopped, through its feed: the checkpointer
knows feeds, not generations.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from chat.models import Message
from chat.replies import store
from chat.replies.feed import Feed
from chat.server.process import in_heartbeat_thread, state

log = logging.getLogger(__name__)


@dataclass
class Watched:
    feed: Feed
    saved_seq: int
    saved_at: float


def heartbeat_interval() -> float:
    """How often a running reply's heartbeat is saved, at the longest."""
    return max(settings.CHAT_CHECKPOINT_INTERVAL, settings.CHAT_STALE_AFTER / 3)


def seems_dead(reply: Message, now: datetime) -> bool:
    """Whether a reply's generation has missed a heartbeat, by more than a checkpoint interval
    of slack: its process is gone, and a Stop need not wait for an answer from it (with the
    defaults, a heartbeat over 3 s old: Stop answers within 2 s from a second after a crash)."""
    beat = reply.heartbeat_at or reply.updated_at
    age = (now - beat).total_seconds()
    return age > heartbeat_interval() + settings.CHAT_CHECKPOINT_INTERVAL


def watch(feed: Feed) -> None:
    state.checkpoints[feed.reply_id] = Watched(feed, 0, time.monotonic())
    if state.checkpointer is None or state.checkpointer.done():
        loop = asyncio.get_running_loop()
        state.checkpointer = loop.create_task(_run(), context=contextvars.Context())


def forget(reply_id: int) -> None:
    state.checkpoints.pop(reply_id, None)


async def _run() -> None:
    while state.checkpoints:
        await asyncio.sleep(settings.CHAT_CHECKPOINT_INTERVAL)
        try:
            await save_once()
        except Exception:
            log.exception("checkpoint failed; trying again at the next interval")


async def save_once() -> None:
    now = time.monotonic()
    heartbeat_every = heartbeat_interval()
    grown: list[store.Progress] = []
    quiet: list[int] = []
    due: list[tuple[Watched, int]] = []  # with the sequence number saved
    for reply_id, watched in state.checkpoints.items():
        feed = watched.feed
        if feed.seq != watched.saved_seq:
            grown.append(store.Progress(reply_id, feed.text(), feed.reasoning_text(), feed.seq))
        elif now - watched.saved_at >= heartbeat_every:
            quiet.append(reply_id)
        else:
            continue
        due.append((watched, feed.seq))
    if not due:
        return
    ended = await in_heartbeat_thread(store.save_progress)(grown, quiet)
    for watched, seq in due:
        reply_id = watched.feed.reply_id
        if state.checkpoints.get(reply_id) is not watched:
            continue  # finished meanwhile
        watched.saved_seq, watched.saved_at = seq, now
        if reply_id in ended:
            watched.feed.request_stop()
