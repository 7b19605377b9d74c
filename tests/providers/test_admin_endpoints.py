"""Upstream endpoints managed in the admin: added, used, edited and disabled at runtime.

The admin is driven through its real forms with Django's test client; the site under test is
the daphne process, which reads the endpoints from the database on every request, so no
restart happens in between. The key is write-only: it appears in no page, API answer,
event stream or log line, not even when the upstream quotes it back in an error.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Endpoint
from chat.providers import context_tokens
from tests.support.clients import SiteClient
from tests.support.daphne import Daphne
from tests.support.fakes.upstream import FakeUpstream
from tests.support.reply_checks import ask_and_read
from tests.support.testenv import FAKE_URL

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-admin-endpoint-k3y-5e4d3c2b1a"
NEW_KEY = "sk-admin-endpoint-rotated-9z8y7x"


def form(**fields: str) -> dict[str, str]:
    data = {
        "label": "Local Ollama",
        "protocol": "openai",
        "base_url": f"{FAKE_URL}/v1",
        "api_key": KEY,
        "api_secret": "",
        "app_id": "",
        "model_names": "oa-plain, oa-t-ollama-reasoning",
        "enabled": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def add_endpoint(admin: Client, **fields: str) -> Endpoint:
    response = admin.post("/admin/chat/endpoint/add/", form(**fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Endpoint.objects.latest("id")


def models(site: SiteClient) -> list[dict[str, str]]:
    response = site.http.get("/api/models")
    assert response.status_code == 200
    assert KEY not in response.text and NEW_KEY not in response.text
    return response.json()["models"]


def test_the_add_form_asks_for_the_key_as_a_password(admin: Client) -> None:
    page = admin.get("/admin/chat/endpoint/add/").content.decode()
    assert re.search(r'<input type="password" name="api_key"[^>]*>', page)
    assert re.search(r'<input type="password" name="api_secret"[^>]*>', page)


def test_an_endpoint_added_in_the_admin_streams_a_reply_without_a_restart(
    admin: Client, site: SiteClient, fake_upstream: FakeUpstream, daphne: Daphne
) -> None:
    endpoint = add_endpoint(admin)
    model_id = f"ep{endpoint.pk}:oa-plain"
    listed = models(site)
    assert {"id": model_id, "label": "oa-plain", "provider": "Local Ollama"} in listed
    assert {
        "id": f"ep{endpoint.pk}:oa-t-ollama-reasoning",
        "label": "oa-t-ollama-reasoning",
        "provider": "Local Ollama",
    } in listed
    # Grouped by provider: each provider's models come together, in one run.
    providers = [m["provider"] for m in listed]
    runs = [p for i, p in enumerate(providers) if i == 0 or providers[i - 1] != p]
    assert len(runs) == len(set(runs))
    assert runs[0] == "Demo" and "Local Ollama" in runs

    page = site.http.get("/").text
    group = re.search(r'<optgroup label="Local Ollama">(.*?)</optgroup>', page, re.S)
    assert group and f'value="{model_id}"' in group.group(1)

    reply, url = site.ask(model_id, "Hi there")
    text, events = site.stream_text(url)
    assert text == "Hello! 你好，世界 🌏"
    assert events[-1].data["status"] == "complete"
    request = fake_upstream.requests_for("oa-plain")[-1]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.path == "/v1/chat/completions"

    # Nowhere to be seen: admin pages, API answers, the event stream, the logs.
    pages = [
        admin.get("/admin/chat/endpoint/").content.decode(),
        admin.get(f"/admin/chat/endpoint/{endpoint.pk}/change/").content.decode(),
        admin.get(f"/admin/chat/endpoint/{endpoint.pk}/history/").content.decode(),
        site.http.get(f"/api/conversations/{site.conversation_of(reply['id'])}").text,
        json.dumps([e.data for e in events], ensure_ascii=False),
        site.http.get("/").text,
        daphne.logs(),
    ]
    assert "Local Ollama" in pages[0]
    for text in pages:
        assert KEY not in text


def test_reasoning_from_an_admin_endpoint_is_kept_apart(admin: Client, site: SiteClient) -> None:
    endpoint = add_endpoint(admin)
    saved = ask_and_read(site, f"ep{endpoint.pk}:oa-t-ollama-reasoning")
    assert saved["content"] == "Hello!"
    assert saved["reasoning"] == "Hmm, a greeting. Reply kindly."


def test_editing_without_a_key_keeps_it_and_a_new_key_applies_at_once(
    admin: Client, site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    endpoint = add_endpoint(admin)
    change = f"/admin/chat/endpoint/{endpoint.pk}/change/"
    response = admin.post(change, form(label="DeepSeek", api_key="", model_names="oa-code"))
    assert response.status_code == 302
    assert Endpoint.objects.get(pk=endpoint.pk).api_key == KEY
    assert [m["provider"] for m in models(site) if m["id"] == f"ep{endpoint.pk}:oa-code"] == [
        "DeepSeek"
    ]
    assert f"ep{endpoint.pk}:oa-plain" not in {m["id"] for m in models(site)}
    ask_and_read(site, f"ep{endpoint.pk}:oa-code")
    assert fake_upstream.requests_for("oa-code")[-1].headers["authorization"] == f"Bearer {KEY}"

    response = admin.post(change, form(label="DeepSeek", api_key=NEW_KEY, model_names="oa-code"))
    assert response.status_code == 302
    ask_and_read(site, f"ep{endpoint.pk}:oa-code")
    assert fake_upstream.requests_for("oa-code")[-1].headers["authorization"] == f"Bearer {NEW_KEY}"
    page = admin.get(change).content.decode()
    assert NEW_KEY not in page and KEY not in page


def test_a_disabled_endpoint_leaves_the_picker_and_refuses_new_messages(
    admin: Client, site: SiteClient
) -> None:
    endpoint = add_endpoint(admin)
    model_id = f"ep{endpoint.pk}:oa-plain"
    conv = site.new_conversation(model_id)
    response = admin.post(f"/admin/chat/endpoint/{endpoint.pk}/change/", form(enabled=""))
    assert response.status_code == 302
    assert model_id not in {m["id"] for m in models(site)}
    refused = site.http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "Hi"})
    assert refused.status_code == 400
    assert "not available" in refused.json()["error"]


def test_a_key_the_upstream_quotes_back_is_redacted_from_the_error(
    admin: Client, site: SiteClient, daphne: Daphne
) -> None:
    endpoint = add_endpoint(admin, model_names="oa-t-key-echo")
    saved = ask_and_read(site, f"ep{endpoint.pk}:oa-t-key-echo")
    assert saved["status"] == "error"
    assert "Invalid API key: [redacted]" in saved["error"]
    assert KEY not in json.dumps(saved)
    assert KEY not in daphne.logs()


def test_an_endpoint_sharing_a_providers_label_joins_its_group(
    admin: Client, site: SiteClient
) -> None:
    endpoint = add_endpoint(admin, label="OpenAI", model_names="my-finetune")
    listed = models(site)
    providers = [m["provider"] for m in listed]
    runs = [p for i, p in enumerate(providers) if i == 0 or providers[i - 1] != p]
    assert len(runs) == len(set(runs))
    openai = [m["id"] for m in listed if m["provider"] == "OpenAI"]
    assert openai[0] == "openai:oa-plain" and openai[-1] == f"ep{endpoint.pk}:my-finetune"


@pytest.mark.parametrize(
    ("fields", "field_in_error"),
    [
        ({"protocol": "openai", "base_url": "wss://example.invalid/v1"}, "base_url"),
        ({"protocol": "spark", "base_url": "https://spark.example.invalid/v3.5/chat"}, "base_url"),
        ({"protocol": "spark", "base_url": "wss://spark.example.invalid/v3.5/chat"}, "app_id"),
        (
            {"protocol": "openai", "base_url": "http://127.0.0.1:9/v1", "model_names": " , "},
            "model_names",
        ),
    ],
)
def test_the_endpoint_form_refuses_what_could_never_work(
    admin_client: Client, fields: dict[str, str], field_in_error: str
) -> None:
    data = {"label": "Broken", "api_key": "k", "model_names": "m", "enabled": "on", **fields}
    response = admin_client.post(reverse("admin:chat_endpoint_add"), data)
    assert response.status_code == 200  # the form again, with its errors
    assert field_in_error in response.context["adminform"].form.errors
    assert not Endpoint.objects.exists()


def test_an_endpoints_context_size_is_set_in_the_admin(admin: Client) -> None:
    endpoint = add_endpoint(admin, context_tokens="4096")

    assert endpoint.context_tokens == 4096
    assert context_tokens(f"ep{endpoint.pk}:oa-plain") == 4096
    admin.post(f"/admin/chat/endpoint/{endpoint.pk}/change/", form(context_tokens=""))
    endpoint.refresh_from_db()
    assert endpoint.context_tokens is None
    assert context_tokens(f"ep{endpoint.pk}:oa-plain") == 128_000
