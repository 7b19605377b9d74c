"""Search of a user's own conversations: titles and the text of every message, every branch.

Matching is by substring, any case, so that Chinese (which has no spaces for a word splitter
to use; PostgreSQL's full-text parser keeps a whole run of CJK as one word) is found like
any other text.
- PostgreSQL: `ILIKE` served by trigram GIN indexes (pg_trgm; migrations 0007 and 0013),
  the one of message text over finished messages only.
- SQLite: an FTS5 table with the trigram tokenizer over finished messages, kept in step with
  chat_message by triggers (`ensure_sqlite_index`, run after every migrate, since SQLite's
  table rebuilds in later migrations drop triggers). The trigram tokenizer needs three
  characters: shorter queries (a two-character Chinese word) scan with `LIKE`, as does every
  query on an SQLite built without FTS5.
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

# Only a finished message's text is indexed, on both databases: a reply's partial text is
# saved every checkpoint while it streams, and indexing each of those saves would tokenize the
# whole text again each time. An unfinished reply is among the user's newest messages, which
# the search reads directly (`_PG_RECENT`, `_SQLITE_RECENT`) whatever the index holds. (The
# same condition as migration 0013's index, which PostgreSQL uses only for a query that
# states it.)
_INDEXED = "status NOT IN ('pending', 'streaming')"
_SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "content, content='chat_message', content_rowid='id', tokenize='trigram')"
)
# As SQLite keeps them in sqlite_master, so that an earlier version's trigger is told apart.
_SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_ai": f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON chat_message"
    f" WHEN new.{_INDEXED} BEGIN"
    f" INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END",
    f"{FTS_TABLE}_ad": f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON chat_message"
    f" WHEN old.{_INDEXED} BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content)"
    " VALUES ('delete', old.id, old.content); END",
    f"{FTS_TABLE}_au": f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF content, status"
    " ON chat_message BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content)"
    f" SELECT 'delete', old.id, old.content WHERE old.{_INDEXED};"
    f" INSERT INTO {FTS_TABLE}(rowid, content) SELECT new.id, new.content"
    f" WHERE new.{_INDEXED}; END",
}


def ensure_sqlite_index(conn: BaseDatabaseWrapper) -> bool:
    """Create the FTS5 table and its triggers where missing (or of an earlier version), and
    fill the table when any of them was new (a new database, a table rebuilt by a migration,
    an upgrade). False where this SQLite has no FTS5 or no trigram tokenizer: search then
    scans."""
    if conn.vendor != "sqlite":
        return False
    names = [FTS_TABLE, *_SQLITE_TRIGGERS]
    with conn.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE name IN (%s, %s, %s, %s)", names)
        present = dict(cursor.fetchall())
        made = [name for name, sql in _SQLITE_TRIGGERS.items() if present.get(name) != sql]
        try:
            cursor.execute(_SQLITE_TABLE)
            for name in made:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(_SQLITE_TRIGGERS[name])
        except Exception:  # no FTS5 in this SQLite, or a version without `trigram`
            return False
        if FTS_TABLE not in present or made:
            # The table's index out of step with its rows: made again from every row, then
            # without the unfinished ones.
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            cursor.execute(
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content)"
                f" SELECT 'delete', id, content FROM chat_message WHERE NOT ({_INDEXED})"
            )
    return True


def _has_fts() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [f"{FTS_TABLE}_au"])
        return cursor.fetchone() is not None


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# PostgreSQL, in two steps. First the ids of the user's newest RECENT messages come from an
# index alone (msg_thread holds conversation and id), and only those rows are read and
# filtered: a common word fills a page there at once, where the trigram index would hand back
# half the table. If that gives less than a page, the word is rarer: the trigram index finds
# its rows (finished ones) in the whole table, the owner filters them, and they are merged
# with the first step's. A query under three characters has no trigram, and scans the user's
# messages instead. (Measured in bench/search.py.)
RECENT = 500
_USERS_MESSAGES = (
    "m.conversation_id = ANY(ARRAY(SELECT id FROM chat_conversation WHERE owner_id = %s))"
)
_PG_RECENT = (
    "WITH recent AS MATERIALIZED (SELECT m.id FROM chat_message m"
    f" WHERE {_USERS_MESSAGES} AND m.id < %s ORDER BY m.id DESC LIMIT {RECENT})"
    " SELECT m.id FROM chat_message m JOIN recent r ON r.id = m.id"
    " WHERE m.content ILIKE %s ORDER BY m.id DESC LIMIT %s"
)
_PG_RARE = (
    "WITH hits AS MATERIALIZED (SELECT id, conversation_id FROM chat_message"
    f" WHERE content ILIKE %s AND id < %s AND {_INDEXED})"
    " SELECT h.id FROM hits h JOIN chat_conversation c ON c.id = h.conversation_id"
    " WHERE c.owner_id = %s ORDER BY h.id DESC LIMIT %s"
)
_PG_SHORT = (
    f"SELECT m.id FROM chat_message m WHERE {_USERS_MESSAGES} AND m.id < %s"
    " AND m.content ILIKE %s ORDER BY m.id DESC LIMIT %s"
)


def _fetch(sql: str, params: list[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _merged(recent: list[int], indexed: list[int], limit: int) -> list[int]:
    """The newest of both: the index holds finished messages, and an unfinished reply is among
    the newest, which `recent` read directly."""
    return sorted({*recent, *indexed}, reverse=True)[:limit]


def _message_ids(user_id: int, query: str, before: int | None, limit: int) -> list[int]:
    below = before if before is not None else 2**62
    pattern = _like(query)
    if connection.vendor == "postgresql":
        found = _fetch(_PG_RECENT, [user_id, below, pattern, limit])
        if len(found) == limit:
            return found
        if len(query) >= 3:
            return _merged(found, _fetch(_PG_RARE, [pattern, below, user_id, limit]), limit)
        return _fetch(_PG_SHORT, [user_id, below, pattern, limit])
    if len(query) >= 3 and _has_fts():
        # As on PostgreSQL, a common word is found among the newest messages first (FTS5
        # would read the whole of its long posting lists).
        found = _fetch(_SQLITE_RECENT, [user_id, below, pattern, limit])
        if len(found) == limit:
            return found
        phrase = '"' + query.replace('"', '""') + '"'
        # The index holds finished messages; an unfinished reply, among the newest, is found.
        return _merged(found, _fetch(_SQLITE_FTS_MATCH, [phrase, user_id, below, limit]), limit)
    return _fetch(_SQLITE_SCAN, [user_id, below, pattern, limit])


_SQLITE_RECENT = (
    "SELECT m.id FROM (SELECT r.id FROM chat_message r"
    " JOIN chat_conversation c ON c.id = r.conversation_id"
    f" WHERE c.owner_id = %s AND r.id < %s ORDER BY r.id DESC LIMIT {RECENT}) recent"
    " JOIN chat_message m ON m.id = recent.id"
    " WHERE m.content LIKE %s ESCAPE '\\' ORDER BY m.id DESC LIMIT %s"
)
_SQLITE_FTS_MATCH = (
    f"SELECT f.rowid FROM {FTS_TABLE} f"
    " JOIN chat_message m ON m.id = f.rowid"
    " JOIN chat_conversation c ON c.id = m.conversation_id"
    f" WHERE {FTS_TABLE} MATCH %s AND c.owner_id = %s AND f.rowid < %s"
    " ORDER BY f.rowid DESC LIMIT %s"
)
_SQLITE_SCAN = (
    "SELECT m.id FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id"
    " WHERE c.owner_id = %s AND m.id < %s AND m.content LIKE %s ESCAPE '\\'"
    " ORDER BY m.id DESC LIMIT %s"
)


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
