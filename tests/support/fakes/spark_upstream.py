"""A fake iFlytek Spark server: a real WebSocket server on loopback replaying frame transcripts.

It checks the signed URL the way Spark does (HMAC-SHA256 over host, date and request line with
the app's secret; a stale date is refused) and refuses the handshake with Spark's own body
when it does not verify. The transcript is picked by the request frame's domain; a suffix
`@bytes` sends each frame as a text message fragmented one byte per frame (so fragments split
UTF-8 characters), `@utf8` one character per frame. Paths `/refuse/<status>/...` refuse the
handshake with that status, `/hang/...` never answers it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


@dataclass
class SparkScenario:
    frames: list[dict[str, object]] = field(default_factory=list)
    delay: float = 0.0  # between frames
    first_delay: float = 0.0  # before the first frame
    end: str = "close"  # close (code 1000) | abort (drop the TCP connection) | hang


@dataclass
class SparkRecorded:
    path: str
    query: dict[str, str]
    host: str
    frame: dict[str, object] = field(default_factory=dict)
    domain: str = ""
    client_closed: float | None = None


# Refusal bodies: Spark's gateway answers a bad signature with 401 and a stale date with 403
# (PROTOCOLS.md section 6); the others are in the same gateway's shape.
REFUSALS = {
    401: "HMAC signature cannot be verified: fail to retrieve credential",
    403: "HMAC signature cannot be verified, a valid date or x-date header is required "
    "for HMAC Authentication",
    404: "no Route matched with those values",
    429: "API rate limit exceeded",
    500: "An unexpected error occurred",
}
_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Server Error",
}
_PAIR = re.compile(r'(\w+)="([^"]*)"')
LOGGER = "fake_spark"  # the server's own log, which does show the URLs it receives


def refusal(status: int) -> Response:
    body = json.dumps({"message": REFUSALS[status]}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status, _REASONS[status], headers, body)


def verify(query: dict[str, str], path: str, host: str, api_key: str, secret: str) -> int:
    """0 when the signed URL verifies, else the status Spark refuses it with."""
    try:
        fields = dict(_PAIR.findall(base64.b64decode(query["authorization"]).decode()))
        date = query["date"]
        age = abs(time.time() - parsedate_to_datetime(date).timestamp())
    except (KeyError, ValueError, TypeError):
        return 401
    origin = f"host: {query.get('host')}\ndate: {date}\nGET {path} HTTP/1.1"
    digest = hmac.new(secret.encode(), origin.encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    if (
        fields.get("api_key") != api_key
        or fields.get("algorithm") != "hmac-sha256"
        or fields.get("headers") != "host date request-line"
        or not hmac.compare_digest(fields.get("signature", ""), expected)
        or query.get("host") != host
    ):
        return 401
    return 403 if age > 300 else 0


def split_message(data: str, split: str) -> str | list[bytes] | list[str]:
    if split == "bytes":
        raw = data.encode()
        return [raw[i : i + 1] for i in range(len(raw))]
    if split == "utf8":
        return list(data)
    return data


class SparkUpstream:
    """Serves Spark scenarios on 127.0.0.1:<port> from a thread with its own event loop."""

    def __init__(self, scenarios: dict[str, SparkScenario], api_key: str, secret: str) -> None:
        self.scenarios = scenarios
        self.api_key, self.secret = api_key, secret
        self.requests: list[SparkRecorded] = []
        self._by_connection: dict[ServerConnection, SparkRecorded] = {}
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None

    def start(self, port: int = 0) -> SparkUpstream:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(port), self._loop).result(10)
        return self

    async def _start(self, port: int) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            port,
            process_request=self._check,
            ping_interval=None,
            logger=logging.getLogger(LOGGER),
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def _stop() -> None:
            if self._server:
                self._server.close(close_connections=False)
            # Connections still held open (hanging scenarios) end here, not at exit.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def requests_for(self, domain: str) -> list[SparkRecorded]:
        return [r for r in self.requests if r.domain == domain]

    async def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        rec = SparkRecorded(parts.path, query, request.headers.get("Host", ""))
        self.requests.append(rec)
        self._by_connection[connection] = rec
        if parts.path.startswith("/hang/"):
            await asyncio.sleep(30)
        if m := re.match(r"/refuse/(\d+)/", parts.path):
            return refusal(int(m.group(1)))
        status = verify(query, parts.path, rec.host, self.api_key, self.secret)
        return refusal(status) if status else None

    async def _handle(self, ws: ServerConnection) -> None:
        rec = self._by_connection.pop(ws)
        try:
            rec.frame = json.loads(await ws.recv())
            rec.domain = rec.frame["parameter"]["chat"]["domain"]  # type: ignore[index]
            await self._play(ws, rec.domain)
        except ConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            rec.client_closed = time.monotonic()

    async def _play(self, ws: ServerConnection, domain: str) -> None:
        name, _, split = domain.partition("@")
        scenario = self.scenarios.get(name) or SparkScenario(
            [{"header": {"code": 10404, "message": f"domain {name} not found", "status": 2}}]
        )
        if scenario.first_delay:
            await asyncio.sleep(scenario.first_delay)
        for i, frame in enumerate(scenario.frames):
            if i and scenario.delay:
                await asyncio.sleep(scenario.delay)
            data = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
            await ws.send(split_message(data, split), text=True)
        if scenario.end == "abort":
            ws.transport.abort()
        elif scenario.end == "close":
            await ws.close()
