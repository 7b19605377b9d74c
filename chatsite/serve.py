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
"""

from __future__ import annotations

import asyncio
import gc
import os


def use_uvloop() -> bool:
    if os.environ.get("CHAT_UVLOOP", "true").strip().lower() in {"0", "false", "no", "off"}:
        return False
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def freeze_startup_objects() -> None:
    """Import the site, then leave what exists now out of every later collection."""
    import django.urls

    import chatsite.asgi  # noqa: F401  (sets Django up and builds the application)

    django.urls.get_resolver().url_patterns  # noqa: B018  (imports the URLconf and views)
    gc.collect()
    gc.freeze()


def main() -> None:
    use_uvloop()
    freeze_startup_objects()
    from daphne.cli import CommandLineInterface  # imports daphne.server: after the policy

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
