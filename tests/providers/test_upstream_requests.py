"""Each provider sends the conversation in its own native shape, with its own headers.

A conversation with a system prompt and an earlier exchange is continued; the fake upstream
records the request, which is compared field by field with the provider's documented shape.
"""

from __future__ import annotations

import json

import pytest

from tests.support.clients import SiteClient
from tests.support.fakes.upstream import FakeUpstream, Recorded
from tests.support.fakes.wire import CODE, PLAIN
from tests.support.testenv import TEST_KEYS

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = "Answer briefly. 简短回答。"


def converse(site: SiteClient, model: str, *questions: str, system: str = SYSTEM) -> list[dict]:
    """Ask each question in turn in one conversation; the saved replies."""
    conv = site.new_conversation(model, system_prompt=system)
    replies = []
    for question in questions:
        sent = site.send(conv["id"], question)
        site.stream_text(sent["stream_url"])
        site._reply_conv[sent["reply"]["id"]] = conv["id"]
        replies.append(site.reply(sent["reply"]["id"]))
    return replies


def last_request(fake: FakeUpstream, model: str) -> Recorded:
    return fake.requests_for(model)[-1]


def test_openai_gets_a_system_message_and_the_history(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    converse(site, "openai:oa-t-plain", "First?", "Second?")
    rec = last_request(fake_upstream, "oa-t-plain")
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions")
    assert rec.headers["authorization"] == f"Bearer {TEST_KEYS['OPENAI_API_KEY']}"
    assert rec.json == {
        "model": "oa-t-plain",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "First?"},
            {"role": "assistant", "content": PLAIN},
            {"role": "user", "content": "Second?"},
        ],
    }


def test_legacy_completions_get_the_conversation_as_one_prompt(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    converse(site, "openai-completions:cmp-t-plain", "First?", "Second?")
    rec = last_request(fake_upstream, "cmp-t-plain")
    assert rec.path == "/v1/completions"
    assert rec.headers["authorization"] == f"Bearer {TEST_KEYS['OPENAI_API_KEY']}"
    assert rec.json == {
        "model": "cmp-t-plain",
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 4096,
        "prompt": f"{SYSTEM}\n\nUser: First?\n\nAssistant: {PLAIN}\n\nUser: Second?\n\nAssistant:",
    }


def test_anthropic_gets_a_top_level_system_and_its_headers(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    converse(site, "anthropic:an-t-plain", "First?", "Second?")
    rec = last_request(fake_upstream, "an-t-plain")
    assert rec.path == "/v1/messages"
    assert rec.headers["x-api-key"] == TEST_KEYS["ANTHROPIC_API_KEY"]
    assert rec.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in rec.headers
    assert rec.json == {
        "model": "an-t-plain",
        "max_tokens": 4096,
        "stream": True,
        "system": SYSTEM,
        "messages": [
            {"role": "user", "content": "First?"},
            {"role": "assistant", "content": PLAIN},
            {"role": "user", "content": "Second?"},
        ],
    }


def test_gemini_gets_a_system_instruction_and_the_key_in_a_header(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    converse(site, "gemini:gm-t-plain", "First?", "Second?")
    rec = last_request(fake_upstream, "gm-t-plain")
    assert rec.path == "/v1beta/models/gm-t-plain:streamGenerateContent?alt=sse"
    assert rec.headers["x-goog-api-key"] == TEST_KEYS["GEMINI_API_KEY"]
    assert rec.json == {
        "contents": [
            {"role": "user", "parts": [{"text": "First?"}]},
            {"role": "model", "parts": [{"text": PLAIN}]},
            {"role": "user", "parts": [{"text": "Second?"}]},
        ],
        "systemInstruction": {"parts": [{"text": SYSTEM}]},
        "generationConfig": {"maxOutputTokens": 4096},
    }


def test_without_a_system_prompt_none_is_sent(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    converse(site, "anthropic:an-t-docs", "Hi", system="")
    converse(site, "gemini:gm-t-recorded", "Hi", system="")
    converse(site, "openai:oa-t-recorded", "Hi", system="")
    assert "system" not in last_request(fake_upstream, "an-t-docs").json  # type: ignore[operator]
    assert "systemInstruction" not in last_request(fake_upstream, "gm-t-recorded").json  # type: ignore[operator]
    messages = last_request(fake_upstream, "oa-t-recorded").json["messages"]  # type: ignore[index]
    assert messages == [{"role": "user", "content": "Hi"}]


def test_a_failed_reply_leaves_two_questions_that_anthropic_gets_as_one_turn(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    conv = site.new_conversation("anthropic:an-t-500")
    sent = site.send(conv["id"], "First?")
    site.stream_text(sent["stream_url"])
    r = site.http.patch(f"/api/conversations/{conv['id']}", json={"model": "anthropic:an-t-code"})
    assert r.status_code == 200, r.text
    sent = site.send(conv["id"], "Second?")
    site.stream_text(sent["stream_url"])
    messages = last_request(fake_upstream, "an-t-code").json["messages"]  # type: ignore[index]
    assert messages == [{"role": "user", "content": "First?\n\nSecond?"}]


def test_changing_the_model_mid_conversation_carries_the_history_across_protocols(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    conv = site.new_conversation("openai:oa-t-plain", system_prompt=SYSTEM)
    first = site.send(conv["id"], "First?")
    site.stream_text(first["stream_url"])
    r = site.http.patch(f"/api/conversations/{conv['id']}", json={"model": "gemini:gm-t-code"})
    assert r.status_code == 200, r.text
    second = site.send(conv["id"], "Second?")
    site.stream_text(second["stream_url"])
    messages = site.http.get(f"/api/conversations/{conv['id']}").json()["messages"]
    assert [(m["role"], m["model"], m["content"]) for m in messages] == [
        ("user", "", "First?"),
        ("assistant", "openai:oa-t-plain", PLAIN),
        ("user", "", "Second?"),
        ("assistant", "gemini:gm-t-code", CODE),
    ]
    body = last_request(fake_upstream, "gm-t-code").json
    assert json.dumps(body["contents"], ensure_ascii=False) == json.dumps(  # type: ignore[index]
        [
            {"role": "user", "parts": [{"text": "First?"}]},
            {"role": "model", "parts": [{"text": PLAIN}]},
            {"role": "user", "parts": [{"text": "Second?"}]},
        ],
        ensure_ascii=False,
    )
