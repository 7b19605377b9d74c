"""A lean HTTP/1.1 client on asyncio streams, and the stamp reader for event streams.

Lean on purpose: the load client shares a core with the fake upstream, and every microsecond
it spends per event would show up as latency it blames on the relay. One connection per
request (`Connection: close`), bodies by Content-Length or chunked.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

STAMP = re.compile(rb"(\d+):(\d{16,20})\|")
READ_SIZE = 65536


class Dechunker:
    """Turns a chunked transfer-encoded body into its payload, fed in arbitrary pieces."""

    def __init__(self) -> None:
        self.buf = b""
        self.left = 0  # payload bytes left in the current chunk, then its CRLF
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = []
        while self.buf and not self.done:
            if self.left > 0:
                take = self.buf[: self.left]
                out.append(take)
                self.left -= len(take)
                self.buf = self.buf[len(take) :]
                if self.left:
                    break
                self.left = -2  # the CRLF after the chunk
            if self.left < 0:
                if len(self.buf) < 2:
                    break
                self.buf = self.buf[2:]
                self.left = 0
                continue
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            size = int(self.buf[:end].split(b";", 1)[0], 16)
            self.buf = self.buf[end + 2 :]
            if size == 0:
                self.done = True
            self.left = size
        return b"".join(out)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    leftover: bytes = b""

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    async def body_parts(self) -> AsyncIterator[tuple[int, bytes]]:
        """(receive time in ns, payload) for each read, until the body ends."""
        dechunk = Dechunker() if self.chunked else None
        length = int(self.headers.get("content-length", "-1"))
        got = 0
        data = self.leftover
        while True:
            if data:
                now = time.time_ns()
                payload = dechunk.feed(data) if dechunk else data
                got += len(payload)
                if payload:
                    yield now, payload
                if (dechunk and dechunk.done) or (length >= 0 and got >= length):
                    return
            data = await self.reader.read(READ_SIZE)
            if not data:
                return

    async def read(self) -> bytes:
        return b"".join([p async for _, p in self.body_parts()])

    async def json(self) -> object:
        return json.loads(await self.read())

    def close(self) -> None:
        self.writer.close()


async def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    on_sent: Callable[[], None] | None = None,
) -> Response:
    """Send a request and read the answer's head; `on_sent` is called in between."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    if on_sent:
        on_sent()
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = await reader.read(READ_SIZE)
        if not data:
            writer.close()
            raise ConnectionError(f"no answer from port {port} for {method} {path}")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return Response(int(status_line.split(" ")[1]), answer_headers, reader, writer, rest)


@dataclass
class StreamRecord:
    """What one stream delivered: first receipt of each stamp, and what the events were."""

    started_ns: int
    first_ns: int | None = None  # first stamp received
    recv: dict[int, int] = field(default_factory=dict)  # seq -> receive time
    sent: dict[int, int] = field(default_factory=dict)  # seq -> send time (from the stamp)
    events: dict[str, int] = field(default_factory=dict)
    ended: bool = False

    def add_stamps(self, data: bytes, now: int) -> None:
        for m in STAMP.finditer(data):
            seq = int(m[1])
            if seq not in self.recv:
                self.recv[seq] = now
                self.sent[seq] = int(m[2])
                if self.first_ns is None:
                    self.first_ns = now

    def latencies_ns(self) -> list[int]:
        return [self.recv[s] - self.sent[s] for s in self.recv]


async def read_site_events(response: Response, record: StreamRecord) -> None:
    """Read the site's event stream to `end`. A chunk counts when its stamp is first seen,
    in a delta, a snapshot, or (when the stream opened after the reply ended) in `end`."""
    buf = b""
    async for now, payload in response.body_parts():
        buf += payload
        if b"\n\n" not in buf:
            continue
        *frames, buf = buf.split(b"\n\n")
        for frame in frames:
            kind = "comment"
            for line in frame.split(b"\n"):
                if line.startswith(b"event:"):
                    kind = line[6:].strip().decode()
            record.events[kind] = record.events.get(kind, 0) + 1
            if kind in ("delta", "snapshot", "end"):
                record.add_stamps(frame, now)  # text first seen: in whichever event brings it
            if kind == "end":
                record.ended = True
                return


async def read_openai_events(response: Response, record: StreamRecord) -> None:
    """Read an OpenAI-style chat completion stream (the fake upstream's own, or a peer's) to
    `data: [DONE]`: each `data:` line's JSON, the stamps taken from its choices' delta
    content. Chunks without content are counted by kind (usage, error, other)."""
    buf = b""
    async for now, payload in response.body_parts():
        buf += payload
        if b"\r" in buf:  # CRLF line ends (a trailing CR waits for its LF)
            buf = buf.replace(b"\r\n", b"\n")
        if b"\n\n" not in buf:
            continue
        *frames, buf = buf.split(b"\n\n")
        for frame in frames:
            for line in frame.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    record.ended = True
                    return
                kind = _add_openai_chunk(record, data, now)
                record.events[kind] = record.events.get(kind, 0) + 1


def _add_openai_chunk(record: StreamRecord, data: bytes, now: int) -> str:
    """Take the stamps out of one chunk's content; returns what kind of chunk it was."""
    try:
        chunk = json.loads(data)
    except ValueError:
        return "unparsed"
    if not isinstance(chunk, dict):
        return "unparsed"
    if "error" in chunk:
        return "error"
    text = "".join(
        str((c.get("delta") or {}).get("content") or "")
        for c in chunk.get("choices") or ()
        if isinstance(c, dict)
    )
    if text:
        record.add_stamps(text.encode(), now)
        return "delta"
    return "usage" if chunk.get("usage") else "other"
