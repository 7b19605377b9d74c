"""Which provider serves a model id: the environment's sources are looked up without the
database, an admin's endpoint with one read of that endpoint, and ids that name no source
(malformed, unknown, disabled, too long a number) are served by none."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Endpoint
from chat.providers import available_models, provider_label, resolve

pytestmark = pytest.mark.django_db


def endpoint(**fields: Any) -> Endpoint:
    values = {
        "label": "Local Ollama",
        "protocol": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-lookup",
        "model_names": "qwen2.5:7b, llama3",
        "enabled": True,
    }
    values.update(fields)
    return Endpoint.objects.create(**values)


def test_the_environments_models_and_the_demo_need_no_query(settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-env"
    settings.OPENAI_MODELS = ["gpt-4o"]
    with CaptureQueriesContext(connection) as queries:
        assert provider_label("openai:gpt-4o") == "OpenAI"
        assert provider_label("demo") == "Demo"
        assert resolve("openai:gpt-4o")[1] == "gpt-4o"
        assert provider_label("openai:gpt-5") == ""  # not configured
    assert len(queries) == 0


def test_an_endpoints_model_is_found_with_one_query() -> None:
    ep = endpoint()
    with CaptureQueriesContext(connection) as queries:
        assert provider_label(f"ep{ep.pk}:qwen2.5:7b") == "Local Ollama"
    assert len(queries) == 1
    assert {c.id: c.provider for c in available_models()}[f"ep{ep.pk}:llama3"] == "Local Ollama"


@pytest.mark.parametrize(
    "model_id",
    ["ep", "ep:llama3", "epx:llama3", "ep-1:llama3", "ep²:llama3", "ep" + "9" * 30 + ":llama3"],
)
def test_ids_that_name_no_endpoint_are_served_by_none(model_id: str) -> None:
    endpoint()
    assert provider_label(model_id) == ""


def test_a_disabled_or_other_endpoints_model_is_served_by_none() -> None:
    ep = endpoint(enabled=False)
    other = endpoint(model_names="llama3")
    assert provider_label(f"ep{ep.pk}:llama3") == ""
    assert provider_label(f"ep{other.pk}:qwen2.5:7b") == ""
    assert provider_label(f"ep{other.pk:04d}:llama3") == ""  # the key is spelled as made
    assert provider_label(f"ep{other.pk}:llama3") == "Local Ollama"
