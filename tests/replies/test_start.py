"""What a generation sends upstream is made in the transaction that creates its reply, from
the rows at hand (chat/replies/start.py); when that fails, the generation tries again and the
reply ends with the failure, as any reply does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Conversation, Message
from chat.providers import provider_label
from chat.replies import store
from chat.replies.start import prepare, prepare_early
from chat.tree import Tree
from tests.support.rows import add_message, finished_exchange

pytestmark = pytest.mark.django_db


def a_reply(conversation: Conversation) -> tuple[Message, Tree]:
    finished_exchange(conversation, "one")
    question = add_message(conversation, role="user", content="And two?")
    label = provider_label(conversation.model)
    reply = store.new_reply(conversation, "", question.pk, label)
    return reply, Tree.of(conversation.pk)


def test_with_the_tree_at_hand_only_the_branchs_rows_are_read(
    conversation: Conversation,
) -> None:
    reply, tree = a_reply(conversation)
    with CaptureQueriesContext(connection) as queries:
        provider, request = prepare(reply, tree)
    assert len(queries) == 1  # the branch's messages; the tree and the model need none
    assert [(t.role, t.content) for t in request.messages] == [
        ("user", "Hi"),
        ("assistant", "one"),
        ("user", "And two?"),
    ]
    assert request.model == "demo" and type(provider).__name__ == "DemoProvider"
    assert prepare(Message.objects.get(pk=reply.pk))[1] == request  # as the generation makes it


def test_a_model_no_longer_served_is_left_to_the_generation(conversation: Conversation) -> None:
    reply, tree = a_reply(conversation)
    Message.objects.filter(pk=reply.pk).update(model="openai:gone")
    assert prepare_early(Message.objects.get(pk=reply.pk), tree) is None
