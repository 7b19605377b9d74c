"""A fake upstream HTTP server on loopback that replays byte-exact transcripts.

It speaks plain HTTP/1.1 over a real socket, written by hand so that every byte, every write
boundary, every delay and every close is under the test's control. The scenario is picked by
the model the request names (JSON `model`, or Gemini's `/models/<model>:...` path). A suffix
`@bytes` delivers the body one byte per write; `@utf8` splits it at every UTF-8 character
boundary (one character per write). Every request is recorded, with when the client closed
its side of the connection (that is how a test sees that Stop closed the upstream).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Scenario:
    status: int = 200
    body: list[bytes] = field(default_factory=list)  # one write each, before any splitting
    content_type: str = "text/event-stream; charset=utf-8"
    delay: float = 0.0  # seconds between writes (not applied to @bytes/@utf8 splits)
    first_delay: float = 0.0  # before the first body byte (after the headers)
    header_delay: float = 0.0  # before the status line
    hang: bool = False  # after the body, keep the connection open without writing
    abort: bool = False  # after the body, drop the connection without ending the chunked body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    model: str
    started: float
    finished_writing: float | None = None
    client_closed: float | None = None

    @property
    def json(self) -> object:
        return json.loads(self.body)


def split_utf8(data: bytes) -> list[bytes]:
    text = data.decode("utf-8")
    return [ch.encode("utf-8") for ch in text]


def split_bytes(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


_GEMINI_PATH = re.compile(r"/models/([^/:]+):")


class FakeUpstream:
    """Serves scenarios on 127.0.0.1:<port> from a thread with its own event loop."""

    def __init__(self, scenarios: dict[str, Scenario | Callable[[Recorded], Scenario]]) -> None:
        self.scenarios = scenarios
        self.requests: list[Recorded] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def start(self, port: int = 0) -> FakeUpstream:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(port), self._loop)
        future.result(10)
        return self

    async def _start(self, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def _stop() -> None:
            if self._server:
                self._server.close()
            # Connections still held open (hanging scenarios) end here, not at exit.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def requests_for(self, model: str) -> list[Recorded]:
        return [r for r in self.requests if r.model == model]

    def wait_closed(self, model: str, timeout: float = 10.0) -> Recorded:
        """The last request for `model`, once the client has closed its connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests_for(model)
            if found and found[-1].client_closed is not None:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"the client never closed its connection for {model!r}")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        model = ""
        if m := _GEMINI_PATH.search(path):
            model = m.group(1)
        else:
            with contextlib.suppress(ValueError, AttributeError):
                model = str(json.loads(body).get("model", ""))
        rec = Recorded(method, path, headers, body, model, time.monotonic())
        self.requests.append(rec)
        watcher = asyncio.create_task(self._watch_close(reader, rec))
        try:
            await self._respond(writer, rec)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if rec.client_closed is None:
                await asyncio.sleep(0.05)
            watcher.cancel()
            writer.close()

    async def _watch_close(self, reader: asyncio.StreamReader, rec: Recorded) -> None:
        while await reader.read(4096):
            pass
        rec.client_closed = time.monotonic()

    async def _respond(self, writer: asyncio.StreamWriter, rec: Recorded) -> None:
        name, _, split = rec.model.partition("@")
        scenario = self.scenarios.get(name)
        if callable(scenario):
            scenario = scenario(rec)
        if scenario is None:
            scenario = Scenario(
                404,
                [
                    json.dumps(
                        {
                            "error": {
                                "message": f"model {name!r} not found",
                                "type": "invalid_request_error",
                                "code": None,
                            }
                        }
                    ).encode()
                ],
                "application/json",
            )
        if scenario.header_delay:
            await asyncio.sleep(scenario.header_delay)
        writes = scenario.body
        if split == "bytes":
            writes = split_bytes(b"".join(writes))
        elif split == "utf8":
            writes = split_utf8(b"".join(writes))
        reason = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
            529: "Overloaded",
        }.get(scenario.status, "Status")
        head = [
            f"HTTP/1.1 {scenario.status} {reason}",
            f"Content-Type: {scenario.content_type}",
            "Transfer-Encoding: chunked",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in scenario.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        if scenario.first_delay:
            await asyncio.sleep(scenario.first_delay)
        for i, data in enumerate(writes):
            if i and scenario.delay and not split:
                await asyncio.sleep(scenario.delay)
            if rec.client_closed is not None:
                return
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
            if split:
                await asyncio.sleep(0)
        rec.finished_writing = time.monotonic()
        if scenario.abort:
            writer.transport.abort()
            return
        if scenario.hang:
            while rec.client_closed is None:  # noqa: ASYNC110 (set from another task)
                await asyncio.sleep(0.02)
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def sse(*events: str, eol: str = "\n") -> list[bytes]:
    """SSE events as writes: each argument is an event's field lines (joined by eol)."""
    return [(e.replace("\n", eol) + eol + eol).encode() for e in events]


def openai_chunk(content: str | None = None, finish: str | None = None, **extra: object) -> str:
    delta: dict[str, object] = {} if content is None else {"content": content}
    obj: dict[str, object] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1727346169,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    obj.update(extra)
    return "data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
