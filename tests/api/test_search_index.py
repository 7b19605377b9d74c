"""SQLite's search index (chat/search.py): only finished messages are indexed, so a reply's
checkpoints, saved every interval while it streams, leave the index alone; an index made by
the earlier triggers (every row, every save) is replaced at the next migrate."""

from __future__ import annotations

import pytest
from django.db import connection

from chat.models import Conversation, Message
from chat.replies import store
from chat.search import FTS_TABLE, ensure_sqlite_index
from tests.support.clients import JsonApi
from tests.support.rows import add_message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's"),
]

# The triggers of the previous release: every row indexed, again at every save of its text.
EARLIER_TRIGGERS = [
    f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON chat_message BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
    f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON chat_message BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF content ON chat_message "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
]


def indexed(word: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [f'"{word}"'])
        return [row[0] for row in cursor.fetchall()]


def assert_index_sound() -> None:
    """FTS5's own check of the index against chat_message: a `delete` of text that was never
    indexed, or a row indexed twice, fails it."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')")


def streaming_reply(conversation: Conversation, text: str) -> Message:
    add_message(conversation, role="user", content="Tell me about sea animals")
    return add_message(conversation, role="assistant", content=text, status="streaming")


def finish(reply: Message, text: str) -> None:
    Message.objects.filter(pk=reply.pk).update(content=text, status=Message.Status.COMPLETE)


def test_a_reply_is_indexed_once_it_has_ended_not_at_each_checkpoint(
    api: JsonApi, conversation: Conversation
) -> None:
    reply = streaming_reply(conversation, "")
    assert store.checkpoint(reply.pk, "partial walrus", "", 1)
    assert store.checkpoint(reply.pk, "partial walrus and narwhal", "", 2)

    assert indexed("walrus") == [] and indexed("narwhal") == []
    # Still found while it streams: it is among the user's newest messages.
    results = api.get("/api/search?q=narwhal").json()["results"]
    assert [r["message"] for r in results] == [reply.pk]

    finish(reply, "In the end: narwhals.")

    assert indexed("narwhal") == [reply.pk]
    assert indexed("walrus") == []
    assert_index_sound()


def test_deleting_a_streaming_reply_leaves_the_index_sound(conversation: Conversation) -> None:
    done = add_message(conversation, role="assistant", content="a finished puffin")
    streaming_reply(conversation, "a streaming puffin")

    conversation.delete()

    assert indexed("puffin") == []
    assert not Message.objects.filter(pk=done.pk).exists()
    assert_index_sound()


def test_an_index_made_by_the_earlier_triggers_is_replaced(
    api: JsonApi, conversation: Conversation
) -> None:
    with connection.cursor() as cursor:
        for suffix in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER {FTS_TABLE}_{suffix}")
        for sql in EARLIER_TRIGGERS:
            cursor.execute(sql)
    done = add_message(conversation, role="assistant", content="an old seal story")
    reply = streaming_reply(conversation, "a half-told seal story")
    assert indexed("seal") == [done.pk, reply.pk]  # the earlier triggers index every row

    assert ensure_sqlite_index(connection)

    assert indexed("seal") == [done.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE %s AND sql LIKE %s ORDER BY name",
            [f"{FTS_TABLE}_a%", "%streaming%"],
        )
        assert [row[0] for row in cursor.fetchall()] == [
            f"{FTS_TABLE}_ad",
            f"{FTS_TABLE}_ai",
            f"{FTS_TABLE}_au",
        ]
    finish(reply, "The whole sea lion story.")
    assert indexed("lion") == [reply.pk]
    assert indexed("half-told") == []
    assert_index_sound()
    results = api.get("/api/search?q=story").json()["results"]
    assert [r["message"] for r in results] == [reply.pk, done.pk]


def test_another_users_streaming_reply_is_not_found(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation
) -> None:
    theirs = streaming_reply(other_conversation, "their secret narwhal")
    mine = add_message(conversation, role="assistant", content="my narwhal")

    results = api.get("/api/search?q=narwhal").json()["results"]

    assert [r["message"] for r in results] == [mine.pk]
    finish(theirs, "their secret narwhal, finished")
    results = api.get("/api/search?q=narwhal").json()["results"]
    assert [r["message"] for r in results] == [mine.pk]


def test_a_reply_whose_process_died_is_indexed_when_the_sweeper_ends_it(
    conversation: Conversation,
) -> None:
    reply = streaming_reply(conversation, "")
    assert store.checkpoint(reply.pk, "the last checkpoint about a dugong", "", 3)
    assert indexed("dugong") == []

    # What the sweeper does with a reply whose generation is gone (chat/replies/sweeper.py).
    unfinished = store.unfinished_reply(reply.pk)
    assert unfinished is not None
    store.end_unfinished(unfinished, Message.Status.INTERRUPTED, "interrupted")

    assert indexed("dugong") == [reply.pk]
    assert_index_sound()
