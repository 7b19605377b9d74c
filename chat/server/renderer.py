"""Markdown is rendered in worker processes, with a time limit.

A reply's final text is rendered once (chat/render.py). Rendering is CPU work whose time, on
hostile input, grows faster than the text: on the threads that also save every running
reply's heartbeats, one slow render got other users' healthy replies swept as `interrupted`.
So it runs in CHAT_RENDER_WORKERS processes of their own (`python -m chat.render`), spoken to
through pipes from the event loop: no thread of this process waits on it, and the GIL is not
shared with it. A render that takes longer than CHAT_RENDER_TIMEOUT seconds is abandoned (its
worker is killed and replaced) and the reply is shown as escaped plain text instead.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field

from django.conf import settings

from chat.render import plain_html
from chat.server.process import state

log = logging.getLogger(__name__)


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def render(self, text: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        data = text.encode("utf-8", "surrogatepass")
        self.process.stdin.write(len(data).to_bytes(4, "big") + data)
        await self.process.stdin.drain()
        size = int.from_bytes(await self.process.stdout.readexactly(4), "big")
        return (await self.process.stdout.readexactly(size)).decode()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@dataclass
class Renderers:
    """The workers of one event loop: at most `size` exist, and as many renders run at once.
    A render waits for a slot (the semaphore), then takes an idle worker or starts one; a
    slot is freed whether its worker went back or was killed, so a waiting render always
    gets its turn."""

    size: int
    idle: list[_Worker] = field(default_factory=list)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.size)

    async def take(self) -> _Worker:
        await self.slots.acquire()
        try:
            if self.idle:
                return self.idle.pop()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "chat.render",
                ",".join(settings.CHAT_IMAGE_HOSTS),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert process.stdout is not None
            await process.stdout.readexactly(4)  # ready: imports done, before any timer
            return _Worker(process)
        except BaseException:
            self.slots.release()
            raise

    def give_back(self, worker: _Worker) -> None:
        self.idle.append(worker)
        self.slots.release()

    def discard(self, worker: _Worker) -> None:
        worker.kill()
        self.slots.release()


def _renderers() -> Renderers:
    loop = asyncio.get_running_loop()
    renderers = state.renderers.get(loop)
    if renderers is None:
        renderers = state.renderers[loop] = Renderers(settings.CHAT_RENDER_WORKERS)
    return renderers


async def render(text: str) -> str:
    """`text` as sanitized HTML, or as escaped plain text if that takes too long."""
    if not text:
        return ""
    renderers = _renderers()
    worker = await renderers.take()
    try:
        async with asyncio.timeout(settings.CHAT_RENDER_TIMEOUT):
            html = await worker.render(text)
    except BaseException as exc:
        renderers.discard(worker)
        if not isinstance(exc, TimeoutError | OSError | asyncio.IncompleteReadError):
            raise
        log.warning("rendering %d characters failed (%s); shown as plain text", len(text), exc)
        return plain_html(text)
    renderers.give_back(worker)
    return html
