"""Process-level plumbing of replies, shared by generations, listeners, the sweeper and the
shutdown: the running generation tasks, their database threads, channel names, the `end`
announcement, and whether this process is shutting down."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

# Strong references to running generations: asyncio keeps only weak ones.
_running: set[asyncio.Task[None]] = set()

# Generations' database work runs on threads of its own. Outside a request, asgiref runs it
# all on one shared thread, whose queue delayed heartbeats by seconds under a hundred
# concurrent replies (and the sweeper then took live replies for dead ones). A checkpoint
# racing the final save is harmless: every write of a reply is conditional (chat.store).
_DB_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="generation-db")
T = TypeVar("T")


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    # The settings, not `connection.vendor`: on the event loop, each generation's context would
    # build a DatabaseWrapper of its own just to answer (about 4 KB per running reply).
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return sync_to_async(_kept_connection(func), thread_sensitive=False, executor=_DB_THREADS)
    # PostgreSQL: closing after each call returns the connection to the pool, cheaply.
    return database_sync_to_async(func, thread_sensitive=False, executor=_DB_THREADS)


def _kept_connection(func: Callable[..., T]) -> Callable[..., T]:
    """On SQLite each thread keeps its connection for its life (these threads live as long as
    the process): opening one costs about 2.5 ms of CPU (connect, PRAGMAs, Django's SQL
    functions), which made a checkpoint cost 2.7 ms instead of 0.4 (measured in bench/).
    A connection that broke since its last use is replaced, once."""

    @functools.wraps(func)
    def run(*args: object, **kwargs: object) -> T:
        try:
            return func(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if connection.in_atomic_block:
                raise
            connection.close()
            return func(*args, **kwargs)

    return run


# Every process-local channel (generations' and listeners') takes the same prefix:
# channels-redis reads a process's local channels through one receive lock, blocking on the
# Redis key that the channel's prefix names for up to 5 s; a channel with another prefix has a
# key of its own and waits behind that lock, so its messages arrive seconds late.
LOCAL_CHANNEL_PREFIX = "specific"


def group_name(reply_id: int) -> str:
    return f"reply-{reply_id}"


async def new_worker_channel() -> str:
    return await get_channel_layer().new_channel(LOCAL_CHANNEL_PREFIX)


def start_task(coro: Coroutine[object, object, None]) -> asyncio.Task[None]:
    """Run a reply's generation as a task of this process. A fresh context detaches it from
    the request (whose thread-sensitive executor ends with the request; the task must not)."""
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


def layer_is_shared() -> bool:
    """Whether other processes can listen on this process's channel layer (Redis): only then
    do generations publish their text to it (listeners in this process read the feed)."""
    return not isinstance(get_channel_layer(), InMemoryChannelLayer)


def running_count() -> int:
    return len(_running)


class _ProcessState:
    draining = False  # set once, on shutdown: this process takes no new replies


def start_draining() -> None:
    _ProcessState.draining = True


def is_draining() -> bool:
    return _ProcessState.draining


async def shutdown(grace: float) -> None:
    """Let generations finish for `grace` seconds, then interrupt them (saving their text)."""
    start_draining()
    if not _running:
        return
    _done, pending = await asyncio.wait(set(_running), timeout=grace)
    for task in pending:
        task.cancel("shutdown")
    if pending:
        await asyncio.wait(pending, timeout=10)


async def announce_end(reply_id: int, end: dict[str, object]) -> None:
    """Send a reply's `reply.end` message (store.end_message) to its listeners in every process."""
    await get_channel_layer().group_send(group_name(reply_id), end)
