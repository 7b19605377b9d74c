"""Upstream connections are kept alive between replies, and a reply that ends early closes
its own (chat/providers/http.py): a server that keeps connections open sees one connection
for replies read to the end, and a stopped reply's connection closed by us."""

from __future__ import annotations

import asyncio
import json

from chat.providers.base import ChatRequest, TextDelta, Timeouts, Turn
from chat.providers.http import close_upstream_session
from chat.providers.openai import OpenAIProvider

TIMEOUTS = Timeouts(connect=5, first_byte=5, idle=5)
REQUEST = ChatRequest(model="m", messages=[Turn("user", "Hi")])


def chunk(obj: object) -> bytes:
    data = f"data: {json.dumps(obj)}\n\n".encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class KeepAliveServer:
    """Answers every request on a connection with a short OpenAI stream, chunked, keeping
    the connection open; `hold` keeps the stream open after its first chunk."""

    def __init__(self) -> None:
        self.connections = 0
        self.closed_by_client = 0
        self.hold = False

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                writer.write(chunk({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}))
                await writer.drain()
                # Held: until the client closes the connection.
                if self.hold and not await reader.read(1):
                    self.closed_by_client += 1
                    return
                done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                writer.write(chunk(done))
                data = b"data: [DONE]\n\n"
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def read_all(provider: OpenAIProvider) -> str:
    stream = provider.events(REQUEST, TIMEOUTS)
    try:
        return "".join([e.text async for e in stream if isinstance(e, TextDelta)])
    finally:
        await stream.aclose()
        await asyncio.sleep(0.1)  # the body's last bytes are read in the background


async def read_first(provider: OpenAIProvider) -> None:
    stream = provider.events(REQUEST, TIMEOUTS)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # what a stop does: the generation closes the stream


def test_replies_reuse_a_connection_and_an_early_end_closes_it() -> None:
    async def scenario() -> tuple[int, int, list[str], int]:
        server = KeepAliveServer()
        port = await server.start()
        provider = OpenAIProvider("Test", f"http://127.0.0.1:{port}/v1", "sk-test")
        texts = [await read_all(provider), await read_all(provider)]
        reused = server.connections
        server.hold = True
        await read_first(provider)
        for _ in range(100):  # the server notices the close
            if server.closed_by_client:
                break
            await asyncio.sleep(0.01)
        server.hold = False
        texts.append(await read_all(provider))
        server.server.close()
        await close_upstream_session()
        return reused, server.closed_by_client, texts, server.connections

    reused, closed, texts, connections = asyncio.run(scenario())
    assert texts == ["Hi", "Hi", "Hi"]
    assert reused == 1  # the second reply went over the first one's connection
    assert closed == 1  # the reply that ended early closed its connection
    assert connections == 2  # so the next reply needed a new one
