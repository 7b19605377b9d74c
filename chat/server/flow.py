"""Backpressure for event streams: whether the browser is reading what we write.

ASGI gives an application no signal when a client stops reading; a server buffers whatever it
is sent. daphne hands each application `send = functools.partial(server.handle_reply,
request)`, where `request` is its Twisted `http.Request`, which takes a push producer: Twisted
pauses it when the connection's write buffer holds more than 64 KB and resumes it once the
buffer has drained. `FlowControl` (the outermost ASGI middleware, chatsite/asgi.py) puts that
request in the scope; an event stream registers a `Flow` on it and, while paused, writes
nothing: its listener only falls behind by sequence numbers and, once resumed, sends what it
missed as one event (chat/replies/listener.py). Under another server, or when the request is
not found, streams run without backpressure.

A listener the generation writes to directly (chat/replies/feed.py) writes through `Flow.write`:
on a plain TCP connection with nothing left in Twisted's buffer, the chunk goes to the socket
at once, as Twisted's next turn would have sent it; anything else goes through Twisted.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SCOPE_KEY = "chat.transport"
SEND_BUFFER = 64 * 1024


class FlowControl:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and isinstance(send, functools.partial) and send.args:
            request = send.args[0]
            if callable(getattr(request, "registerProducer", None)):
                scope = {**scope, SCOPE_KEY: request}
        await self.app(scope, receive, send)


class Flow:
    """A Twisted push producer standing for one event stream."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.paused = False
        self._resumed: asyncio.Event | None = None  # made when first paused
        self._request: Any = scope.get(SCOPE_KEY)
        self._registered = False
        self._tcp: Any = None  # the request's TCP transport, for `_send`

    def start(self) -> None:
        """Ask Twisted for pause and resume calls (until `release`)."""
        request = self._request
        if request is None or getattr(request, "producer", None) is not None:
            return
        try:
            request.registerProducer(self, True)
            self._registered = True
        except (ValueError, RuntimeError, AttributeError):
            log.debug("no backpressure for this stream", exc_info=True)
            return
        # Left alone, Linux grows a socket's send buffer up to net.ipv4.tcp_wmem's maximum
        # (4 MB by default), which a stalled reader would fill before Twisted's buffer ever
        # did. A fixed buffer bounds that too; event streams need little (the kernel doubles
        # it: 128 KB, 640 KB/s at 200 ms round trips).
        with contextlib.suppress(AttributeError, OSError):
            handle = request.channel.transport.getHandle()
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        self._tcp = plain_tcp(request.channel)

    def release(self) -> None:
        if self._registered:
            self._registered = False
            request = self._request
            if request.producer is self and request.channel is not None:
                request.unregisterProducer()
        self.resumeProducing()

    @property
    def direct(self) -> bool:
        """Whether `write` can be tried: daphne underneath and the client reading."""
        return self._registered and not self.paused

    def write(self, data: bytes) -> bool:
        """Write `data` straight to daphne's request, below ASGI and Django's response, if it
        can take it now: registered (daphne underneath), not paused, still connected. False
        otherwise; the stream then sends it the usual way."""
        request = self._request
        if not self._registered or self.paused or request.finished or request.channel is None:
            return False
        try:
            if not self._send(request, data):
                request.write(data)
        except Exception:  # never the writer's problem (the generation's task): the stream's
            log.debug("direct write refused", exc_info=True)
            return False
        return True

    def _send(self, request: Any, data: bytes) -> bool:
        """Send `data` to the socket now, as Twisted would on the event loop's next turn, when
        Twisted holds nothing unsent for it; what the socket does not take is left to Twisted.
        False (nothing done) when there is no plain TCP connection or it is not in that state."""
        transport = self._tcp
        if (
            transport is None
            or not request.startedWriting
            or request._disconnected
            or "write" in vars(request)  # HEAD: Twisted replaced `write` to send no body
            or not transport.connected
            or transport.disconnecting
            or transport._writeDisconnected
            or transport._tempDataLen
            or transport.offset != len(transport.dataBuffer)
        ):
            return False
        frame = b"%x\r\n%b\r\n" % (len(data), data) if request.chunked else data
        request.sentLength += len(data)
        try:
            sent = transport.socket.send(frame)
        except OSError:  # full (EAGAIN) or gone: Twisted's own write finds out which
            sent = 0
        if sent < len(frame):
            transport.write(frame[sent:])
        return True

    async def resumed(self, within: float) -> bool:
        """Wait up to `within` seconds for the client to drain the buffer."""
        if not self.paused:
            return True
        if self._resumed is None:
            self._resumed = asyncio.Event()
        try:
            await asyncio.wait_for(self._resumed.wait(), within)
        except TimeoutError:
            return False
        return True

    # IPushProducer, called by Twisted on the event loop's thread.
    def pauseProducing(self) -> None:
        self.paused = True
        if self._resumed is not None:
            self._resumed.clear()

    def resumeProducing(self) -> None:
        self.paused = False
        if self._resumed is not None:
            self._resumed.set()

    def stopProducing(self) -> None:
        # The connection is gone; the request handler cancels the stream.
        self.resumeProducing()


def plain_tcp(channel: Any) -> Any:
    """The Twisted TCP connection under an HTTP/1.x channel, or None (TLS, HTTP/2, another
    server): only through a plain one can a write skip Twisted's buffer."""
    try:
        from twisted.internet import tcp
    except ImportError:
        return None
    transport = getattr(channel, "transport", None)
    if isinstance(transport, tcp.Connection) and not getattr(transport, "TLS", False):
        return transport
    return None
