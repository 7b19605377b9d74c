"""A streaming reply does not hold its conversation: once a provider has sent the request, the
request's history (and the payload made of it) is let go, so the memory of a reply that
streams for minutes does not grow with the length of the conversation behind it.

Each provider is driven to its first event by a fake upstream that then sends nothing more,
as a model thinking between tokens; at that point nothing but the test refers to the
history's list or to the question's text. A whole generation in that state holds no request
either."""

from __future__ import annotations

import gc
import sys

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from chat.providers import resolve, timeouts
from chat.providers.base import ChatRequest, TextDelta, Turn
from chat.providers.http import close_upstream_session
from chat.replies import store
from chat.replies.feed import local_feed
from chat.replies.generation import spawn
from tests.support.fakes.spark_upstream import SparkUpstream
from tests.support.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "model",
    [
        "openai:oa-idle-timeout",
        "openai-completions:cmp-idle-timeout",
        "anthropic:an-idle-timeout",
        "gemini:gm-idle-timeout",
        "spark:sp-idle-timeout",
        "demo",
    ],
)
async def test_a_provider_lets_the_history_go_once_it_is_sent(
    model: str, fake_upstream: FakeUpstream, spark_upstream: SparkUpstream
) -> None:
    provider, upstream_model, _context = await sync_to_async(resolve)(model)
    question = "".join(["What is 问题 number ", str(id(provider)), "?"])  # made, not interned
    history = [Turn("user", "Hi"), Turn("assistant", "Hello."), Turn("user", question)]
    alone = sys.getrefcount(history), sys.getrefcount(question)
    events = provider.events(ChatRequest(upstream_model, history), timeouts())
    try:
        first = await anext(events)
        assert isinstance(first, TextDelta)  # sent, answered, and now waiting for more
        gc.collect()
        assert (sys.getrefcount(history), sys.getrefcount(question)) == alone
    finally:
        await events.aclose()
        await close_upstream_session()


async def test_a_generation_waiting_on_its_upstream_holds_no_request(live_user: User) -> None:
    conversation = await Conversation.objects.acreate(
        owner=live_user, title="t", model="openai:oa-idle-timeout"
    )
    question = await Message.objects.acreate(
        conversation=conversation, role=Message.Role.USER, content=f"Still there, {live_user.pk}?"
    )
    reply = await sync_to_async(store.new_reply)(conversation, "", question.pk, "OpenAI")
    reply = await Message.objects.select_related("conversation").aget(pk=reply.pk)
    spawn(reply, "")
    feed = local_feed(reply.pk)
    assert feed is not None
    try:
        await feed.wait(0, 10)
        assert feed.text() == "Then"  # the upstream answered and now sends nothing
        gc.collect()
        held = [o for o in gc.get_objects() if type(o) is ChatRequest]  # no lazy object woken
        assert [r for r in held if any(t.content == question.content for t in r.messages)] == []
    finally:
        feed.request_stop()
        await feed.wait_closed(10)
        await close_upstream_session()
