"""The in-process channel layer, made cheap per message.

channels' InMemoryChannelLayer scans every channel and group of the process for expired
messages on every receive and every group send, so each delta cost time in proportion to the
streams open (77 µs per delta at 50 streams, 1.5 ms with 2,000 idle streams open, measured in
bench/). This subclass keeps its behaviour (capacity, ChannelFull, expiry, groups) and cleans
at most once a second; a group send puts straight into each member's queue instead of a task
per member; messages are copied only as deep as they are nested.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

CLEAN_EVERY = 1.0  # seconds; messages expire after `expiry` (60 s), so this is plenty


def _copy(message: dict[str, Any]) -> dict[str, Any]:
    """A copy a receiver can own: flat values are immutable, nested ones are deep-copied."""
    return {k: deepcopy(v) if isinstance(v, dict | list) else v for k, v in message.items()}


class ProcessChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cleaned_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._cleaned_at >= CLEAN_EVERY:
            self._cleaned_at = now
            super()._clean_expired()

    def _put(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            queue.put_nowait((time.time() + self.expiry, _copy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._put(channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            _, message = await queue.get()
        finally:
            if queue.empty():
                self.channels.pop(channel, None)
        return message

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            # As in the base layer, a full member misses the message (listeners see the gap).
            with contextlib.suppress(ChannelFull):
                self._put(channel, message)
