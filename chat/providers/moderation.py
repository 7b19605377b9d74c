"""OpenAI's moderation endpoint (`POST {OPENAI_BASE_URL}/moderations`), for the moderation
hook (chat/moderation.py). https://platform.openai.com/docs/api-reference/moderations

Answer: `{"results": [{"flagged": bool, "categories": {"harassment": bool, ...}, ...}]}`.
Failures are UpstreamErrors whose messages hold no URL and no key. Each check opens its own
connection (one request per message or batch of reply text): a check can run on an event
loop of its own (Django's test client, a management command), which a shared pool would
outlive.
"""

from __future__ import annotations

import asyncio

import aiohttp
from django.conf import settings

from chat.providers import errors
from chat.providers.body import transport_error
from chat.providers.errors import UpstreamError
from chat.providers.http import json_body, new_session, parse_json

LABEL = "OpenAI moderation"


async def openai_moderation(text: str) -> str | None:
    """The flagged categories, comma-separated ("flagged" if it names none), or None."""
    headers = {"Content-Type": "application/json"}
    if settings.OPENAI_API_KEY:
        headers["Authorization"] = f"Bearer {settings.OPENAI_API_KEY}"
    payload = {"model": settings.CHAT_MODERATION_MODEL, "input": text}
    try:
        async with (
            asyncio.timeout(settings.CHAT_MODERATION_TIMEOUT),
            new_session() as session,
            session.post(
                settings.OPENAI_BASE_URL.rstrip("/") + "/moderations",
                data=json_body(payload),
                headers=headers,
                allow_redirects=False,
            ) as response,
        ):
            status, body = response.status, await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise transport_error(LABEL, exc) from None
    if status != 200:
        raise UpstreamError(f"{LABEL} answered HTTP {status}.", "error")
    return _verdict(parse_json(body))


def _verdict(body: object) -> str | None:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise errors.malformed(LABEL, "answer")
    first = results[0]
    if not first.get("flagged"):
        return None
    categories = first.get("categories")
    named = (
        [str(name) for name, hit in categories.items() if hit is True]
        if isinstance(categories, dict)
        else []
    )
    return ", ".join(sorted(named)) or "flagged"
