"""Which models exist and which provider serves each: from the environment and the admin.

A model id is `<source>:<upstream model id>` (split on the first colon only, since upstream
ids such as Ollama's `qwen2.5:7b` contain colons), or `demo`. Sources: `openai`,
`openai-completions`, `anthropic`, `gemini`, `spark` from the environment, and `ep<pk>` for an
endpoint added in the admin. Endpoints are read from the database on every call, so the admin's
changes apply at once, in every process, without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from chat.providers import errors
from chat.providers.base import Provider, Timeouts
from chat.providers.errors import UpstreamError


@dataclass(frozen=True, slots=True)
class ModelChoice:
    id: str
    label: str
    provider: str


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    label: str
    protocol: str
    base_url: str
    api_key: str
    models: tuple[str, ...]
    app_id: str = ""
    api_secret: str = ""
    context_tokens: int | None = None  # set on an admin's endpoint; None: the default


def _env_sources() -> list[_Source]:
    s = settings
    sources = []
    if s.OPENAI_API_KEY:
        sources.append(
            _Source(
                "openai",
                "OpenAI",
                "openai",
                s.OPENAI_BASE_URL,
                s.OPENAI_API_KEY,
                tuple(s.OPENAI_MODELS),
            )
        )
        if s.OPENAI_COMPLETIONS_MODELS:
            sources.append(
                _Source(
                    "openai-completions",
                    "OpenAI Completions",
                    "openai_completions",
                    s.OPENAI_BASE_URL,
                    s.OPENAI_API_KEY,
                    tuple(s.OPENAI_COMPLETIONS_MODELS),
                )
            )
    if s.ANTHROPIC_API_KEY:
        sources.append(
            _Source(
                "anthropic",
                "Anthropic",
                "anthropic",
                s.ANTHROPIC_BASE_URL,
                s.ANTHROPIC_API_KEY,
                tuple(s.ANTHROPIC_MODELS),
            )
        )
    if s.GEMINI_API_KEY:
        sources.append(
            _Source(
                "gemini",
                "Google Gemini",
                "gemini",
                s.GEMINI_BASE_URL,
                s.GEMINI_API_KEY,
                tuple(s.GEMINI_MODELS),
            )
        )
    if s.SPARK_APP_ID and s.SPARK_API_KEY and s.SPARK_API_SECRET:
        sources.append(
            _Source(
                "spark",
                "iFlytek Spark",
                "spark",
                s.SPARK_URL,
                s.SPARK_API_KEY,
                tuple(s.SPARK_MODELS),
                s.SPARK_APP_ID,
                s.SPARK_API_SECRET,
            )
        )
    return sources


def _db_sources(pk: int | None = None) -> list[_Source]:
    """The admin's enabled endpoints (only endpoint `pk`, if given)."""
    from chat.models import Endpoint

    endpoints = Endpoint.objects.enabled()
    if pk is not None:
        endpoints = endpoints.filter(pk=pk)
    return [
        _Source(
            f"ep{e.pk}",
            e.label,
            e.protocol,
            e.base_url,
            e.api_key,
            tuple(e.model_ids),
            e.app_id,
            e.api_secret,
            e.context_tokens,
        )
        for e in endpoints
    ]


def _sources() -> list[_Source]:
    return _env_sources() + _db_sources()


def available_models() -> list[ModelChoice]:
    """Every enabled model, grouped by provider (the demo model first). Sync: touches the DB."""
    groups: dict[str, list[ModelChoice]] = {"Demo": [ModelChoice("demo", "Demo (offline)", "Demo")]}
    for source in _sources():
        # Sources sharing a label (two endpoints both called "Ollama") share one group.
        groups.setdefault(source.label, []).extend(
            ModelChoice(f"{source.key}:{m}", m, source.label) for m in source.models
        )
    return [choice for group in groups.values() for choice in group]


def default_model() -> str:
    ids = {c.id for c in available_models()}
    return settings.CHAT_DEFAULT_MODEL if settings.CHAT_DEFAULT_MODEL in ids else "demo"


def model_exists(model_id: str) -> bool:
    return any(c.id == model_id for c in available_models())


def provider_label(model_id: str) -> str:
    """The label of the provider serving model_id ("" if none does). Sync: touches the DB
    for an admin's endpoint only."""
    if model_id == "demo":
        return "Demo"
    source = _source_of(model_id)
    return source.label if source is not None else ""


def _build(source: _Source, model: str) -> Provider:
    if source.protocol in ("openai", "openai_completions"):
        from chat.providers.openai import OpenAIProvider

        return OpenAIProvider(
            source.label,
            source.base_url,
            source.api_key,
            completions=source.protocol == "openai_completions",
        )
    if source.protocol == "anthropic":
        from chat.providers.anthropic import AnthropicProvider

        return AnthropicProvider(source.label, source.base_url, source.api_key)
    if source.protocol == "gemini":
        from chat.providers.gemini import GeminiProvider

        return GeminiProvider(source.label, source.base_url, source.api_key)
    if source.protocol == "spark":
        from chat.providers.spark import SparkProvider

        return SparkProvider(
            source.label, source.base_url, source.app_id, source.api_key, source.api_secret
        )
    raise UpstreamError(f"Unknown protocol {source.protocol!r}.", "config")


# Context windows in tokens, by protocol, for models nobody configured: what the usual models
# of each offer (GPT-4o and most OpenAI-compatible servers' current models 128k, Claude 200k,
# Gemini 1M, Spark 8k, the legacy Completions models 4k). A local server started with a small
# context (Ollama's default is 2k to 8k) needs CHAT_CONTEXT_TOKENS or the endpoint's field.
DEFAULT_CONTEXT_TOKENS = {
    "demo": 8_192,
    "openai": 128_000,
    "openai_completions": 4_096,
    "anthropic": 200_000,
    "gemini": 1_048_576,
    "spark": 8_192,
}


def _source_of(model_id: str) -> _Source | None:
    """The source serving model_id ("key:model"); None for the demo model or none. Sync:
    reads the one endpoint of an `ep<pk>` key from the DB, nothing for the environment's."""
    if model_id == "demo":
        return None
    key, _, model = model_id.partition(":")
    number = key.removeprefix("ep")
    if number != key:
        valid = number.isascii() and number.isdigit() and len(number) <= 18
        sources = _db_sources(int(number)) if valid else []
    else:
        sources = _env_sources()
    return next((s for s in sources if s.key == key and model in s.models), None)


def resolve(model_id: str) -> tuple[Provider, str, int]:
    """The provider serving model_id, the upstream's own model id and the model's context
    size (one look at the sources). Sync: touches the DB."""
    if model_id == "demo":
        from chat.providers.demo import DemoProvider

        provider: Provider = DemoProvider(settings.CHAT_DEMO_TOKEN_DELAY)
        return provider, "demo", _context_size(model_id, None)
    source = _source_of(model_id)
    if source is None:
        raise errors.model_unavailable(model_id)
    model = model_id.partition(":")[2]
    return _build(source, model), model, _context_size(model_id, source)


def context_tokens(model_id: str) -> int:
    """The context window of model_id: CHAT_CONTEXT_TOKENS for this model, else its admin
    endpoint's field, else CHAT_CONTEXT_TOKENS' `*`, else its protocol's default. Sync."""
    return _context_size(model_id, _source_of(model_id))


def _context_size(model_id: str, source: _Source | None) -> int:
    configured: dict[str, int] = settings.CHAT_CONTEXT_TOKENS
    if model_id in configured:
        return configured[model_id]
    protocol = "demo"
    if model_id != "demo":
        if source is not None and source.context_tokens:
            return source.context_tokens
        protocol = source.protocol if source is not None else "openai"
    return configured.get("*", DEFAULT_CONTEXT_TOKENS.get(protocol, 8_192))


def timeouts() -> Timeouts:
    return Timeouts(
        settings.CHAT_CONNECT_TIMEOUT, settings.CHAT_FIRST_BYTE_TIMEOUT, settings.CHAT_IDLE_TIMEOUT
    )
