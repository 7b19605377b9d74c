"""HTTP plumbing shared by the HTTP providers: one client, timeouts, status errors.

Error messages are composed here from the status and the upstream's own message; they never
include a URL or header, so no key can leak into what a user or a log sees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from chat.providers.base import Timeouts, UpstreamError

MAX_ERROR_BODY = 64 * 1024

# Parses an error body (already decoded JSON, or None) into (message, code).
ErrorParser = Callable[[object], tuple[str, str]]


def error_kind(status: int, code: str, message: str) -> tuple[str, bool]:
    """Classify an HTTP failure: (kind, retryable). A rate limit passes; a quota does not."""
    lowered = f"{code} {message}".lower()
    if status == 429 or code in {"RESOURCE_EXHAUSTED", "rate_limit_error"}:
        if ("quota" in lowered and "rate" not in lowered) or "insufficient_quota" in lowered:
            return "quota", False
        return "rate_limit", True
    if status in (401, 403):
        return "auth", False
    if status in (408, 409) or status >= 500:
        return "error", True
    return "error", False


_KIND_TEXT = {
    "auth": "The upstream refused the credentials",
    "rate_limit": "The upstream is rate limiting requests; try again in a moment",
    "quota": "The upstream account's quota is exhausted; retrying will not help",
}


def http_error(provider: str, status: int, message: str, code: str = "") -> UpstreamError:
    kind, retryable = error_kind(status, code, message)
    lead = _KIND_TEXT.get(kind)
    if lead is None:
        lead = (
            f"{provider} failed (HTTP {status})"
            if status >= 500
            else (f"{provider} rejected the request (HTTP {status})")
        )
    else:
        lead = f"{lead} (HTTP {status})"
    text = f"{lead}: {message}" if message else f"{lead}."
    return UpstreamError(
        message=text,
        upstream_message=message,
        code=code,
        status=status,
        retryable=retryable,
        kind=kind,
    )


def parse_json(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None


def transport_error(provider: str, exc: Exception) -> UpstreamError:
    """Map an httpx or timeout exception to a user-facing error (no URL in the text)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return UpstreamError(
            f"Could not connect to {provider}: timed out.", kind="timeout", retryable=True
        )
    if isinstance(exc, httpx.ConnectError):
        return UpstreamError(
            f"Could not connect to {provider}: it is unreachable.",
            kind="unreachable",
            retryable=True,
        )
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return UpstreamError(
            f"{provider} stopped answering (timed out).", kind="timeout", retryable=True
        )
    return UpstreamError(
        f"The connection to {provider} failed: {type(exc).__name__}.",
        kind="interrupted",
        retryable=True,
    )


def make_client(timeouts: Timeouts) -> httpx.AsyncClient:
    # Read timeouts are enforced per chunk by iter_chunks (first byte vs idle differ), so
    # httpx's own read timeout is off; connect and write keep theirs.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=timeouts.connect, read=None, write=timeouts.idle, pool=timeouts.connect
        ),
        follow_redirects=False,
        trust_env=False,
    )


@asynccontextmanager
async def open_stream(
    provider: str,
    url: str,
    *,
    headers: dict[str, str],
    payload: dict[str, object],
    timeouts: Timeouts,
    parse_error: ErrorParser,
) -> AsyncIterator[AsyncIterator[bytes]]:
    """POST payload and yield the response body as chunks, with every timeout applied.

    Leaving the block closes the response and the client, and with them the connection:
    that is what makes Stop stop the upstream.
    """
    async with make_client(timeouts) as client:
        request = client.build_request("POST", url, headers=headers, json=payload)
        try:
            async with asyncio.timeout(timeouts.first_byte):
                response = await client.send(request, stream=True)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise transport_error(provider, exc) from None
        try:
            if response.status_code >= 400:
                body = await _read_limited(provider, response, timeouts)
                message, code = parse_error(parse_json(body))
                if not message:
                    message = body.decode("utf-8", errors="replace").strip()[:500]
                raise http_error(provider, response.status_code, message, code)
            yield iter_chunks(provider, response, timeouts)
        finally:
            await response.aclose()


async def _read_limited(provider: str, response: httpx.Response, timeouts: Timeouts) -> bytes:
    body = b""
    async for chunk in iter_chunks(provider, response, timeouts):
        body += chunk
        if len(body) > MAX_ERROR_BODY:
            break
    return body


async def iter_chunks(
    provider: str, response: httpx.Response, timeouts: Timeouts
) -> AsyncIterator[bytes]:
    """The raw body: the first chunk within first_byte seconds, the others within idle."""
    chunks = response.aiter_bytes()
    limit = timeouts.first_byte
    try:
        while True:
            try:
                async with asyncio.timeout(limit):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except (httpx.HTTPError, TimeoutError) as exc:
                raise transport_error(provider, exc) from None
            limit = timeouts.idle
            if chunk:
                yield chunk
    finally:
        await chunks.aclose()
