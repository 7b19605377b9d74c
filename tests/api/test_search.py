"""GET /api/search: titles and message text, the user's own only, Chinese included, escaped
snippets with the match highlighted, pages, refusals; and the index behind it (FTS5 on
SQLite, trigram indexes on PostgreSQL: this file runs on both)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from chat.models import Conversation, Message
from chat.search import FTS_TABLE, ensure_sqlite_index
from tests.support.clients import JsonApi
from tests.support.rows import add_message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def found(api: JsonApi, q: str, cursor: str | None = None) -> dict[str, object]:
    params = f"?q={q}" + (f"&cursor={cursor}" if cursor else "")
    response = api.get(f"/api/search{params}")
    assert response.status_code == 200, response.json()
    result: dict[str, object] = response.json()
    return result


def test_titles_and_messages_are_found_with_a_highlighted_escaped_snippet(
    api: JsonApi, conversation: Conversation
) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(title="Kiwi plans")
    question = add_message(conversation, role="user", content="Where do kiwis live?")
    answer = add_message(
        conversation, role="assistant", content="<script>x</script> In New Zealand, KIWIS live."
    )

    body = found(api, "kiwi")

    assert body["next"] is None
    assert body["results"] == [
        {
            "conversation": {"id": conversation.pk, "title": "Kiwi plans"},
            "message": None,
            "snippet": "<mark>Kiwi</mark> plans",
        },
        {
            "conversation": {"id": conversation.pk, "title": "Kiwi plans"},
            "message": answer.pk,
            "snippet": "&lt;script&gt;x&lt;/script&gt; In New Zealand, <mark>KIWI</mark>S live.",
        },
        {
            "conversation": {"id": conversation.pk, "title": "Kiwi plans"},
            "message": question.pk,
            "snippet": "Where do <mark>kiwi</mark>s live?",
        },
    ]


@pytest.mark.parametrize("q", ["中文", "中文搜索", "搜索功能"])
def test_chinese_is_found_by_any_part_of_a_word(
    api: JsonApi, conversation: Conversation, q: str
) -> None:
    message = add_message(conversation, role="assistant", content="这是一个中文搜索功能的测试。")
    add_message(conversation, role="user", content="English only")

    results = found(api, q)["results"]

    assert isinstance(results, list)
    assert [r["message"] for r in results] == [message.pk]
    assert f"<mark>{q}</mark>" in results[0]["snippet"]


def test_only_the_users_own_conversations_are_searched(
    api: JsonApi, conversation: Conversation, other_conversation: Conversation
) -> None:
    add_message(other_conversation, role="user", content="secret walrus")
    Conversation.objects.filter(pk=other_conversation.pk).update(title="walrus")
    mine = add_message(conversation, role="user", content="my walrus")

    results = found(api, "walrus")["results"]

    assert isinstance(results, list)
    assert [r["message"] for r in results] == [mine.pk]


def test_an_edited_text_is_found_by_its_new_words_only(
    api: JsonApi, conversation: Conversation
) -> None:
    reply = add_message(conversation, role="assistant", content="partial text", status="streaming")
    Message.objects.filter(pk=reply.pk).update(content="final answer about otters")

    assert found(api, "partial")["results"] == []
    otters = found(api, "otters")["results"]
    assert isinstance(otters, list) and [r["message"] for r in otters] == [reply.pk]


def test_results_come_a_page_at_a_time(api: JsonApi, conversation: Conversation) -> None:
    made = [add_message(conversation, role="user", content=f"note {n} pelican") for n in range(25)]

    first = found(api, "pelican")
    second = found(api, "pelican", str(first["next"]))

    assert isinstance(first["results"], list) and isinstance(second["results"], list)
    ids = [r["message"] for r in first["results"] + second["results"]]
    assert ids == [m.pk for m in reversed(made)]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("", "Type something to search for."),
        ("?q=%20%20", "Type something to search for."),
        ("?q=" + "x" * 201, "The search is too long: at most 200 characters."),
        ("?q=x&cursor=abc", "The cursor is not valid."),
    ],
)
def test_bad_searches_are_refused(api: JsonApi, params: str, message: str) -> None:
    response = api.get(f"/api/search{params}")
    assert (response.status_code, response.json()) == (400, {"error": message})


def test_search_refuses_anonymous_users_and_post(api: JsonApi, anonymous_api: JsonApi) -> None:
    assert anonymous_api.get("/api/search?q=x").status_code == 401
    assert api.post("/api/search?q=x").status_code == 405


def test_the_search_is_served_by_an_index(user: User) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE %s OR indexname LIKE %s",
                ["msg_content_trgm%", "conv_title_trgm%"],
            )
            assert sorted(r[0] for r in cursor.fetchall()) == [
                "conv_title_trgm",
                "msg_content_trgm_finished",
            ]
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT id FROM chat_message WHERE content ILIKE %s"
                " AND status NOT IN ('pending', 'streaming')",
                ["%中文搜索%"],
            )
            assert "msg_content_trgm_finished" in " ".join(r[0] for r in cursor.fetchall())
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE %s ORDER BY name",
                [f"{FTS_TABLE}_a%"],
            )
            assert [r[0] for r in cursor.fetchall()] == [
                f"{FTS_TABLE}_ad",
                f"{FTS_TABLE}_ai",
                f"{FTS_TABLE}_au",
            ]


def test_search_works_without_the_sqlite_index_and_the_index_comes_back(
    api: JsonApi, conversation: Conversation
) -> None:
    """An SQLite built without FTS5 (or a table rebuilt by a migration) scans instead; the
    next migrate makes the table and its triggers again and refills it."""
    message = add_message(conversation, role="user", content="Where is the lighthouse?")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for trigger in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER {FTS_TABLE}_{trigger}")
            cursor.execute(f"DROP TABLE {FTS_TABLE}")
    later = add_message(conversation, role="assistant", content="The lighthouse is north.")

    results = found(api, "lighthouse")["results"]
    assert isinstance(results, list)
    assert [r["message"] for r in results] == [later.pk, message.pk]

    assert ensure_sqlite_index(connection) is (connection.vendor == "sqlite")
    results = found(api, "LIGHTHOUSE")["results"]
    assert isinstance(results, list)
    assert [r["message"] for r in results] == [later.pk, message.pk]
