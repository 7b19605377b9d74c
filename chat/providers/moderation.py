"""OpenAI's moderation endpoint (`POST {OPENAI_BASE_URL}/moderations`), for the moderation
hook (chat/moderation.py). https://platform.openai.com/docs/api-reference/moderations

Answer: `{"results": [{"flagged": bool, "categories": {"harassment": bool, ...}, ...}]}`.
Failures are UpstreamErrors whose messages hold no URL and no key.
"""

from __future__ import annotations

import httpx
from django.conf import settings

from chat.providers import errors
from chat.providers.base import Timeouts
from chat.providers.errors import UpstreamError
from chat.providers.http import make_client, parse_json, transport_error

LABEL = "OpenAI moderation"


async def openai_moderation(text: str) -> str | None:
    """The flagged categories, comma-separated ("flagged" if it names none), or None."""
    timeout = settings.CHAT_MODERATION_TIMEOUT
    client = make_client(Timeouts(timeout, timeout, timeout))
    headers = {"Content-Type": "application/json"}
    if settings.OPENAI_API_KEY:
        headers["Authorization"] = f"Bearer {settings.OPENAI_API_KEY}"
    try:
        response = await client.post(
            settings.OPENAI_BASE_URL.rstrip("/") + "/moderations",
            json={"model": settings.CHAT_MODERATION_MODEL, "input": text},
            headers=headers,
            timeout=httpx.Timeout(timeout),
        )
    except httpx.HTTPError as exc:
        raise transport_error(LABEL, exc) from None
    if response.status_code != 200:
        raise UpstreamError(f"{LABEL} answered HTTP {response.status_code}.", "error")
    return _verdict(parse_json(response.content))


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
