"""Flow.write sends a delta straight to the socket of a plain TCP connection when Twisted holds
nothing unsent for it, and otherwise leaves it to Twisted, so the bytes on the wire are the
same chunked frames in the same order either way.

A real twisted.internet.tcp.Connection over a socket pair; the reactor and the request are
stand-ins recording what Twisted would be asked to do (the live path is exercised by every
streaming test against daphne, the slow reader's in tests/streaming/test_slow_readers.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol

from chat.server.flow import SCOPE_KEY, Flow


class Reactor:
    def __init__(self) -> None:
        self.writers: list[object] = []

    def addWriter(self, writer: object) -> None:
        if writer not in self.writers:
            self.writers.append(writer)

    def removeWriter(self, writer: object) -> None:
        if writer in self.writers:
            self.writers.remove(writer)


class Channel:
    def __init__(self, transport: tcp.Connection) -> None:
        self.transport: Any = transport  # Twisted's writes are untyped


class Request:
    """What Flow uses of twisted.web.http.Request, writing as it does (chunked, through the
    channel's transport) once the headers have gone."""

    def __init__(self, transport: tcp.Connection) -> None:
        self.channel = Channel(transport)
        self.producer: object = None
        self.finished = False
        self._disconnected = False
        self.startedWriting = True
        self.chunked = True
        self.sentLength = 0
        self.writes = 0

    def registerProducer(self, producer: object, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.sentLength += len(data)
        self.channel.transport.writeSequence([b"%x\r\n" % len(data), data, b"\r\n"])


class Wire(NamedTuple):
    flow: Flow
    request: Request
    reactor: Reactor
    theirs: socket.socket  # the client's end


@pytest.fixture
def wire() -> Iterator[Wire]:
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    reactor = Reactor()
    transport = tcp.Connection(ours, Protocol(), reactor)  # type: ignore[arg-type]
    transport.connected = True
    request = Request(transport)
    flow = Flow({SCOPE_KEY: request})
    flow.start()
    yield Wire(flow, request, reactor, theirs)
    ours.close()
    theirs.close()


def drain(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    data = b""
    while True:
        try:
            part = sock.recv(1 << 16)
        except BlockingIOError:
            return data
        if not part:
            return data
        data += part


def frame(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def test_a_delta_goes_to_the_socket_at_once_without_the_reactor(wire: Wire) -> None:
    flow, request, reactor, theirs = wire
    text = "data: 你好\n\n".encode()
    assert flow.write(text)
    assert drain(theirs) == frame(text)  # on the wire already, chunked as Twisted would
    assert reactor.writers == [] and request.writes == 0
    assert request.sentLength == len(text)


def test_what_the_socket_cannot_take_is_left_to_twisted_in_order(wire: Wire) -> None:
    flow, request, reactor, theirs = wire
    transport = request.channel.transport
    pieces = [f"{i:05d} ".encode() * 300 for i in range(60)]  # far more than the buffers
    for piece in pieces:
        assert flow.write(piece)
    assert reactor.writers == [transport]  # the rest waits for the socket to be writable
    assert request.writes > 0  # later pieces went through Twisted, behind the earlier ones
    received = drain(theirs)
    while reactor.writers:  # the reactor's turns: write what the socket takes now
        transport.doWrite()
        received += drain(theirs)
    assert received == b"".join(frame(p) for p in pieces)


def test_no_direct_send_before_the_headers_or_after_a_disconnect(wire: Wire) -> None:
    flow, request, _reactor, theirs = wire
    request.startedWriting = False  # Twisted writes the headers with the first write
    assert flow.write(b"a")
    assert request.writes == 1
    request.startedWriting = True
    request.channel.transport.doWrite()
    drain(theirs)
    request._disconnected = True
    assert flow.write(b"b")
    assert request.writes == 2  # Twisted's own write decides (it drops it)
