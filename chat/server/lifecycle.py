"""What each server process runs beside its requests: the sweeper, and a graceful shutdown.

daphne does not speak the ASGI lifespan protocol, so the services start with the first
request the process sees (the sweeper then also ends replies left over from before a restart).

Shutdown: on SIGTERM the process stops accepting new replies (503), lets running generations
finish for CHAT_SHUTDOWN_GRACE seconds, then interrupts the rest (each saves its text with
status `interrupted`), and only then hands the signal to daphne, which exits. SIGINT (Ctrl-C
in a terminal) does the same without the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from types import FrameType
from typing import Any

from django.conf import settings

from chat.server import process

log = logging.getLogger(__name__)


class ProcessServices:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = False
        self.tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if not self.started:
            self.start()
        await self.app(scope, receive, send)

    def start(self) -> None:
        from chat.replies.sweeper import sweep_forever

        self.started = True
        loop = asyncio.get_running_loop()
        self.tasks.add(loop.create_task(sweep_forever()))
        for signum, grace in ((signal.SIGTERM, settings.CHAT_SHUTDOWN_GRACE), (signal.SIGINT, 0)):
            self._install(loop, signum, grace)

    def _install(self, loop: asyncio.AbstractEventLoop, signum: int, grace: float) -> None:
        previous = signal.getsignal(signum)

        def handler(number: int, frame: FrameType | None) -> None:
            if process.state.draining:
                return
            process.start_draining()
            loop.call_soon_threadsafe(
                lambda: self.tasks.add(loop.create_task(self._drain(signum, previous, grace)))
            )

        try:
            signal.signal(signum, handler)
        except ValueError:  # not the main thread (an embedding server): leave signals alone
            log.debug("signal handlers not installed: not in the main thread")

    async def _drain(self, signum: int, previous: Any, grace: float) -> None:
        log.warning(
            "shutting down: %d replies running, %.0f s grace", len(process.state.generations), grace
        )
        await process.shutdown(grace)
        signal.signal(signum, previous)
        if callable(previous):
            previous(signum, None)
        else:
            os.kill(os.getpid(), signum)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await process.shutdown(settings.CHAT_SHUTDOWN_GRACE)
                await send({"type": "lifespan.shutdown.complete"})
                return
