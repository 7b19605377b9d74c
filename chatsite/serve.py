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
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os

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


def main() -> None:
    limit_malloc_arenas()  # before any thread: each thread's first allocation picks its arena
    use_uvloop()
    freeze_startup_objects()
    from daphne.cli import CommandLineInterface  # imports daphne.server: after the policy

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
