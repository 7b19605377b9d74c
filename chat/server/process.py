"""What one server process holds beside its requests, in one place.

A daphne process runs many replies' generations and many event streams on one event loop.
Everything they share within the process lives in `state`, and nowhere else:

- the running generation tasks (asyncio keeps only weak references to tasks);
- the feeds of those generations, by reply id, which listeners in this process read;
- the checkpointer's list of feeds and its task;
- the replies that listeners of this process follow in another process, and the task that
  watches the database for their end (chat/replies/endwatch.py);
- the upstream HTTP connection pools (one per event loop) and the reads that finish a
  response in the background so that its connection can be reused;
- the markdown render workers (chat/server/renderer.py);
- each user's open event streams;
- with SQLite, the lock its write transactions take turns on;
- whether the process is shutting down.

None of it belongs to a user: what a listener may see is checked before it gets a feed.

How async code reaches the database, the one rule: never by calling the ORM on the event loop.
Inside a request (a view, an event stream, a stop), through `in_request_thread` (channels'
`database_sync_to_async`): the request's own thread runs it (chat/server/threads.py). Outside
a request (a generation, the checkpointer, the sweeper), through `in_db_thread`: a few threads
of the process's own run it, so that no request can hold up a checkpoint or a heartbeat.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

if TYPE_CHECKING:
    import aiohttp

    from chat.replies.checkpoints import Watched
    from chat.replies.feed import Feed
    from chat.server.renderer import Renderers


@dataclass
class ProcessState:
    generations: set[asyncio.Task[None]] = field(default_factory=set)
    feeds: dict[int, Feed] = field(default_factory=dict)
    checkpoints: dict[int, Watched] = field(default_factory=dict)
    checkpointer: asyncio.Task[None] | None = None
    end_watches: dict[int, set[asyncio.Future[None]]] = field(default_factory=dict)
    end_watcher: asyncio.Task[None] | None = None
    upstream_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
        field(default_factory=weakref.WeakKeyDictionary)
    )
    finishing_reads: set[asyncio.Task[None]] = field(default_factory=set)
    # Wake-ups of users' event streams sent from database threads (chat/user_events.py).
    wakeups: set[asyncio.Task[bool]] = field(default_factory=set)
    renderers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Renderers] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    # The event streams each user has open in this process (CHAT_MAX_STREAMS_PER_USER): a
    # stream's listener is in its user's set while it lives, whether or not it ever started.
    streams: dict[int, weakref.WeakSet[object]] = field(default_factory=dict)
    draining: bool = False  # set once, on shutdown: this process takes no new replies
    # SQLite: whose turn it is to write, per database file (chat/server/sqlite3/base.py).
    sqlite_turns: dict[str, threading.Lock] = field(default_factory=dict)


state = ProcessState()

# Work outside requests runs on threads of its own. Outside a request, asgiref runs it all on
# one shared thread, whose queue delayed heartbeats by seconds under a hundred concurrent
# replies (and the sweeper then took live replies for dead ones). A checkpoint racing the
# final save is harmless: every write of a reply is conditional (chat/replies/store.py).
_DB_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="generation-db")
# The checkpointer's saves (the heartbeats other processes judge this one by) get a thread of
# their own: behind a burst of new replies on the shared ones they waited seconds, and live
# replies were swept as dead (2,000 replies opened at once: 2 or 3 of them).
_HEARTBEAT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heartbeat-db")
T = TypeVar("T")
P = ParamSpec("P")


class InThread(Protocol):
    """in_request_thread or in_db_thread, for code that runs in both places."""

    def __call__(self, func: Callable[P, T], /) -> Callable[P, Awaitable[T]]: ...


def in_request_thread(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`func`, run on the current request's thread (see the rule above)."""
    wrapped: Callable[P, Awaitable[T]] = database_sync_to_async(func)
    return wrapped


def in_db_thread(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`func`, run on one of the process's database threads (see the rule above)."""
    return _on(_DB_THREADS, func)


def in_heartbeat_thread(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`func`, run on the checkpointer's own database thread."""
    return _on(_HEARTBEAT_THREAD, func)


def _on(executor: ThreadPoolExecutor, func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    # The settings, not `connection.vendor`: on the event loop, each generation's context would
    # build a DatabaseWrapper of its own just to answer (about 4 KB per running reply).
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return sync_to_async(_kept_connection(func), thread_sensitive=False, executor=executor)
    # PostgreSQL: closing after each call returns the connection to the pool, cheaply.
    wrapped: Callable[P, Awaitable[T]] = database_sync_to_async(
        func, thread_sensitive=False, executor=executor
    )
    return wrapped


def _kept_connection(func: Callable[P, T]) -> Callable[P, T]:
    """On SQLite each thread keeps its connection for its life (these threads live as long as
    the process): opening one costs about 2.5 ms of CPU (connect, PRAGMAs, Django's SQL
    functions), which made a checkpoint cost 2.7 ms instead of 0.4 (measured in bench/).
    A connection that broke since its last use is replaced, once."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if connection.in_atomic_block:
                raise
            connection.close()
            return func(*args, **kwargs)

    return run


def start_generation(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run a reply's generation as a task of this process. A fresh context detaches it from
    the request (whose thread-sensitive executor ends with the request; the task must not)."""
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
    state.generations.add(task)
    detach(task, state.generations.discard)
    return task


def detach(task: asyncio.Task[Any], callback: Callable[[asyncio.Task[Any]], object]) -> None:
    """Call `callback` when `task` is done, in a fresh context: a done callback otherwise
    keeps a copy of the context it was added in (a request's) for as long as the task runs."""
    task.add_done_callback(callback, context=contextvars.Context())


def start_draining() -> None:
    state.draining = True


async def shutdown(grace: float) -> None:
    """Let generations finish for `grace` seconds, then interrupt them (saving their text)."""
    from chat.providers.http import close_upstream_session
    from chat.replies.relay import close_relay

    start_draining()
    if state.generations:
        _done, pending = await asyncio.wait(set(state.generations), timeout=grace)
        for task in pending:
            task.cancel("shutdown")
        if pending:
            await asyncio.wait(pending, timeout=10)
    await close_upstream_session()
    await close_relay()
