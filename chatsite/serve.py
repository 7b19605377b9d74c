"""Start daphne on uvloop: `python -m chatsite.serve [daphne's arguments]`.

daphne runs Twisted's asyncio reactor on the loop that `asyncio.new_event_loop()` returns when
daphne.server is first imported; with uvloop's policy set before that, the whole server (Twisted,
the site, aiohttp, channels-redis) runs on uvloop, which relays each chunk with measurably less CPU
than the stock loop (BENCHMARKS.md). Set CHAT_UVLOOP=false, or leave uvloop uninstalled, to
run on the stock loop; every argument goes to daphne unchanged.
"""

from __future__ import annotations

import asyncio
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


def main() -> None:
    use_uvloop()
    from daphne.cli import CommandLineInterface  # imports daphne.server: after the policy

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
