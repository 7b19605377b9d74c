"""Search on PostgreSQL: the trigram index of message text holds finished messages only, as
SQLite's FTS5 table does (chat/search.py). A streaming reply's partial text is saved at every
checkpoint, and the full index made PostgreSQL take the trigrams of its whole text again each
time (about 0.29 ms more of its CPU per checkpoint of a few KB, BENCHMARKS.md); an unfinished
reply is among the user's newest messages, which the search reads directly.

Built CONCURRENTLY (hence not atomic), so that writes go on while a large table is indexed;
the old index is dropped once the new one is ready. A build that failed (cancelled, say)
leaves an invalid index behind, which `IF NOT EXISTS` would take for done: it is dropped and
built again."""

from django.db import migrations

FINISHED = "status NOT IN ('pending', 'streaming')"


def build(schema_editor, name, condition):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    if row is not None and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON chat_message "
        f"USING gin (content gin_trgm_ops){condition}"
    )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    build(schema_editor, "msg_content_trgm_finished", f" WHERE {FINISHED}")
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS msg_content_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    build(schema_editor, "msg_content_trgm", "")
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS msg_content_trgm_finished")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("chat", "0012_error_kind_length"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
