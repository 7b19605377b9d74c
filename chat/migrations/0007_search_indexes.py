"""Search (chat/search.py): on PostgreSQL, trigram indexes for substring search of message
text and titles (pg_trgm), which also serve Chinese. SQLite's FTS5 table is made after every
migrate instead (chat/apps.py), since its triggers do not survive a table rebuild."""

from django.db import migrations

INDEXES = [
    "CREATE INDEX IF NOT EXISTS msg_content_trgm ON chat_message "
    "USING gin (content gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS conv_title_trgm ON chat_conversation "
    "USING gin (title gin_trgm_ops)",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for statement in INDEXES:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS msg_content_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS conv_title_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_user_events"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
