"""What each server process runs beside its requests: the sweeper, and a graceful shutdown.

daphne does not speak the ASGI lifespan protocol, so the services start with the first
request the process sees (the sweeper then also ends replies left over from before a restart).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


class ProcessServices:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = False
        self.tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if not self.started:
            self.start()
        return await self.app(scope, receive, send)

    def start(self) -> None:
        from chat.sweeper import sweep_forever

        self.started = True
        task = asyncio.get_running_loop().create_task(sweep_forever())
        self.tasks.add(task)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
