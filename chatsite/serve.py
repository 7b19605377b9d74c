"""Start daphne on uvloop: `python -m chatsite.serve [daphne's arguments]`.

daphne runs Twisted's asyncio reactor on the loop that `asyncio.new_event_loop()` returns when
daphne.server is first imported; with uvloop's policy set before that, the whole server (Twisted,
the site, aiohttp, channels-redis) runs on uvloop, which relays each chunk with measurably less CPU
than the stock loop (BENCHMARKS.md). Set CHAT_UVLOOP=false, or leave uvloop uninstalled, to
run on the stock loop; every argument goes to daphne unchanged.

Before daphne starts, the site is imported (Django set up, the URLconf and its views loaded)
and everything made so far is moved out of the garbage collector's sight (`gc.freeze`):
the collector's full passes then walk only what requests and replies made since, not the
hundred thousand objects of Django and the site, and pause the relay for a fraction as long
(BENCHMARKS.md).

glibc's malloc gives each thread that allocates its own arena (up to eight per core), and memory
freed in one arena is not reused by the others: the request threads' arenas hold on to what
their ORM work once took, beside the event loop's. Unless MALLOC_ARENA_MAX is set, the server
keeps CHAT_MALLOC_ARENAS arenas (1: every thread shares one), which measured about 3 KB less
memory per open event stream (BENCHMARKS.md); the GIL already serializes most allocation.

A POST's body goes to Django as it came (`leave_bodies_to_django`): Twisted's request would
first parse a form body into `request.args`, which daphne never reads, on the event loop and
with the standard library's email parser.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os
from typing import Any

from chatsite.env import env_int

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def use_uvloop() -> bool:
    if os.environ.get("CHAT_UVLOOP", "true").strip().lower() in {"0", "false", "no", "off"}:
        return False
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def limit_malloc_arenas() -> int | None:
    """Cap glibc's malloc arenas for the threads started from now on; the cap, or None when
    MALLOC_ARENA_MAX decides, the setting is 0, or the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return None
    arenas = env_int("CHAT_MALLOC_ARENAS", 1)  # 0: glibc's default
    name = ctypes.util.find_library("c")
    if arenas <= 0 or name is None:
        return None
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return None
    return arenas if mallopt(M_ARENA_MAX, arenas) == 1 else None


def freeze_startup_objects() -> None:
    """Import the site, then leave what exists now out of every later collection."""
    import django.urls

    import chatsite.asgi  # noqa: F401  (sets Django up and builds the application)

    django.urls.get_resolver().url_patterns  # noqa: B018  (imports the URLconf and views)
    gc.collect()
    gc.freeze()


def leave_bodies_to_django() -> None:
    """daphne's requests skip Twisted's parsing of a POST's form body (Twisted's public
    `parsePOSTFormSubmission`). That parsing ran on the event loop before the site saw the
    request, so any client, signed in or not, could hold every open stream of the process: a
    1 MB multipart body (what nginx lets through) held it for 160 ms and a 1 MB urlencoded one
    for 85 ms, against 7 ms now. It also ran the email package over every POST's Content-Type
    (28 microseconds). Django parses what a view asks for, within its DATA_UPLOAD_MAX_* limits."""
    from daphne import http_protocol

    class WebRequest(http_protocol.WebRequest):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, parsePOSTFormSubmission=False)

    http_protocol.WebRequest = WebRequest  # what daphne's HTTPFactory builds its requests from


def main() -> None:
    limit_malloc_arenas()  # before any thread: each thread's first allocation picks its arena
    use_uvloop()
    freeze_startup_objects()
    from daphne.cli import CommandLineInterface  # imports daphne.server: after the policy

    leave_bodies_to_django()
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
