"""A conversation longer than its model's context, through daphne, against a fake upstream
that refuses over a limit: with the model's context size set, the oldest turns are left out
and the reply succeeds, saying where what was sent begins; without it the upstream's refusal
becomes a clear message that suggests a new conversation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from chat.context import PER_MESSAGE, estimate_tokens
from chat.models import Conversation, Message
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.openai_scenarios import SMALL_CONTEXT_CHARS
from tests.support.fakes.upstream import FakeUpstream
from tests.support.rows import add_message

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "openai:oa-small-context"


def long_conversation(user: User, exchanges: int = 10) -> tuple[Conversation, list[Message]]:
    """`exchanges` questions and answers of 400 characters each: 8,000 characters, more
    than the fake model takes."""
    conv = Conversation.objects.create(owner=user, model=MODEL, system_prompt="Be brief.")
    rows = []
    for n in range(exchanges):
        rows.append(add_message(conv, role="user", content=f"Question {n} ".ljust(400, "q")))
        rows.append(
            add_message(conv, role="assistant", content=f"Answer {n} ".ljust(400, "a"), model=MODEL)
        )
    return conv, rows


def ask(client: SiteClient, conv: Conversation, content: str) -> dict[str, object]:
    sent = client.send(conv.pk, content)
    events = list(client.events(str(sent["stream_url"])))
    assert events[-1].event == "end"
    return {"sent": sent, "end": events[-1].data}


def test_over_its_context_the_upstreams_refusal_suggests_a_new_conversation(
    site: SiteClient, live_user: User, fake_upstream: FakeUpstream
) -> None:
    conv, _rows = long_conversation(live_user)

    end = ask(site, conv, "And now?")["end"]

    assert isinstance(end, dict)
    assert (end["status"], end["error_kind"], end["retryable"]) == (
        "error",
        "context_length",
        False,
    )
    assert str(end["error"]).startswith(
        "OpenAI refused the conversation as longer than the model's context; "
        "start a new conversation (HTTP 400): This model's maximum context length"
    )
    page = site.http.get(f"/c/{conv.pk}/").text
    assert "This conversation is now longer than the model can read at once." in page
    sent = fake_upstream.requests_for("oa-small-context")[-1].json
    assert isinstance(sent, dict) and len(sent["messages"]) == 22


def test_with_its_context_size_set_the_oldest_turns_are_left_out(
    start_site: Callable[..., Daphne], live_user: User, fake_upstream: FakeUpstream
) -> None:
    site = start_site(CHAT_CONTEXT_TOKENS=f"{MODEL}=1000")
    client = SiteClient(site.url, login_session(live_user))
    conv, rows = long_conversation(live_user)

    result = ask(client, conv, "And now?")
    client.close()

    end = result["end"]
    assert isinstance(end, dict) and end["status"] == "complete", end
    sent = fake_upstream.requests_for("oa-small-context")[-1].json
    assert isinstance(sent, dict)
    turns = sent["messages"]
    assert turns[0] == {"role": "system", "content": "Be brief."}
    assert turns[1]["role"] == "user" and turns[-1] == {"role": "user", "content": "And now?"}
    assert sum(len(t["content"]) for t in turns) <= SMALL_CONTEXT_CHARS
    first_sent = next(m for m in rows if m.content == turns[1]["content"])
    assert first_sent.pk > rows[0].pk  # the oldest were left out
    assert end["context_from"] == first_sent.pk
    reply = Message.objects.get(pk=result["sent"]["reply"]["id"])  # type: ignore[index]
    assert reply.context_from == first_sent.pk
    # What was sent fits the model's size by the site's count (the upstream reports no usage).
    assert sum(estimate_tokens(t["content"]) + PER_MESSAGE for t in turns) <= 1000
    assert reply.input_tokens is None
    page = client_page(site, live_user, conv)
    assert f'data-context-from="{first_sent.pk}"' in page


def client_page(site: Daphne, user: User, conv: Conversation) -> str:
    client = SiteClient(site.url, login_session(user))
    try:
        return client.http.get(f"/c/{conv.pk}/").text
    finally:
        client.close()
