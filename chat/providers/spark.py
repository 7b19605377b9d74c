"""iFlytek Spark (讯飞星火) WebSocket chat (PROTOCOLS.md section 6).

One connection per reply: open the HMAC-signed URL, send one request frame, read JSON frames
until header.status is 2 (the last one carries the usage). A frame with a non-zero
header.code is an error, even after text; a socket closed before status 2 was interrupted.
A refused handshake is a plain HTTP response, reported with its body.

The signed URL carries a signature, so it never goes into a message or a log line: errors
are composed here from codes and the upstream's own messages, and the WebSocket library's
debug log (which prints the request line) is silenced for these connections.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from chat.providers import errors
from chat.providers.base import (
    ChatRequest,
    Event,
    Finish,
    ReasoningDelta,
    TextDelta,
    Timeouts,
    Usage,
    merged_turns,
)
from chat.providers.errors import ErrorKind, UpstreamError
from chat.providers.http import ErrorBody, http_error, parse_json

# The chat path of each domain on spark-api.xf-yun.com; used when SPARK_URL has no path.
DOMAIN_PATHS = {
    "lite": "/v1.1/chat",
    "general": "/v1.1/chat",
    "generalv3": "/v3.1/chat",
    "pro-128k": "/chat/pro-128k",
    "generalv3.5": "/v3.5/chat",
    "max-32k": "/chat/max-32k",
    "4.0Ultra": "/v4.0/chat",
}
MAX_TOKENS_LIMIT = 8192  # the largest max_tokens any Spark domain accepts

# header.code classes (iFLYTEK-OP/websdk-java doc/spark/sparkchat.md).
_QUOTA = frozenset({11200, 11201})  # no licence or quota left; the daily limit is passed
_RATE = frozenset({11202, 11203})  # per-second or concurrency limits
_BLOCKED = frozenset({10013, 10014, 10019, 10021})  # content audit
_AUTH = frozenset({10015, 10016})
_CONTEXT = frozenset({10907})  # the history and question hold more tokens than the domain's
_BUSY = frozenset({10000, 10001, 10002, 10007, 10008, 10009, 10010, 10011, 10012, 10110, 10222})


class _NoDebugLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """websockets logs the request line (with the signature) at debug level: never allow it."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


_WS_LOG = _NoDebugLog(logging.getLogger(__name__), {})


def chat_url(url: str, domain: str) -> str:
    """SPARK_URL as given, or, when it names only a host, the domain's own chat path."""
    parts = urlsplit(url)
    if parts.path not in ("", "/"):
        return url
    path = DOMAIN_PATHS.get(domain)
    if path is None:
        raise UpstreamError(
            f"No chat path is known for the Spark domain {domain!r}; "
            "give the full chat URL in the endpoint's address.",
            kind="config",
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def sign_url(url: str, api_key: str, api_secret: str, date: str | None = None) -> str:
    """The HMAC-SHA256 signed URL (iflytek/spark-ai-python `_create_url`)."""
    parts = urlsplit(url)
    date = date or formatdate(usegmt=True)
    origin = f"host: {parts.netloc}\ndate: {date}\nGET {parts.path} HTTP/1.1"
    digest = hmac.new(api_secret.encode(), origin.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    authorization = base64.b64encode(
        (
            f'api_key="{api_key}", algorithm="hmac-sha256", '
            f'headers="host date request-line", signature="{signature}"'
        ).encode()
    ).decode()
    query = urlencode({"authorization": authorization, "date": date, "host": parts.netloc})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def spark_frame(app_id: str, request: ChatRequest) -> dict[str, object]:
    text = [{"role": "system", "content": request.system_prompt}] if request.system_prompt else []
    text += [{"role": t.role, "content": t.content} for t in merged_turns(request)]
    return {
        # A fresh uid per reply: Spark refuses a second question from a uid still being
        # answered (10007), and replies here may run side by side.
        "header": {"app_id": app_id, "uid": uuid.uuid4().hex},
        "parameter": {
            "chat": {
                "domain": request.model,
                "max_tokens": min(request.max_output_tokens, MAX_TOKENS_LIMIT),
            }
        },
        "payload": {"message": {"text": text}},
    }


def frame_error(provider: str, code: int, message: str) -> UpstreamError:
    kind: ErrorKind
    if code in _QUOTA:
        kind = "quota"
    elif code in _RATE:
        kind = "rate_limit"
    elif code in _BLOCKED:
        kind = "blocked"
    elif code in _CONTEXT:
        kind = "context_length"
    if code in _QUOTA or code in _RATE or code in _BLOCKED or code in _CONTEXT:
        lead = errors.refusal_lead(provider, kind)
    elif code in _AUTH:
        lead, kind = errors.lead(errors.LEAD_APP_ID, provider), "auth"
    else:
        lead = errors.lead(errors.LEAD_REPORTED, provider)
        kind = "error" if code in _BUSY else "rejected"
    return UpstreamError(
        f"{lead} (code {code}): {message}" if message else f"{lead} (code {code}).", kind
    )


def parse_handshake_error(body: object) -> ErrorBody:
    """A refused handshake's body: `{"message": "..."}` (or `{"code", "message"}`)."""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ErrorBody(body["message"], str(body.get("code") or ""))
    return ErrorBody()


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chunk_events(provider: str, raw: str | bytes) -> tuple[list[Event], Usage | None, bool]:
    """One frame into (events, usage or None, whether it was the last frame)."""
    frame = parse_json(raw if isinstance(raw, bytes) else raw.encode())
    header = frame.get("header") if isinstance(frame, dict) else None
    if not isinstance(header, dict):
        raise errors.malformed(provider, "frame")
    code = header.get("code") or 0
    if code not in (0, "0"):
        try:
            number = int(code)
        except (TypeError, ValueError):
            number = -1
        raise frame_error(provider, number, str(header.get("message") or ""))
    payload = _dict(_dict(frame).get("payload"))
    choices = _dict(payload.get("choices"))
    out: list[Event] = []
    for item in choices.get("text") or ():
        item = _dict(item)
        reasoning, content = item.get("reasoning_content"), item.get("content")
        if isinstance(reasoning, str) and reasoning:
            out.append(ReasoningDelta(reasoning))
        if isinstance(content, str) and content:
            out.append(TextDelta(content))
    usage = None
    counts = _dict(_dict(payload.get("usage")).get("text"))
    if counts:
        usage = Usage(_int(counts.get("prompt_tokens")), _int(counts.get("completion_tokens")))
    last = header.get("status") == 2 or choices.get("status") == 2
    return out, usage, last


@dataclass(frozen=True)
class SparkProvider:
    label: str
    url: str
    app_id: str
    api_key: str
    api_secret: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key, self.api_secret)

    async def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        usage: Usage | None = None
        try:
            async with await self._connect(request.model, timeouts) as ws:
                frame = json.dumps(spark_frame(self.app_id, request), ensure_ascii=False)
                try:
                    await ws.send(frame)
                except ConnectionClosed:
                    raise errors.closed_early(self.label) from None
                del request, frame  # sent: the history is not held while the reply streams
                # Frames until status 2: the first within first_byte seconds, then idle.
                limit, last = timeouts.first_byte, False
                while not last:
                    raw = await self._receive(ws, limit)
                    limit = timeouts.idle
                    events, frame_usage, last = chunk_events(self.label, raw)
                    usage = frame_usage or usage
                    for event in events:
                        yield event
        except UpstreamError as exc:
            raise exc.redacted(self.api_key, self.api_secret) from None
        if usage is not None:
            yield usage
        yield Finish("stop", "")  # Spark has no finish reason: status 2 is a normal end

    async def _connect(self, domain: str, timeouts: Timeouts) -> ClientConnection:
        signed = sign_url(chat_url(self.url, domain), self.api_key, self.api_secret)
        try:
            return await connect(
                signed,
                open_timeout=timeouts.connect,
                close_timeout=min(timeouts.idle, 2.0),
                proxy=None,
                logger=_WS_LOG,
            )
        except InvalidStatus as exc:
            response = exc.response
            body = parse_handshake_error(parse_json(response.body or b""))
            if not body.message:
                text = (response.body or b"").decode("utf-8", errors="replace").strip()
                body = ErrorBody(text[:500])
            raise http_error(self.label, response.status_code, body) from None
        except InvalidURI:
            raise errors.bad_address(self.label) from None
        except TimeoutError:
            raise errors.connect_timeout(self.label) from None
        except OSError:
            raise errors.unreachable(self.label) from None
        except WebSocketException as exc:
            raise UpstreamError(
                f"{self.label} refused the connection ({type(exc).__name__}).",
                kind="unreachable",
            ) from None

    async def _receive(self, ws: ClientConnection, limit: float) -> str | bytes:
        try:
            async with asyncio.timeout(limit):
                return await ws.recv()
        except TimeoutError:
            raise errors.stopped_answering(self.label) from None
        except ConnectionClosed:
            raise errors.closed_early(self.label) from None
