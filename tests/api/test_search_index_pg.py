"""PostgreSQL's trigram index of message text holds finished messages only (migration 0013),
so that a reply's checkpoints, saved every interval while it streams, do not make PostgreSQL
take the trigrams of its whole text again each time. The search still finds a streaming reply
(among the user's newest messages, read directly), an older finished message (through the
index), and never another user's; an upgraded database loses the old index."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chat.models import Conversation, Message
from chat.replies import store
from chat.search import _PG_RARE, RECENT
from tests.support.clients import JsonApi
from tests.support.rows import add_message

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram indexes are PostgreSQL's"
)

CONDITION = "WHERE ((status)::text <> ALL ((ARRAY['pending'::character varying, 'streaming'"


def message_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'msg_content_trgm%'"
        )
        return dict(cursor.fetchall())


def found(api: JsonApi, q: str) -> list[int]:
    response = api.get(f"/api/search?q={q}")
    assert response.status_code == 200, response.json()
    return [r["message"] for r in response.json()["results"]]


@pytest.mark.django_db
def test_the_index_holds_finished_messages_and_the_search_uses_it(
    conversation: Conversation,
) -> None:
    indexes = message_indexes()
    assert list(indexes) == ["msg_content_trgm_finished"]
    assert CONDITION in indexes["msg_content_trgm_finished"]
    Message.objects.bulk_create(
        Message(conversation=conversation, role="user", content=f"message {n} about fish")
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        # A table of some size as the planner sees it, the rows in the index proper (as
        # autovacuum leaves them) rather than in its list of pending entries.
        cursor.execute("SELECT gin_clean_pending_list('msg_content_trgm_finished'::regclass)")
        cursor.execute("ANALYZE chat_message")
        cursor.execute(f"EXPLAIN {_PG_RARE}", ["%walrus%", 2**62, 1, 21])
        plan = "\n".join(r[0] for r in cursor.fetchall())
        assert "msg_content_trgm_finished" in plan, plan


@pytest.mark.django_db
def test_a_streaming_reply_is_found_and_so_is_an_older_finished_message(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation
) -> None:
    old = add_message(conversation, role="assistant", content="an old narwhal tale")
    Message.objects.bulk_create(
        Message(conversation=conversation, role="user", content=f"filler {n}")
        for n in range(RECENT)
    )
    add_message(conversation, role="user", content="Tell me about sea animals")
    reply = add_message(conversation, role="assistant", content="", status="streaming")
    assert store.checkpoint(reply.pk, "a partial narwhal", "", 1)
    theirs = add_message(other_conversation, role="assistant", content="their narwhal")
    add_message(other_conversation, role="assistant", content="their narwhal", status="streaming")

    # The streaming reply is among the newest (read directly); the old one is beyond them.
    assert found(api, "narwhal") == [reply.pk, old.pk]

    Message.objects.filter(pk=reply.pk).update(status=Message.Status.COMPLETE)
    assert found(api, "NARWHAL") == [reply.pk, old.pk]
    assert theirs.pk not in found(api, "their")


@pytest.mark.django_db(transaction=True)
def test_an_upgraded_database_has_the_new_index_instead_of_the_old() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("chat", "0012_error_kind_length")])
    assert list(message_indexes()) == ["msg_content_trgm"]  # every row, every save

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("chat"))

    assert list(message_indexes()) == ["msg_content_trgm_finished"]


@pytest.mark.django_db(transaction=True)
def test_an_index_left_invalid_by_a_failed_build_is_built_again() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("chat", "0012_error_kind_length")])
    with connection.cursor() as cursor:
        # What a cancelled CREATE INDEX CONCURRENTLY leaves: the index, marked invalid.
        cursor.execute(
            "CREATE INDEX msg_content_trgm_finished ON chat_message"
            " USING gin (content gin_trgm_ops)"
        )
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
            "'msg_content_trgm_finished'::regclass"
        )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("chat"))

    assert list(message_indexes()) == ["msg_content_trgm_finished"]
    assert CONDITION in message_indexes()["msg_content_trgm_finished"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = "
            "'msg_content_trgm_finished'::regclass"
        )
        assert cursor.fetchone() == (True,)
