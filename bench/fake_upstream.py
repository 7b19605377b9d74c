"""A fast fake OpenAI Chat Completions upstream that stamps every chunk.

Run it as `python -m bench.fake_upstream --port P`. POST /v1/chat/completions answers with a
streamed reply whose shape is set by the last message's content, a JSON spec:

- `{"tokens": 200, "delay_ms": 10}`: 200 chunks, one every 10 ms, the first at once;
- `... "run": "r1", "phase_ms": 3.5}`: wait until POST /go {"run": "r1"}, then start 20 ms
  later plus the phase (so that a whole run of streams starts together, spread over one
  token interval the way independent streams are);
- `{"idle": 600}`: headers and one role-only chunk, then nothing until the client closes, the
  time runs out, or POST /release.

Each chunk's content is the stamp `<seq>:<time.time_ns() when written>|`, so a client that sees
the text can tell every chunk's latency, however a relay splits or joins them. Pacing is on an
absolute schedule (no drift); the stamp is taken at the write, so late writes stay honest.
GET /v1/models lists the model names the site and the peers use (any name streams the same).
GET /stats answers {"open", "idle", "waiting": {run: n}, "served", "chunks"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)
PREFIX = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1732406400,'
    b'"model":"bench","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
    b'{"content":"'
)
SUFFIX = b'"},"logprobs":null,"finish_reason":null}]}\n\n'
ROLE = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1732406400,'
    b'"model":"bench","choices":[{"index":0,"delta":{"role":"assistant","content":""},'
    b'"finish_reason":null}]}\n\n'
)
MODELS = ("bench", "mock-gpt")  # what GET /v1/models lists: the site's name, the peers'
GO_LEAD = 0.02  # seconds between POST /go and a run's first chunk
MAX_WAIT = 120.0  # a stream waiting for its run's go gives up after this


def chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def tail(tokens: int) -> bytes:
    finish = (
        b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1732406400,'
        b'"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    )
    usage = (
        b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1732406400,'
        b'"model":"bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d,'
        b'"total_tokens":%d}}\n\n' % (tokens, tokens + 12)
    )
    return chunk(finish) + chunk(usage) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _model(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": 1732406400, "owned_by": "bench"}


@dataclass
class Run:
    go: asyncio.Event = field(default_factory=asyncio.Event)
    start: float = 0.0  # loop time of the run's first chunk
    waiting: int = 0


class FakeOpenAI:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.release = asyncio.Event()
        self.open = 0
        self.idle = 0
        self.served = 0
        self.chunks = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, _, rest = head.decode("latin-1").partition("\r\n")
            method, path, _ = request_line.split(" ", 2)
            length = 0
            for line in rest.split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            await self.route(method, path, body, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def route(
        self,
        method: str,
        path: str,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        if method == "POST" and path.endswith("/chat/completions"):
            self.served += 1
            request = json.loads(body)
            spec = json.loads(request["messages"][-1]["content"])
            if "idle" in spec:
                await self.idle_reply(float(spec["idle"]), reader, writer)
            else:
                await self.paced_reply(spec, writer)
            return
        if method == "POST" and path == "/go":
            run = self.runs.setdefault(json.loads(body)["run"], Run())
            run.start = asyncio.get_running_loop().time() + GO_LEAD
            run.go.set()
            answer: object = {"ok": True}
        elif method == "POST" and path == "/release":
            self.release.set()
            self.release = asyncio.Event()  # for idle streams opened later
            answer = {"ok": True}
        elif method == "GET" and path.endswith("/models"):  # a peer asks which models exist
            answer = {"object": "list", "data": [_model(m) for m in MODELS]}
        elif method == "GET" and path == "/stats":
            answer = {
                "open": self.open,
                "idle": self.idle,
                "waiting": {k: r.waiting for k, r in self.runs.items()},
                "served": self.served,
                "chunks": self.chunks,
                "pid": os.getpid(),
            }
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        data = json.dumps(answer).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (len(data), data)
        )
        await writer.drain()

    async def paced_reply(self, spec: dict[str, object], writer: asyncio.StreamWriter) -> None:
        tokens = int(spec.get("tokens", 200))  # type: ignore[call-overload]
        delay = float(spec.get("delay_ms", 10)) / 1000  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        writer.write(HEAD)
        run_name = spec.get("run")
        if isinstance(run_name, str):
            run = self.runs.setdefault(run_name, Run())
            run.waiting += 1
            try:
                await asyncio.wait_for(run.go.wait(), MAX_WAIT)
            finally:
                run.waiting -= 1
            start = run.start + float(spec.get("phase_ms", 0)) / 1000  # type: ignore[arg-type]
        else:
            start = loop.time()
        transport = writer.transport
        for seq in range(tokens):
            wait = start + seq * delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if transport.is_closing():
                return
            stamp = b"%d:%d|" % (seq, time.time_ns())
            writer.write(chunk(PREFIX + stamp + SUFFIX))
            self.chunks += 1
            if transport.get_write_buffer_size() > 65536:
                await writer.drain()
        writer.write(tail(tokens))
        await writer.drain()

    async def idle_reply(
        self, seconds: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(HEAD + chunk(ROLE))
        await writer.drain()
        self.idle += 1
        try:
            closed = asyncio.ensure_future(reader.read())
            released = asyncio.ensure_future(self.release.wait())
            await asyncio.wait({closed, released}, timeout=seconds, return_when="FIRST_COMPLETED")
            closed.cancel()
            released.cancel()
        finally:
            self.idle -= 1
        if not writer.transport.is_closing():
            writer.write(tail(0))
            await writer.drain()


async def serve(host: str, port: int) -> None:
    app = FakeOpenAI()
    server = await asyncio.start_server(app.handle, host, port, backlog=4096)
    print(f"fake upstream on {host}:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
