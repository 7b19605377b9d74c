"""Reading an upstream's response body: chunks as they arrive within the read timeouts, an
error body up to a limit, and the end of a body read in the background once the reply has
its text (so that the connection can be reused)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import aiohttp

from chat.providers import errors
from chat.providers.base import Timeouts
from chat.providers.errors import UpstreamError
from chat.server.process import state

MAX_ERROR_BODY = 64 * 1024


def transport_error(provider: str, exc: BaseException) -> UpstreamError:
    """Map an aiohttp or timeout exception to a user-facing error (no URL in the text)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return errors.connect_timeout(provider)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, no such host, TLS refused
        return errors.unreachable(provider)
    if isinstance(exc, aiohttp.InvalidURL):
        return errors.bad_address(provider)
    if isinstance(exc, TimeoutError):
        return errors.stopped_answering(provider)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return errors.broke(provider)
    return errors.broke(provider, type(exc).__name__)


# Reading what follows a completion signal (normally the chunked body's last bytes) lets the
# connection be reused; whatever takes longer than this, or more than MAX_ERROR_BODY, closes it.
FINISH_WITHIN = 5.0


def finish_in_background(chunks: AsyncGenerator[bytes], response: aiohttp.ClientResponse) -> None:
    """The reply has its text: the rest of the body is read without holding it up."""
    task = asyncio.get_running_loop().create_task(_finish(chunks, response))
    state.finishing_reads.add(task)
    task.add_done_callback(state.finishing_reads.discard)


async def _finish(chunks: AsyncGenerator[bytes], response: aiohttp.ClientResponse) -> None:
    size = 0
    try:
        async with asyncio.timeout(FINISH_WITHIN):
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_ERROR_BODY:
                    break
    except Exception:  # the reply is saved; the connection is just not reused
        pass
    finally:
        await chunks.aclose()
        if response.content.at_eof():
            response.release()  # the connection goes back to the pool
        else:
            response.close()


async def read_limited(
    provider: str, response: aiohttp.ClientResponse, timeouts: Timeouts
) -> bytes:
    """The error body, as much of it as arrives: the status alone is worth reporting."""
    body = b""
    try:
        async for chunk in iter_chunks(provider, response, timeouts):
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                break
    except UpstreamError:
        pass
    return body


async def iter_chunks(
    provider: str, response: aiohttp.ClientResponse, timeouts: Timeouts
) -> AsyncGenerator[bytes]:
    """The body as it arrives: the first chunk within first_byte seconds (aiohttp's read
    timeout, the request's sock_read), each later one within idle seconds of the one before
    (`_IdleWatch`: aiohttp's would cancel and make a timer on every read from the socket)."""
    content = response.content
    watch: _IdleWatch | None = None
    try:
        while True:
            try:
                chunk = await content.readany()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise transport_error(provider, exc) from None
            if not chunk:
                return
            if watch is not None:
                watch.last = watch.loop.time()
            elif timeouts.idle:
                watch = _IdleWatch(response, timeouts.idle)
            yield chunk
    finally:
        if watch is not None:
            watch.handle.cancel()


class _IdleWatch:
    """One timer per stream, due `idle` seconds after the last chunk: when it fires early
    (chunks came meanwhile) it is set again for the new due time, once it fires late the
    read waiting on the body fails with aiohttp's own read timeout."""

    def __init__(self, response: aiohttp.ClientResponse, idle: float) -> None:
        connection = response.connection
        if connection is not None and (protocol := connection.protocol) is not None:
            protocol.read_timeout = None
            protocol.start_timeout()  # with no read timeout: cancels aiohttp's timer
        self.content = response.content
        self.idle = idle
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()
        self.handle = self.loop.call_at(self.last + idle, self._check)

    def _check(self) -> None:
        due = self.last + self.idle
        if self.loop.time() < due:
            self.handle = self.loop.call_at(due, self._check)
        else:
            self.content.set_exception(
                aiohttp.SocketTimeoutError("Timeout on reading data from socket")
            )
