"""Migration 0004 turns each conversation's list of messages into a tree: the visible
messages become a chain, a reply replaced by a retry (`superseded`) an earlier sibling of
that retry, the last visible message the current leaf; and no message is lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("chat", "0003_usage_ledger")]
AFTER = [("chat", "0004_message_tree")]


@pytest.fixture
def old_schema() -> Iterator[Any]:
    """The models as they were before the tree (the apps of migration 0003); the database
    is migrated back to the latest schema afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate_to_tree() -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    return executor.loader.project_state(AFTER).apps


def test_a_retried_reply_becomes_an_earlier_sibling_and_nothing_is_lost(old_schema: Any) -> None:
    User = old_schema.get_model("auth", "User")
    Conversation = old_schema.get_model("chat", "Conversation")
    Message = old_schema.get_model("chat", "Message")
    owner = User.objects.create(username="old-timer")
    conv = Conversation.objects.create(owner=owner, model="demo")
    empty = Conversation.objects.create(owner=owner, model="demo")

    def add(role: str, content: str, superseded: bool = False) -> int:
        msg = Message.objects.create(
            conversation=conv, role=role, content=content, superseded=superseded
        )
        return int(msg.pk)

    q1 = add("user", "Hi")
    failed = add("assistant", "", superseded=True)
    stopped = add("assistant", "Hal", superseded=True)
    r1 = add("assistant", "Hello")
    q2 = add("user", "More")
    r2 = add("assistant", "Sure")

    apps = migrate_to_tree()

    Message = apps.get_model("chat", "Message")
    Conversation = apps.get_model("chat", "Conversation")
    parents = dict(Message.objects.values_list("pk", "parent_id"))
    assert parents == {q1: None, failed: q1, stopped: q1, r1: q1, q2: r1, r2: q2}
    assert Conversation.objects.get(pk=conv.pk).current_id == r2
    assert Conversation.objects.get(pk=empty.pk).current_id is None
    assert Message.objects.get(pk=stopped).content == "Hal"


def test_the_tree_flattens_back_to_a_list(old_schema: Any) -> None:
    User = old_schema.get_model("auth", "User")
    Conversation = old_schema.get_model("chat", "Conversation")
    Message = old_schema.get_model("chat", "Message")
    owner = User.objects.create(username="old-timer")
    conv = Conversation.objects.create(owner=owner, model="demo")
    q1 = Message.objects.create(conversation=conv, role="user", content="Hi")
    first = Message.objects.create(conversation=conv, role="assistant", superseded=True)
    second = Message.objects.create(conversation=conv, role="assistant", content="Hello")
    migrate_to_tree()

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)

    Message = executor.loader.project_state(BEFORE).apps.get_model("chat", "Message")
    assert dict(Message.objects.values_list("pk", "superseded")) == {
        q1.pk: False,
        first.pk: True,
        second.pk: False,
    }
