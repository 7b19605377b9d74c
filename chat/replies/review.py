"""A streamed reply's moderation, in batches (chat/moderation.py has the checkers).

The pump hands every piece of text to `Review.feed`, which only collects it: a batch is cut
at the end of a sentence or line, or once CHAT_MODERATION_BATCH characters have gathered
without one, never per delta. A task of its own checks the batches, one check at a time;
batches cut while a check is running are checked together next, so a slow service never
queues up checks. Each batch is checked with the end of the text before it (CONTEXT
characters), so a word split between two batches is still seen.

On a hit the generation stops the upstream (`on_flag`) and the reply ends as moderated. When
the upstream ends, `finish` checks the rest before the reply is saved: no text is saved as a
complete reply without having been checked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from chat.moderation import Verdict

SENTENCE_END = re.compile(r"[.!?;\n。！？；]")
CONTEXT = 64

CheckFn = Callable[[str, str], Awaitable[Verdict | None]]


class Review:
    def __init__(self, check: CheckFn, batch: int, on_flag: Callable[[Verdict], None]) -> None:
        self.check = check
        self.batch = batch
        self.on_flag = on_flag
        self.pending: list[str] = []
        self.pending_chars = 0
        self.ready: list[str] = []  # batches cut and not checked yet
        self.context = ""  # the end of the text checked last
        self.verdict: Verdict | None = None
        self.checks = 0  # how many times the checker ran (tests and the benchmark read it)
        self._closing = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Review:
        self._task = asyncio.create_task(self._run())
        return self

    def feed(self, text: str) -> None:
        """Collect a piece of the reply (called by the pump for every delta: keep it cheap)."""
        if not text:
            return
        self.pending.append(text)
        self.pending_chars += len(text)
        if self.pending_chars >= self.batch or SENTENCE_END.search(text):
            self._cut()

    def _cut(self) -> None:
        self.ready.append("".join(self.pending))
        self.pending.clear()
        self.pending_chars = 0
        self._wake.set()

    async def _run(self) -> None:
        while self.verdict is None:
            await self._wake.wait()
            self._wake.clear()
            while self.ready and self.verdict is None:
                text = "".join(self.ready)
                self.ready.clear()
                segment = self.context + text
                self.checks += 1
                verdict = await self.check(segment, "reply")
                self.context = segment[-CONTEXT:]
                if verdict is not None:
                    self.verdict = verdict
                    self.on_flag(verdict)
            if self._closing and not self.ready:
                return

    async def finish(self) -> Verdict | None:
        """Check what is left once the upstream has ended; the verdict, if any."""
        if self.pending:
            self._cut()
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        return self.verdict

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
