"""HTTP plumbing shared by the HTTP providers: one client, timeouts, status errors.

Error messages are composed here from the status and the upstream's own message; they never
include a URL or header, and the provider's key is redacted from anything the upstream says,
so no key can leak into what a user or a log sees.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import aiohttp

from chat.providers import errors
from chat.providers.base import Timeouts
from chat.providers.body import finish_in_background, iter_chunks, read_limited, transport_error
from chat.providers.errors import ErrorKind, UpstreamError
from chat.server.process import state

MAX_UPSTREAM_MESSAGE = 500
KEEPALIVE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error body says: the upstream's message and code, and a classification when
    the body itself makes one clear (auth, rate_limit or quota); empty means "by status"."""

    message: str = ""
    code: str = ""
    kind: ErrorKind | Literal[""] = ""


# Parses an error body (already decoded JSON, or None) into an ErrorBody.
ErrorParser = Callable[[object], ErrorBody]

# Codes that mean the account has no quota or credit left: waiting will not help.
QUOTA_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "Arrearage"}
)
_QUOTA_WORDS = re.compile(
    r"quota|billing|credit balance|insufficient balance|余额不足|欠费", re.IGNORECASE
)
# What upstreams say when the prompt is longer than the model's context: OpenAI and vLLM
# ("maximum context length is ..."; code context_length_exceeded), Anthropic ("prompt is too
# long"), Gemini ("input token count ... exceeds the maximum"), llama.cpp ("exceeds the
# available context size"), Qwen/DashScope ("Range of input length should be [1, n]"),
# Ollama, DeepSeek and Moonshot in English or Chinese.
CONTEXT_CODES = frozenset({"context_length_exceeded", "model_context_window_exceeded"})
_CONTEXT_WORDS = re.compile(
    r"context.{0,20}(length|window|size|limit)|prompt is too long|too many (input )?tokens"
    r"|input token count|range of input length|exceeds? the max\w* (number of )?tokens"
    r"|上下文|超过.{0,10}(长度|上限)",
    re.IGNORECASE,
)
_RATE_WORDS = re.compile(r"rate.?limit|per min|requests per|tokens per|try again", re.IGNORECASE)


def error_kind(status: int, body: ErrorBody, retry_after: bool = False) -> ErrorKind:
    """Classify an HTTP failure. A rate limit passes; a quota does not; a 4xx is the request's
    own fault, except 408 and 409, which may pass."""
    kind: ErrorKind | None = body.kind or None
    if kind is None:
        quota_words = bool(_QUOTA_WORDS.search(body.message))
        if body.code in CONTEXT_CODES or (
            status in (400, 413, 422) and _CONTEXT_WORDS.search(body.message)
        ):
            kind = "context_length"
        elif body.code in QUOTA_CODES or status == 402:
            kind = "quota"
        elif status == 429:
            rate_words = bool(_RATE_WORDS.search(body.message))
            kind = "quota" if quota_words and not rate_words and not retry_after else "rate_limit"
        elif status in (400, 403) and quota_words and "credit" in body.message.lower():
            kind = "quota"  # Anthropic: 400 "Your credit balance is too low ..."
        elif status in (401, 403):
            kind = "auth"
        else:
            kind = "error" if status in (408, 409) or status >= 500 else "rejected"
    return kind


def http_error(
    provider: str, status: int, body: ErrorBody, retry_after: bool = False
) -> UpstreamError:
    kind = error_kind(status, body, retry_after)
    if lead := errors.refusal_lead(provider, kind):
        pass
    elif status in (503, 529):
        lead = errors.lead(errors.LEAD_OVERLOADED, provider)
    elif status >= 500:
        lead = errors.lead(errors.LEAD_FAILED, provider)
    else:
        lead = errors.lead(errors.LEAD_REJECTED, provider)
    message = body.message[:MAX_UPSTREAM_MESSAGE]
    text = f"{lead} (HTTP {status}): {message}" if message else f"{lead} (HTTP {status})."
    return UpstreamError(text, kind)


def parse_json(body: bytes | bytearray) -> object:
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every upstream request of the process: building one (loading the
    CA bundle) costs tens of milliseconds of CPU on the event loop, per request."""
    return ssl.create_default_context()


def upstream_session() -> aiohttp.ClientSession:
    """The process's upstream connections, kept alive and reused between replies: no TCP and
    TLS handshake before each reply's first token. A reply whose response is closed before it
    ended (Stop, an error, a timeout) closes its connection: only a response read to its end
    gives its connection back, so Stop still ends the upstream's work. No cookie jar: nothing
    an upstream sets reaches another reply. One session per event loop: one per process under
    daphne; tests run several loops."""
    loop = asyncio.get_running_loop()
    session = state.upstream_pools.get(loop)
    if session is None or session.closed:
        session = state.upstream_pools[loop] = new_session()
    return session


def new_session() -> aiohttp.ClientSession:
    """A session (connection pool) with the settings every upstream request uses."""
    connector = aiohttp.TCPConnector(
        limit=0, keepalive_timeout=KEEPALIVE_SECONDS, ssl=_tls_context()
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=None),
    )


async def close_upstream_session() -> None:
    """Close this loop's upstream connections (a process shutting down, a test's loop)."""
    session = state.upstream_pools.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def json_body(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@asynccontextmanager
async def open_stream(
    provider: str,
    url: str,
    *,
    headers: dict[str, str],
    payload: dict[str, object],
    timeouts: Timeouts,
    parse_error: ErrorParser,
    secrets: tuple[str, ...] = (),
) -> AsyncIterator[AsyncIterator[bytes]]:
    """POST payload and yield the response body as chunks, with every timeout applied.

    Leaving the block closes the response, and with it the connection unless the response was
    read to its end: that is what makes Stop stop the upstream. Any UpstreamError leaving the
    block, raised here or by the caller's parsing, has the secrets redacted. Once sent, the
    payload (the conversation's history) is not kept while the reply streams: callers pass it
    as an expression and drop their request too.
    """
    # Read timeouts: first_byte until the first chunk, then idle (iter_chunks).
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=timeouts.connect,
        sock_connect=timeouts.connect,
        sock_read=timeouts.first_byte,
    )
    try:
        try:
            async with asyncio.timeout(timeouts.first_byte):
                response = await upstream_session().post(
                    url,
                    data=json_body(payload),
                    headers={**headers, "Content-Type": "application/json"},
                    allow_redirects=False,
                    timeout=timeout,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(provider, exc) from None
        del payload
        ended = False
        try:
            if response.status >= 400:
                raw = await read_limited(provider, response, timeouts)
                body = parse_error(parse_json(raw))
                if not body.message:
                    text = raw.decode("utf-8", errors="replace").strip()
                    body = ErrorBody(text[:MAX_UPSTREAM_MESSAGE], body.code, body.kind)
                retry_after = "Retry-After" in response.headers
                raise http_error(provider, response.status, body, retry_after)
            chunks = iter_chunks(provider, response, timeouts)
            try:
                yield chunks
                ended = True  # the stream gave its completion signal
            finally:
                if not ended:
                    await chunks.aclose()
        finally:
            if ended:
                finish_in_background(chunks, response)
            else:
                response.close()
    except UpstreamError as exc:
        raise exc.redacted(*secrets) from None
