"""Search of a user's own conversations: titles and the text of every message, every branch.

Matching is by substring, any case, so that Chinese (which has no spaces for a word splitter
to use; PostgreSQL's full-text parser keeps a whole run of CJK as one word) is found like
any other text.
- PostgreSQL: `ILIKE` served by trigram GIN indexes (pg_trgm; migration 0007).
- SQLite: an FTS5 table with the trigram tokenizer, kept in step with chat_message by
  triggers (`ensure_sqlite_index`, run after every migrate, since SQLite's table rebuilds in
  later migrations drop triggers). The trigram tokenizer needs three characters: shorter
  queries (a two-character Chinese word) scan with `LIKE`, as does every query on an SQLite
  built without FTS5.
Results: on the first page the matching titles, then matching messages newest first, a page
at a time (`next` is the id to continue below).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import Conversation, Message
from chat.render import snippet_html

PAGE_SIZE = 20
TITLE_RESULTS = 10
MAX_QUERY = 200
FTS_TABLE = "chat_message_fts"

_SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "content, content='chat_message', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON chat_message BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON chat_message BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF content ON chat_message "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
]


def ensure_sqlite_index(conn: BaseDatabaseWrapper) -> bool:
    """Create the FTS5 table and its triggers where missing, and fill the table when any of
    them was missing (a new database, or a table rebuilt by a migration). False where this
    SQLite has no FTS5 or no trigram tokenizer: search then scans."""
    if conn.vendor != "sqlite":
        return False
    names = [FTS_TABLE, f"{FTS_TABLE}_ai", f"{FTS_TABLE}_ad", f"{FTS_TABLE}_au"]
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name IN (%s, %s, %s, %s)", names)
        present = cursor.fetchone()[0]
        try:
            for statement in _SQLITE_FTS:
                cursor.execute(statement)
        except Exception:  # no FTS5 in this SQLite, or a version without `trigram`
            return False
        if present < len(names):  # the table or a trigger was new
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return True


def _has_fts() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [f"{FTS_TABLE}_au"])
        return cursor.fetchone() is not None


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _message_ids(user_id: int, query: str, before: int | None, limit: int) -> list[int]:
    below = before if before is not None else 2**62
    if connection.vendor == "postgresql":
        sql = (
            "SELECT m.id FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id"
            " WHERE c.owner_id = %s AND m.id < %s AND m.content ILIKE %s"
            " ORDER BY m.id DESC LIMIT %s"
        )
        params: list[Any] = [user_id, below, _like(query), limit]
    elif len(query) >= 3 and _has_fts():
        phrase = '"' + query.replace('"', '""') + '"'
        sql = (
            f"SELECT f.rowid FROM {FTS_TABLE} f"
            " JOIN chat_message m ON m.id = f.rowid"
            " JOIN chat_conversation c ON c.id = m.conversation_id"
            f" WHERE {FTS_TABLE} MATCH %s AND c.owner_id = %s AND f.rowid < %s"
            " ORDER BY f.rowid DESC LIMIT %s"
        )
        params = [phrase, user_id, below, limit]
    else:
        sql = (
            "SELECT m.id FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id"
            " WHERE c.owner_id = %s AND m.id < %s AND m.content LIKE %s ESCAPE '\\'"
            " ORDER BY m.id DESC LIMIT %s"
        )
        params = [user_id, below, _like(query), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ApiError(_("The cursor is not valid."))
    return int(raw)


def search(user: Any, query: str, cursor: str | None) -> dict[str, object]:
    """The user's titles and messages that hold `query`, with snippets (chat.render)."""
    query = " ".join(query.split())
    if not query:
        raise ApiError(_("Type something to search for."))
    if len(query) > MAX_QUERY:
        raise ApiError(
            _("The search is too long: at most %(limit)d characters.") % {"limit": MAX_QUERY}
        )
    before = _cursor(cursor)
    results: list[dict[str, object]] = []
    if before is None:
        titles = (
            Conversation.objects.for_user(user)
            .filter(title__icontains=query)
            .values_list("id", "title")[:TITLE_RESULTS]
        )
        results += [
            {
                "conversation": {"id": pk, "title": title},
                "message": None,
                "snippet": snippet_html(title, query),
            }
            for pk, title in titles
        ]
    ids = _message_ids(user.pk, query, before, PAGE_SIZE + 1)
    more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    rows = (
        Message.objects.filter(pk__in=ids)
        .select_related("conversation")
        .only("id", "content", "conversation__id", "conversation__title")
    )
    by_id = {m.pk: m for m in rows}
    results += [
        {
            "conversation": {"id": m.conversation_id, "title": m.conversation.title},
            "message": m.pk,
            "snippet": snippet_html(m.content, query),
        }
        for m in (by_id[pk] for pk in ids if pk in by_id)
    ]
    return {"results": results, "next": str(ids[-1]) if more else None}
