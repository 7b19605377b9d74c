"""Messages become a tree: each has a parent, each conversation a current branch.

Until now a conversation was a list; a retry kept the reply it replaced with `superseded`
set. Here the list becomes a chain (each message's parent is the visible message before it)
and each superseded reply becomes an earlier sibling of its retry (its parent is the visible
message it answered). The last visible message is the current leaf. No row is deleted.
"""

import django.db.models.deletion
from django.db import migrations, models


def build_tree(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    for conv_id in Conversation.objects.values_list("pk", flat=True).iterator(chunk_size=2000):
        rows = Message.objects.filter(conversation_id=conv_id).order_by("created_at", "id")
        tail = None  # the last visible message so far
        parents: dict[int | None, list[int]] = {}
        for pk, superseded in rows.values_list("pk", "superseded"):
            parents.setdefault(tail, []).append(pk)
            if not superseded:
                tail = pk
        for parent, ids in parents.items():
            Message.objects.filter(pk__in=ids).update(parent_id=parent)
        Conversation.objects.filter(pk=conv_id).update(current_id=tail)


def flatten_tree(apps, schema_editor):
    """Back to a list: what is off the current branch becomes superseded."""
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    for conv_id, leaf in Conversation.objects.values_list("pk", "current_id").iterator():
        parent_of = dict(
            Message.objects.filter(conversation_id=conv_id).values_list("pk", "parent_id")
        )
        branch = set()
        while leaf is not None:
            branch.add(leaf)
            leaf = parent_of.get(leaf)
        Message.objects.filter(conversation_id=conv_id).exclude(pk__in=branch).update(
            superseded=True
        )


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_usage_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="children",
                to="chat.message",
                verbose_name="parent",
            ),
        ),
        migrations.AddField(
            model_name="conversation",
            name="current",
            field=models.ForeignKey(
                blank=True,
                help_text="The last message of the branch shown; the branch runs up to the root.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="chat.message",
                verbose_name="current message",
            ),
        ),
        migrations.RunPython(build_tree, flatten_tree, elidable=False),
        migrations.RemoveField(
            model_name="message",
            name="superseded",
        ),
    ]
