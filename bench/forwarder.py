"""The least a relay can add: a byte-for-byte TCP forwarder on uvloop, in front of the fake
upstream (`python -m bench.forwarder --port P --upstream Q`).

`bench.run --forwarder` starts it on the server core, placed like daphne and the peers, and
measures it as one more relay. It parses nothing, stores nothing and holds no state but the two
sockets, so what it adds to a chunk is the cost of any relay process on this machine: the
wake-up of the server core, one more pass through the loopback, a read and a write, with the
least Python there can be between them. The site's and the peers' numbers above it are their
own work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import cast


class Half(asyncio.Protocol):
    """One side of a forwarded connection: what it receives is written to the other side, and
    while the other side cannot take more, this side is not read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.other: Half | None = None
        self.pending: list[bytes] = []  # received before the other side was connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def join(self, other: Half) -> None:
        self.other, other.other = other, self
        for side in (self, other):
            for data in side.pending:
                side.forward(data)
            side.pending.clear()

    def forward(self, data: bytes) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.other is None:
            self.pending.append(data)
        else:
            self.forward(data)

    def eof_received(self) -> bool:
        if self.other is not None and self.other.transport is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self.other.transport.write_eof()
        return True  # the other direction may still carry data

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.other is not None and self.other.transport is not None:
            self.other.transport.close()

    def pause_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.resume_reading()


class Front(Half):
    """A client's connection: the upstream's is opened for it."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__()
        self.upstream_port = upstream_port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, back = await loop.create_connection(Half, "127.0.0.1", self.upstream_port)
        except OSError:
            if self.transport is not None:
                self.transport.close()
            return
        if self.transport is None:  # the client went away meanwhile
            if back.transport is not None:
                back.transport.close()
            return
        self.join(back)


async def serve(port: int, upstream_port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Front(upstream_port), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True, help="the fake upstream's port")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # the stock loop, as the site would run without uvloop
        asyncio.run(serve(args.port, args.upstream))
    else:
        uvloop.run(serve(args.port, args.upstream))


if __name__ == "__main__":
    main()
